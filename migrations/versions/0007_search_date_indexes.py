"""search: (filter, created_at) indexes on the PostgreSQL backend's entries

A search limited by one filter value (a decision, a kind of comment, a kind of
result, an organisation, a document, a version number) and shown newest first
reads these indexes in order and stops after the newest matches, instead of
walking every entry by date and dropping those that do not match. The indexes
on organisation_id and document_id alone are replaced (the new ones serve the
foreign keys' cascades as well).

Revision ID: d74f9b5e0a43
Revises: c63e8a4d9f32
Create Date: 2026-11-23 15:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd74f9b5e0a43'
down_revision = 'c63e8a4d9f32'
branch_labels = None
depends_on = None

COLUMNS = ("doc_type", "decision", "comment_kind", "organisation_id", "document_id", "version_number")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in COLUMNS:
        op.execute(f"CREATE INDEX entry_{column}_date_idx ON search.entry ({column}, created_at)")
    op.execute("DROP INDEX search.entry_organisation_id_idx")
    op.execute("DROP INDEX search.entry_document_id_idx")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in ("document_id", "organisation_id"):
        op.execute(f"CREATE INDEX entry_{column}_idx ON search.entry ({column})")
    for column in COLUMNS:
        op.execute(f"DROP INDEX search.entry_{column}_date_idx")
