"""comments: revisions, withdrawals, replies, flags and moderation

(Placeholder in the chain, filled in by the comments work.)

Revision ID: b52d7f3c8e21
Revises: a41c6e2b7d10
Create Date: 2026-11-23 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
import consult.timeutil


# revision identifiers, used by Alembic.
revision = 'b52d7f3c8e21'
down_revision = 'a41c6e2b7d10'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
