"""Individuals, campaigns and personal data (issue 21, who may comment)

A version's opening settings (participants, withheld_names, personal_data); comments by
individuals (organisation_id may be null, withhold_name) and campaigns (campaign, with
campaign_signature and its withdrawals); comment_redaction, the screenings of a
comment's text for personal data and the secretariat's reviews of them.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 06:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

import consult.timeutil

# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('version', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'participants', sa.String(length=20), server_default='organisations',
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column('withheld_names', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column('personal_data', sa.String(length=10), server_default='hold', nullable=False)
        )
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.alter_column('organisation_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(
            sa.Column('withhold_name', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column('campaign', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        'campaign_signature',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('comment_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('named', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('created_at', consult.timeutil.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['comment_id'], ['comment.id'], name=op.f('fk_campaign_signature_comment_id_comment')
        ),
        sa.ForeignKeyConstraint(
            ['organisation_id'], ['organisation.id'],
            name=op.f('fk_campaign_signature_organisation_id_organisation'),
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user.id'], name=op.f('fk_campaign_signature_user_id_user')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_signature')),
    )
    op.create_index(
        'ix_campaign_signature_comment_id_id', 'campaign_signature', ['comment_id', 'id']
    )
    op.create_index(
        op.f('ix_campaign_signature_user_id'), 'campaign_signature', ['user_id']
    )
    op.create_table(
        'campaign_signature_withdrawal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('signature_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', consult.timeutil.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['signature_id'], ['campaign_signature.id'],
            name=op.f('fk_campaign_signature_withdrawal_signature_id_campaign_signature'),
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user.id'], name=op.f('fk_campaign_signature_withdrawal_user_id_user')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_signature_withdrawal')),
        sa.UniqueConstraint(
            'signature_id', name=op.f('uq_campaign_signature_withdrawal_signature_id')
        ),
    )
    op.create_table(
        'comment_redaction',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('comment_id', sa.Integer(), nullable=False),
        sa.Column('text_number', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('spans', sa.JSON(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('suggested_text', sa.Text(), nullable=True),
        sa.Column('quote', sa.Text(), nullable=True),
        sa.Column('quote_start', sa.Integer(), nullable=True),
        sa.Column('quote_end', sa.Integer(), nullable=True),
        sa.Column('original_hash', sa.String(length=64), nullable=False),
        sa.Column('public_hash', sa.String(length=64), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', consult.timeutil.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['by_id'], ['user.id'], name=op.f('fk_comment_redaction_by_id_user')
        ),
        sa.ForeignKeyConstraint(
            ['comment_id'], ['comment.id'], name=op.f('fk_comment_redaction_comment_id_comment')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_redaction')),
    )
    op.create_index(
        'ix_comment_redaction_comment_id_id', 'comment_redaction', ['comment_id', 'id']
    )


def downgrade():
    op.drop_index('ix_comment_redaction_comment_id_id', table_name='comment_redaction')
    op.drop_table('comment_redaction')
    op.drop_table('campaign_signature_withdrawal')
    op.drop_index(op.f('ix_campaign_signature_user_id'), table_name='campaign_signature')
    op.drop_index('ix_campaign_signature_comment_id_id', table_name='campaign_signature')
    op.drop_table('campaign_signature')
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_column('campaign')
        batch_op.drop_column('withhold_name')
        batch_op.alter_column('organisation_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('version', schema=None) as batch_op:
        batch_op.drop_column('personal_data')
        batch_op.drop_column('withheld_names')
        batch_op.drop_column('participants')
