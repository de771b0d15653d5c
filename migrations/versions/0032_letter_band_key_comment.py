"""letter_band: the index (version_id, key) becomes (version_id, key, comment_id), so that
a new comment's lookup of a band key reads that key's rows in order and stops at its
share of them. PostgreSQL read an IN list of keys with a bitmap scan of every matching
entry before any limit applied: with a letter copied thousands of times, thousands of
entries for each new copy (a million copies: millions).

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 04:45:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_letter_band_version_id_key_comment_id",
        "letter_band",
        ["version_id", "key", "comment_id"],
    )
    op.drop_index("ix_letter_band_version_id_key", table_name="letter_band")


def downgrade():
    op.create_index("ix_letter_band_version_id_key", "letter_band", ["version_id", "key"])
    op.drop_index("ix_letter_band_version_id_key_comment_id", table_name="letter_band")
