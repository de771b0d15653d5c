"""kept_provenance: the provenance of a published version, computed once and kept
(keyed by what it depends on beyond frozen texts), so that the provenance page costs
the same with a thousand comments or a million; and an index on event (kind, id), so
that the latest event of a kind is found in one index step.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 18:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

from consult.timeutil import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kept_provenance",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("spans_json", sa.Text(), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"], ["version.id"], name=op.f("fk_kept_provenance_version_id_version")
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_kept_provenance")),
    )
    op.create_index("ix_event_kind_id", "event", ["kind", "id"])


def downgrade():
    op.drop_index("ix_event_kind_id", table_name="event")
    op.drop_table("kept_provenance")
