"""search: the pairs of neighbouring words move from a column to a table of their own

Migration 0009 kept each PostgreSQL entry's pairs of neighbouring words in a generated
column of search.entry. That made the rows long enough to be moved out of line (TOAST)
in part, and every search that reads entries paid for it: at 1M comments the index
part of benchmarks/search.py's mix went from p50/p95 23-25 / 59-66 ms with the pairs in
a table of their own to 32 / 99 ms with the column, measured side by side on copies of
one database.

The pairs now live in search.entry_pairs (key, pairs) with the GIN index; a trigger
gives every entry written its pairs in the same statement, and an entry deleted takes
its pairs with it (the foreign key). Dropping the column leaves its data in the rows
until they are rewritten, so the entries are rewritten once (CLUSTER on the date index,
which keeps them in date order as `reindex` writes them).

Revision ID: 0a7c3e9d5b18
Revises: f96b1d7a2c65
Create Date: 2026-12-02 19:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0a7c3e9d5b18'
down_revision = 'f96b1d7a2c65'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE search.entry DROP COLUMN pairs")  # and its index
    op.execute("DROP FUNCTION search.entry_vector(text, text, text, text, text)")
    op.execute("CLUSTER search.entry USING entry_created_at_idx")
    op.execute("""
        CREATE TABLE search.entry_pairs (
            key text PRIMARY KEY REFERENCES search.entry (key) ON DELETE CASCADE,
            pairs tsvector NOT NULL
        )
    """)
    op.execute("""
        CREATE FUNCTION search.keep_pairs() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO search.entry_pairs (key, pairs)
            VALUES (NEW.key, search.word_pairs(NEW.tsv))
            ON CONFLICT (key) DO UPDATE SET pairs = EXCLUDED.pairs;
            RETURN NULL;
        END
        $$
    """)
    op.execute(
        "CREATE TRIGGER entry_pairs AFTER INSERT OR UPDATE ON search.entry "
        "FOR EACH ROW EXECUTE FUNCTION search.keep_pairs()"
    )
    op.execute(
        "INSERT INTO search.entry_pairs (key, pairs) "
        "SELECT key, search.word_pairs(tsv) FROM search.entry"
    )
    op.execute("CREATE INDEX entry_pairs_idx ON search.entry_pairs USING gin (pairs)")
    op.execute("ANALYZE search.entry")
    op.execute("ANALYZE search.entry_pairs")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER entry_pairs ON search.entry")
    op.execute("DROP FUNCTION search.keep_pairs()")
    op.execute("DROP TABLE search.entry_pairs")  # and its index
    op.execute("""
        CREATE FUNCTION search.entry_vector(title text, body text, suggested text,
                                            quote text, response text) RETURNS tsvector
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT setweight(to_tsvector('english'::regconfig, title), 'A')
                || setweight(to_tsvector('english'::regconfig, body), 'B')
                || setweight(to_tsvector('english'::regconfig, suggested), 'C')
                || setweight(to_tsvector('english'::regconfig, quote), 'C')
                || setweight(to_tsvector('english'::regconfig, response), 'C')
        $$
    """)
    op.execute(
        "ALTER TABLE search.entry ADD COLUMN pairs tsvector GENERATED ALWAYS AS "
        "(search.word_pairs(search.entry_vector(title, body, suggested, quote, response))) "
        "STORED"
    )
    op.execute("CREATE INDEX entry_pairs_idx ON search.entry USING gin (pairs)")
