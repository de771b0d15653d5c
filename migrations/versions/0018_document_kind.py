"""document.kind: what kind of text a document is (resolution, framework, guidance…)

Existing documents get a kind from their title ("… Policy Framework …" is a framework);
a title that names no kind keeps "resolution", which is what every PDF cover called the
document before.

Revision ID: 3c5a0e7d91f2
Revises: 6f0b3e9a2c18
Create Date: 2026-12-06 05:45:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '3c5a0e7d91f2'
down_revision = '6f0b3e9a2c18'
branch_labels = None
depends_on = None

#: Title words that name a kind, checked in this order (lower case, whole title).
GUESSES = (
    ("framework", "framework"),
    ("guidance", "guidance"),
    ("guideline", "guidance"),
    ("strategy", "strategy"),
    ("action plan", "plan"),
    (" plan", "plan"),
    ("law", "law"),
    (" act", "law"),
    ("resolution", "resolution"),
)


def upgrade():
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('kind', sa.String(length=20), server_default='resolution', nullable=False)
        )
    document = sa.table('document', sa.column('id', sa.Integer), sa.column('title', sa.String),
                        sa.column('kind', sa.String))
    conn = op.get_bind()
    for doc_id, title in conn.execute(sa.select(document.c.id, document.c.title)).all():
        lowered = f" {(title or '').lower()} "
        kind = next((k for word, k in GUESSES if word in lowered), "resolution")
        conn.execute(document.update().where(document.c.id == doc_id).values(kind=kind))


def downgrade():
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_column('kind')
