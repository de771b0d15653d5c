"""comments: revisions, withdrawals, replies, flags and moderation

- comment_revision: a later text of a comment by its author, before the deadline
  (the Comment row keeps the first text; the latest revision is the current one).
- comment_withdrawal: the author took the comment back (it stays readable).
- reply: the thread under a comment (the committee's Response stays apart).
- flag: someone signed in asks the moderators to look at a comment or a reply.
- moderation_action: a moderator hid or showed again a comment or a reply, with
  a public reason; the latest action holds.
- co_signature.joint: the organisation was named when the comment was posted
  (a joint submission), rather than co-signing later.

Revision ID: b52d7f3c8e21
Revises: a41c6e2b7d10
Create Date: 2026-11-23 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
import consult.timeutil


# revision identifiers, used by Alembic.
revision = 'b52d7f3c8e21'
down_revision = 'a41c6e2b7d10'
branch_labels = None
depends_on = None


def _created_at():
    return sa.Column('created_at', consult.timeutil.UTCDateTime(timezone=True), nullable=False)


def upgrade():
    op.create_table('comment_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('suggested_text', sa.Text(), nullable=True),
    sa.Column('quote', sa.Text(), nullable=True),
    sa.Column('quote_start', sa.Integer(), nullable=True),
    sa.Column('quote_end', sa.Integer(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    _created_at(),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_comment_revision_author_id_user')),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_comment_revision_comment_id_comment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_revision')),
    sa.UniqueConstraint('comment_id', 'number', name=op.f('uq_comment_revision_comment_id'))
    )
    with op.batch_alter_table('comment_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_revision_comment_id'), ['comment_id'], unique=False)

    op.create_table('comment_withdrawal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    _created_at(),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_comment_withdrawal_comment_id_comment')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_comment_withdrawal_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_withdrawal')),
    sa.UniqueConstraint('comment_id', name=op.f('uq_comment_withdrawal_comment_id'))
    )

    op.create_table('reply',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    _created_at(),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_reply_author_id_user')),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_reply_comment_id_comment')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_reply_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reply'))
    )
    with op.batch_alter_table('reply', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reply_comment_id'), ['comment_id'], unique=False)

    op.create_table('flag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('reply_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    _created_at(),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_flag_comment_id_comment')),
    sa.ForeignKeyConstraint(['reply_id'], ['reply.id'], name=op.f('fk_flag_reply_id_reply')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_flag_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flag'))
    )
    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flag_comment_id'), ['comment_id'], unique=False)

    op.create_table('moderation_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('reply_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('moderator_id', sa.Integer(), nullable=False),
    _created_at(),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_moderation_action_comment_id_comment')),
    sa.ForeignKeyConstraint(['moderator_id'], ['user.id'], name=op.f('fk_moderation_action_moderator_id_user')),
    sa.ForeignKeyConstraint(['reply_id'], ['reply.id'], name=op.f('fk_moderation_action_reply_id_reply')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_action'))
    )
    with op.batch_alter_table('moderation_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_moderation_action_comment_id'), ['comment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_moderation_action_reply_id'), ['reply_id'], unique=False)

    with op.batch_alter_table('co_signature', schema=None) as batch_op:
        batch_op.add_column(sa.Column('joint', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('co_signature', schema=None) as batch_op:
        batch_op.drop_column('joint')
    with op.batch_alter_table('moderation_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_moderation_action_reply_id'))
        batch_op.drop_index(batch_op.f('ix_moderation_action_comment_id'))
    op.drop_table('moderation_action')
    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flag_comment_id'))
    op.drop_table('flag')
    with op.batch_alter_table('reply', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reply_comment_id'))
    op.drop_table('reply')
    op.drop_table('comment_withdrawal')
    with op.batch_alter_table('comment_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_revision_comment_id'))
    op.drop_table('comment_revision')
