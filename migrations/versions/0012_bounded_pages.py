"""pages bounded by what they show: indexes for counts and pages, stored suggestion diffs

Every count a page shows is one aggregate query over an index that fits it: comments
per paragraph of a version (version_id, paragraph_id), per organisation of a version
(version_id, organisation_id), a paragraph's comments page by page (paragraph_id,
created_at, id), a comment's latest answer and its decision (response: comment_id, id,
decision), uptake labels per version measured against (version_id, label).

A suggestion's word diff against its paragraph is stored with its text (comment and
comment_revision: suggested_diff, JSON) when the text is written; this migration fills
it for the texts already there.

Revision ID: 3c9f0d2a7e61
Revises: 7d2e4b91c0a3
Create Date: 2026-12-06 03:20:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '3c9f0d2a7e61'
down_revision = '7d2e4b91c0a3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("comment") as batch:
        batch.add_column(sa.Column("suggested_diff", sa.Text(), nullable=True))
        batch.create_index("ix_comment_version_id_paragraph_id", ["version_id", "paragraph_id"])
        batch.create_index(
            "ix_comment_paragraph_id_created_at", ["paragraph_id", "created_at", "id"]
        )
        batch.create_index(
            "ix_comment_version_id_organisation_id", ["version_id", "organisation_id"]
        )
    with op.batch_alter_table("comment_revision") as batch:
        batch.add_column(sa.Column("suggested_diff", sa.Text(), nullable=True))
    with op.batch_alter_table("response") as batch:
        batch.create_index("ix_response_comment_id_decision", ["comment_id", "id", "decision"])
    with op.batch_alter_table("uptake") as batch:
        batch.create_index("ix_uptake_version_id_label", ["version_id", "label"])

    from consult.tracing.suggested import fill_missing

    fill_missing(op.get_bind())


def downgrade():
    with op.batch_alter_table("uptake") as batch:
        batch.drop_index("ix_uptake_version_id_label")
    with op.batch_alter_table("response") as batch:
        batch.drop_index("ix_response_comment_id_decision")
    with op.batch_alter_table("comment_revision") as batch:
        batch.drop_column("suggested_diff")
    with op.batch_alter_table("comment") as batch:
        batch.drop_index("ix_comment_version_id_organisation_id")
        batch.drop_index("ix_comment_paragraph_id_created_at")
        batch.drop_index("ix_comment_version_id_paragraph_id")
        batch.drop_column("suggested_diff")
