"""comment.language: the language a comment is written in (given by its author or
detected when posted; consult.consultation.languages), and on PostgreSQL the same on
search.entry (search.entry.language, indexed) for the search's lang: filter and facet.
Comments posted before have none (null).

Revision ID: 0020
Revises: 3c5a0e7d91f2
Create Date: 2026-12-06 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '3c5a0e7d91f2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE search.entry ADD COLUMN language text")
        op.execute("CREATE INDEX entry_language_idx ON search.entry (language)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE search.entry DROP COLUMN language")  # and its index
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_column('language')
