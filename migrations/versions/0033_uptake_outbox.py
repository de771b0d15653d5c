"""uptake_outbox: versions whose publication left the measure of the suggestions on the
version before them to the job worker (issue 18: a version published after tens of
thousands of suggestions is not measured inside the publishing request).

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07 19:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

from consult.timeutil import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "uptake_outbox",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("previous_id", sa.Integer(), nullable=False),
        sa.Column("suggestions", sa.Integer(), nullable=False),
        sa.Column("queued_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"], ["version.id"], name=op.f("fk_uptake_outbox_version_id_version")
        ),
        sa.ForeignKeyConstraint(
            ["previous_id"], ["version.id"], name=op.f("fk_uptake_outbox_previous_id_version")
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_uptake_outbox")),
    )
    op.create_index(
        op.f("ix_uptake_outbox_previous_id"), "uptake_outbox", ["previous_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_uptake_outbox_previous_id"), table_name="uptake_outbox")
    op.drop_table("uptake_outbox")
