"""user.timezone: the time zone an account chose (an IANA name such as 'Asia/Yangon');
pages and mails add the reader's time in it beside the document's zone. Null: the
browser's zone (a cookie set by a small script), else none.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 14:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user') as batch:
        batch.add_column(sa.Column('timezone', sa.String(64), nullable=True))


def downgrade():
    with op.batch_alter_table('user') as batch:
        batch.drop_column('timezone')
