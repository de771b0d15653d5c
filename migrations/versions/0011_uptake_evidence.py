"""uptake: the evidence of each measure

The measured uptake of a suggestion now keeps why it got its label: the asked-for
phrases found (and where: the successor, or another paragraph of the new version),
those missing, and the asked-for deletions made or not (JSON text). Rows measured
before this migration have none until their version is measured again.

Revision ID: 7d2e4b91c0a3
Revises: 0a7c3e9d5b18
Create Date: 2026-12-06 03:10:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '7d2e4b91c0a3'
down_revision = '0a7c3e9d5b18'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("uptake") as batch:
        batch.add_column(sa.Column("evidence", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("uptake") as batch:
        batch.drop_column("evidence")
