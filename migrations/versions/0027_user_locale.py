"""user.locale: the interface language an account chose (consult.i18n.LOCALES); it wins
over the language switcher's cookie and the browser's Accept-Language. Null: those
decide.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 06:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user') as batch:
        batch.add_column(sa.Column('locale', sa.String(10), nullable=True))


def downgrade():
    with op.batch_alter_table('user') as batch:
        batch.drop_column('locale')
