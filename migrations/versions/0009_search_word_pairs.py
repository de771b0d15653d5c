"""search: pairs of neighbouring words beside the PostgreSQL entries' words

A phrase ("public hearing") is matched by PostgreSQL in two steps: the word index gives
the entries holding all of its words, then each of them is read to check that the words
stand next to each other. For two common words that is thousands of entries read for a
few hundred matches (11,801 for 178 at 1M comments, 100-130 ms). Each entry now also
has `pairs`: its neighbouring words as pairs ('public hear'), lexemes with a space in
them, with an index of their own, so a phrase's entries are found by its pairs and
only those are checked. The pairs are a column apart from `tsv`: in it they doubled
the vector, which then went out of line (TOAST) and made every other search slower.

search.entry_vector gives an entry's weighted vector (the expression of `tsv`),
search.word_pairs a vector's pairs, search.phrase_pairs a phrase's pairs as a tsquery
(NULL when it has none: one word, or a stop word between its words).

Revision ID: f96b1d7a2c65
Revises: e85a0c6f1b54
Create Date: 2026-11-23 19:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f96b1d7a2c65'
down_revision = 'e85a0c6f1b54'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
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
    op.execute("""
        CREATE FUNCTION search.word_pairs(doc tsvector) RETURNS tsvector
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
            SELECT coalesce(array_to_tsvector(array_agg(DISTINCT pair)), ''::tsvector)
            FROM (SELECT lexeme || ' ' || lead(lexeme) OVER (ORDER BY pos) AS pair,
                         lead(pos) OVER (ORDER BY pos) = pos + 1 AS neighbours
                  FROM (SELECT lexeme, unnest(positions) AS pos FROM unnest(doc)) w) p
            WHERE neighbours
        $$
    """)
    op.execute("""
        CREATE FUNCTION search.phrase_pairs(phrase text) RETURNS tsquery
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
            SELECT string_agg('''' || replace(replace(pair, '\\', '\\\\'), '''', '''''')
                              || '''', ' & ')::tsquery
            FROM unnest(tsvector_to_array(
                search.word_pairs(to_tsvector('english'::regconfig, phrase)))) AS pair
        $$
    """)
    op.execute(
        "ALTER TABLE search.entry ADD COLUMN pairs tsvector GENERATED ALWAYS AS "
        "(search.word_pairs(search.entry_vector(title, body, suggested, quote, response))) "
        "STORED"
    )
    op.execute("CREATE INDEX entry_pairs_idx ON search.entry USING gin (pairs)")
    op.execute("ANALYZE search.entry")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE search.entry DROP COLUMN pairs")  # and its index
    op.execute("DROP FUNCTION search.phrase_pairs(text)")
    op.execute("DROP FUNCTION search.word_pairs(tsvector)")
    op.execute("DROP FUNCTION search.entry_vector(text, text, text, text, text)")
