"""event: an index on the subject

`verify` checks, batch by batch, that each comment's (and later text's) hash is the
one its event recorded, and a receipt looks up the event of its comment: both find
events by subject (type and id), which no index served.

Revision ID: 5e1a9c7f3d20
Revises: 3b8f2c6d1e47
Create Date: 2026-12-08 10:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5e1a9c7f3d20'
down_revision = '3b8f2c6d1e47'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_event_subject", "event", ["subject_type", "subject_id"])


def downgrade():
    op.drop_index("ix_event_subject", table_name="event")
