"""organisations and accounts: registry fields, verification, membership approval, e-mail confirmation and password reset, mail outbox, notification preferences

(Placeholder in the chain, filled in by the organisations work.)

Revision ID: a41c6e2b7d10
Revises: 7c1e5a0b9d42
Create Date: 2026-11-23 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
import consult.timeutil


# revision identifiers, used by Alembic.
revision = 'a41c6e2b7d10'
down_revision = '7c1e5a0b9d42'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
