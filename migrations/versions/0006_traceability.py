"""traceability: stored uptake, grouped answers, organisations' replies to responses, finalize override

(Placeholder in the chain, filled in by the traceability work.)

Revision ID: c63e8a4d9f32
Revises: b52d7f3c8e21
Create Date: 2026-11-23 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
import consult.timeutil


# revision identifiers, used by Alembic.
revision = 'c63e8a4d9f32'
down_revision = 'b52d7f3c8e21'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
