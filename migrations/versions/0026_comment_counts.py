"""comment_count: counts of comments kept per version as comments arrive

One row per (version, dimension, key) with its number of comments (tracing.counters):
per paragraph, waiting for an answer per paragraph, per kind / decision / uptake label /
withdrawn, per organisation. The pages read these rows instead of counting comments.
Filled here from the existing comments (`flask recount` does the same later).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 06:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'comment_count',
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('dimension', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['version_id'], ['version.id'], name=op.f('fk_comment_count_version_id_version')
        ),
        sa.PrimaryKeyConstraint('version_id', 'dimension', 'key', name=op.f('pk_comment_count')),
    )
    from consult.tracing.counters import recount

    recount(op.get_bind())


def downgrade():
    op.drop_table('comment_count')
