"""search: the vocabulary of "did you mean"; entries of the PostgreSQL backend

- search_word (both databases): the words of public search entries with entry
  counts, for spelling suggestions whatever the backend.
- schema `search` (PostgreSQL only), outside the ORM's metadata: the ORM's
  tables (and their comparison with the migrations) are the same on SQLite and
  PostgreSQL.
- search.entry: one row per searchable thing (paragraph, comment with its latest
  response, organisation, document), with `tsv`, a tsvector generated from its
  texts with weights (title A, body B, suggested wording, quote, response C) and
  a GIN index. Foreign keys remove an entry with its object, and let TRUNCATE …
  CASCADE on the domain tables empty it.

Revision ID: 7c1e5a0b9d42
Revises: 4f3d587df992
Create Date: 2026-11-23 10:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c1e5a0b9d42'
down_revision = '4f3d587df992'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('search_word',
    sa.Column('word', sa.String(length=40), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('word', name=op.f('pk_search_word'))
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE SCHEMA IF NOT EXISTS search")
    op.execute("""
        CREATE TABLE search.entry (
            key text PRIMARY KEY,
            doc_type text NOT NULL,
            object_id integer NOT NULL,
            document_id integer REFERENCES public.document (id) ON DELETE CASCADE,
            version_id integer REFERENCES public.version (id) ON DELETE CASCADE,
            version_number integer,
            paragraph_id integer REFERENCES public.paragraph (id) ON DELETE CASCADE,
            organisation_id integer REFERENCES public.organisation (id) ON DELETE CASCADE,
            comment_kind text,
            decision text,
            draft boolean NOT NULL DEFAULT false,
            visible_to_public boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL,
            title text NOT NULL DEFAULT '',
            body text NOT NULL DEFAULT '',
            suggested text NOT NULL DEFAULT '',
            quote text NOT NULL DEFAULT '',
            response text NOT NULL DEFAULT '',
            tsv tsvector GENERATED ALWAYS AS (
                setweight(to_tsvector('english'::regconfig, title), 'A')
                || setweight(to_tsvector('english'::regconfig, body), 'B')
                || setweight(to_tsvector('english'::regconfig, suggested), 'C')
                || setweight(to_tsvector('english'::regconfig, quote), 'C')
                || setweight(to_tsvector('english'::regconfig, response), 'C')
            ) STORED
        )
    """)
    op.execute("CREATE INDEX entry_tsv_idx ON search.entry USING gin (tsv)")
    op.execute("CREATE INDEX entry_created_at_idx ON search.entry (created_at)")
    # For the foreign keys' cascades and the document and organisation filters.
    for column in ("document_id", "version_id", "paragraph_id", "organisation_id"):
        op.execute(f"CREATE INDEX entry_{column}_idx ON search.entry ({column})")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SCHEMA IF EXISTS search CASCADE")
    op.drop_table('search_word')
