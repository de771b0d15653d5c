"""co_signature_withdrawal; response_feedback may hold several replies per answer

An organisation may withdraw its co-signature while the consultation is open: a row in
co_signature_withdrawal (the co-signature stays). A reply to an answer (satisfied or
not) may change while the consultation goes on: a new response_feedback row, the latest
counting, so the one-reply-per-answer constraint gives way to an index.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 06:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

import consult.timeutil

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'co_signature_withdrawal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cosignature_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', consult.timeutil.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['cosignature_id'], ['co_signature.id'],
            name=op.f('fk_co_signature_withdrawal_cosignature_id_co_signature'),
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user.id'], name=op.f('fk_co_signature_withdrawal_user_id_user')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_co_signature_withdrawal')),
        sa.UniqueConstraint(
            'cosignature_id', name=op.f('uq_co_signature_withdrawal_cosignature_id')
        ),
    )
    with op.batch_alter_table('response_feedback', schema=None) as batch_op:
        batch_op.drop_constraint('uq_response_feedback_response_id', type_='unique')
        batch_op.create_index(
            'ix_response_feedback_response_id_id', ['response_id', 'id'], unique=False
        )


def downgrade():
    with op.batch_alter_table('response_feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_response_feedback_response_id_id')
        batch_op.create_unique_constraint('uq_response_feedback_response_id', ['response_id'])
    op.drop_table('co_signature_withdrawal')
