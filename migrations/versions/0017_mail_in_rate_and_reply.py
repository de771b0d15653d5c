"""mail: the acknowledgment threads under the message it answers; intake: per-sender rate

Revision ID: 6f0b3e9a2c18
Revises: 9d2e61b0c4a7
Create Date: 2026-12-06 06:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '6f0b3e9a2c18'
down_revision = '9d2e61b0c4a7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("mail_outbox") as batch:
        batch.add_column(sa.Column("in_reply_to", sa.String(length=998), nullable=True))
    op.create_index(
        "ix_intake_message_sender_received_at", "intake_message", ["sender", "received_at"]
    )


def downgrade():
    op.drop_index("ix_intake_message_sender_received_at", table_name="intake_message")
    with op.batch_alter_table("mail_outbox") as batch:
        batch.drop_column("in_reply_to")
