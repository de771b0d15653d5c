"""form-letter groups and themes: each comment's MinHash signature and group
(comment_signature), the LSH band keys that find a new comment's near-copies in one
indexed lookup (letter_band), the groups (letter_group), the comments waiting to be
placed (grouping_outbox), variants the committee took out of their group
(letter_group_removal); a document's themes (theme) and the comments tagged with them
(comment_theme). New tables only; existing comments are grouped by
`flask --app consult regroup SLUG N`.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 05:35:06.334557

"""
from alembic import op
import sqlalchemy as sa
import consult.timeutil


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('theme',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('retired', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', consult.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_theme_created_by_id_user')),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_theme_document_id_document')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_theme')),
    sa.UniqueConstraint('document_id', 'name', name=op.f('uq_theme_document_id'))
    )
    with op.batch_alter_table('theme', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_theme_document_id'), ['document_id'], unique=False)

    op.create_table('comment_theme',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('theme_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', consult.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_comment_theme_comment_id_comment')),
    sa.ForeignKeyConstraint(['theme_id'], ['theme.id'], name=op.f('fk_comment_theme_theme_id_theme')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_comment_theme_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_theme')),
    sa.UniqueConstraint('comment_id', 'theme_id', name=op.f('uq_comment_theme_comment_id'))
    )
    with op.batch_alter_table('comment_theme', schema=None) as batch_op:
        batch_op.create_index('ix_comment_theme_theme_id_comment_id', ['theme_id', 'comment_id'], unique=False)

    op.create_table('grouping_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('created_at', consult.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_grouping_outbox_comment_id_comment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grouping_outbox'))
    )
    op.create_table('letter_band',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.BigInteger(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_letter_band_comment_id_comment')),
    sa.ForeignKeyConstraint(['version_id'], ['version.id'], name=op.f('fk_letter_band_version_id_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_band'))
    )
    with op.batch_alter_table('letter_band', schema=None) as batch_op:
        batch_op.create_index('ix_letter_band_version_id_key', ['version_id', 'key'], unique=False)

    op.create_table('letter_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('master_comment_id', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', consult.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['master_comment_id'], ['comment.id'], name=op.f('fk_letter_group_master_comment_id_comment')),
    sa.ForeignKeyConstraint(['version_id'], ['version.id'], name=op.f('fk_letter_group_version_id_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_group'))
    )
    with op.batch_alter_table('letter_group', schema=None) as batch_op:
        batch_op.create_index('ix_letter_group_version_id_size', ['version_id', 'size', 'id'], unique=False)

    op.create_table('letter_group_removal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('master_comment_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', consult.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_letter_group_removal_comment_id_comment')),
    sa.ForeignKeyConstraint(['master_comment_id'], ['comment.id'], name=op.f('fk_letter_group_removal_master_comment_id_comment')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_letter_group_removal_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_group_removal'))
    )
    with op.batch_alter_table('letter_group_removal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_letter_group_removal_comment_id'), ['comment_id'], unique=False)

    op.create_table('comment_signature',
    sa.Column('comment_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.Column('unique_part', sa.Text(), nullable=True),
    sa.Column('similarity', sa.Double(), nullable=True),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_comment_signature_comment_id_comment')),
    sa.ForeignKeyConstraint(['group_id'], ['letter_group.id'], name=op.f('fk_comment_signature_group_id_letter_group')),
    sa.ForeignKeyConstraint(['version_id'], ['version.id'], name=op.f('fk_comment_signature_version_id_version')),
    sa.PrimaryKeyConstraint('comment_id', name=op.f('pk_comment_signature'))
    )
    with op.batch_alter_table('comment_signature', schema=None) as batch_op:
        batch_op.create_index('ix_comment_signature_group_id_comment_id', ['group_id', 'comment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comment_signature_version_id'), ['version_id'], unique=False)



def downgrade():
    with op.batch_alter_table('comment_signature', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_signature_version_id'))
        batch_op.drop_index('ix_comment_signature_group_id_comment_id')

    op.drop_table('comment_signature')
    with op.batch_alter_table('letter_group_removal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_letter_group_removal_comment_id'))

    op.drop_table('letter_group_removal')
    with op.batch_alter_table('letter_group', schema=None) as batch_op:
        batch_op.drop_index('ix_letter_group_version_id_size')

    op.drop_table('letter_group')
    with op.batch_alter_table('letter_band', schema=None) as batch_op:
        batch_op.drop_index('ix_letter_band_version_id_key')

    op.drop_table('letter_band')
    op.drop_table('grouping_outbox')
    with op.batch_alter_table('comment_theme', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_theme_theme_id_comment_id')

    op.drop_table('comment_theme')
    with op.batch_alter_table('theme', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_theme_document_id'))

    op.drop_table('theme')
