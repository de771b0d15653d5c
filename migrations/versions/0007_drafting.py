"""drafting: what the committee pages need beyond 0002

(Placeholder in the chain, filled in by the drafting work.)

Revision ID: d74f9b5e0a43
Revises: c63e8a4d9f32
Create Date: 2026-11-23 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
import consult.timeutil


# revision identifiers, used by Alembic.
revision = 'd74f9b5e0a43'
down_revision = 'c63e8a4d9f32'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
