"""user: the session generation that ends every copy of a session

Every session and "remember me" cookie carries the account's session generation;
sign-out, a password change or a password reset raise it, and a cookie carrying an
older value is refused. Existing accounts start at 0 (their sessions made before this
migration carry no generation, so they are signed out once).

Revision ID: 3b8f2c6d1e47
Revises: 3c9f0d2a7e61
Create Date: 2026-12-06 12:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '3b8f2c6d1e47'
down_revision = '3c9f0d2a7e61'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user") as batch:
        batch.add_column(
            sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("user") as batch:
        batch.drop_column("session_generation")
