"""translations: a document's authoritative language, translations of versions aligned
paragraph by paragraph, the committee's answers in other languages

document.language (default "en"); translation (one per import; "draft" under review,
then "published", never changed); translated_paragraph (its blocks, each linked to the
authoritative paragraph it translates, with that paragraph's text hash at the time, so a
later change shows the translation out of date); response_translation.

Numbered 0025 because 0023 and 0024 were taken by work not yet committed when this was;
it follows 0022 (a migration committed after it follows it, whatever its number).

Revision ID: 0025
Revises: 0022
Create Date: 2026-12-06 06:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

import consult.timeutil

# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('document') as batch:
        batch.add_column(sa.Column('language', sa.String(12), nullable=False, server_default='en'))
    op.create_table(
        'translation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(12), nullable=False),
        sa.Column('state', sa.String(20), nullable=False),
        sa.Column('content_hash', sa.String(64), nullable=True),
        sa.Column('created_at', consult.timeutil.UTCDateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('published_at', consult.timeutil.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ['version_id'], ['version.id'], name=op.f('fk_translation_version_id_version')
        ),
        sa.ForeignKeyConstraint(
            ['created_by_id'], ['user.id'], name=op.f('fk_translation_created_by_id_user')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_translation')),
    )
    op.create_index(
        'ix_translation_version_language', 'translation', ['version_id', 'language']
    )
    op.create_table(
        'translated_paragraph',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('translation_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(40), nullable=False),
        sa.Column('kind', sa.String(20), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('blank_before', sa.Integer(), nullable=False),
        sa.Column('paragraph_id', sa.Integer(), nullable=True),
        sa.Column('original_hash', sa.String(64), nullable=True),
        sa.Column('method', sa.String(20), nullable=False),
        sa.Column('score', sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ['translation_id'], ['translation.id'],
            name=op.f('fk_translated_paragraph_translation_id_translation'),
        ),
        sa.ForeignKeyConstraint(
            ['paragraph_id'], ['paragraph.id'],
            name=op.f('fk_translated_paragraph_paragraph_id_paragraph'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_translated_paragraph')),
        sa.UniqueConstraint(
            'translation_id', 'position',
            name=op.f('uq_translated_paragraph_translation_id'),
        ),
    )
    op.create_index(
        op.f('ix_translated_paragraph_paragraph_id'), 'translated_paragraph', ['paragraph_id']
    )
    op.create_table(
        'response_translation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('response_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(12), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', consult.timeutil.UTCDateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ['response_id'], ['response.id'],
            name=op.f('fk_response_translation_response_id_response'),
        ),
        sa.ForeignKeyConstraint(
            ['created_by_id'], ['user.id'], name=op.f('fk_response_translation_created_by_id_user')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_response_translation')),
    )
    op.create_index(
        'ix_response_translation_response', 'response_translation', ['response_id', 'language']
    )


def downgrade():
    op.drop_index('ix_response_translation_response', table_name='response_translation')
    op.drop_table('response_translation')
    op.drop_index(op.f('ix_translated_paragraph_paragraph_id'), table_name='translated_paragraph')
    op.drop_table('translated_paragraph')
    op.drop_index('ix_translation_version_language', table_name='translation')
    op.drop_table('translation')
    with op.batch_alter_table('document') as batch:
        batch.drop_column('language')
