"""traceability: stored uptake, grouped answers, organisations' replies to responses, finalize override

- uptake: each suggestion's measured uptake against the next published version, with
  the sha256 of the inputs it was computed from.
- response_group, response_group_member: one decision and reason for several comments;
  each comment keeps its own response row.
- response_feedback: the commenting organisation's reply to an answer (once per answer).
- finalize_override: a version made final while comments were unanswered, with the reason.

Revision ID: c63e8a4d9f32
Revises: b52d7f3c8e21
Create Date: 2026-11-23 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
import consult.timeutil


# revision identifiers, used by Alembic.
revision = 'c63e8a4d9f32'
down_revision = 'b52d7f3c8e21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('uptake',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('label', sa.String(length=20), nullable=False),
    sa.Column('verbatim', sa.Boolean(), nullable=False),
    sa.Column('inputs_hash', sa.String(length=64), nullable=False),
    sa.Column('relation', sa.String(length=20), nullable=False),
    sa.Column('computed_at', consult.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_uptake_comment_id_comment')),
    sa.ForeignKeyConstraint(['version_id'], ['version.id'], name=op.f('fk_uptake_version_id_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_uptake')),
    sa.UniqueConstraint('comment_id', 'version_id', name=op.f('uq_uptake_comment_id'))
    )
    with op.batch_alter_table('uptake', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_uptake_comment_id'), ['comment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_uptake_version_id'), ['version_id'], unique=False)

    op.create_table('response_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('responder_id', sa.Integer(), nullable=False),
    sa.Column('created_at', consult.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['responder_id'], ['user.id'], name=op.f('fk_response_group_responder_id_user')),
    sa.ForeignKeyConstraint(['version_id'], ['version.id'], name=op.f('fk_response_group_version_id_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_response_group'))
    )
    with op.batch_alter_table('response_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_response_group_version_id'), ['version_id'], unique=False)

    op.create_table('response_group_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_response_group_member_comment_id_comment')),
    sa.ForeignKeyConstraint(['group_id'], ['response_group.id'], name=op.f('fk_response_group_member_group_id_response_group')),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], name=op.f('fk_response_group_member_response_id_response')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_response_group_member')),
    sa.UniqueConstraint('response_id', name=op.f('uq_response_group_member_response_id'))
    )
    with op.batch_alter_table('response_group_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_response_group_member_comment_id'), ['comment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_response_group_member_group_id'), ['group_id'], unique=False)

    op.create_table('response_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('satisfied', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', consult.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_response_feedback_comment_id_comment')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_response_feedback_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], name=op.f('fk_response_feedback_response_id_response')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_response_feedback_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_response_feedback')),
    sa.UniqueConstraint('response_id', name=op.f('uq_response_feedback_response_id'))
    )
    with op.batch_alter_table('response_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_response_feedback_comment_id'), ['comment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_response_feedback_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('finalize_override',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('unanswered', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', consult.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_finalize_override_user_id_user')),
    sa.ForeignKeyConstraint(['version_id'], ['version.id'], name=op.f('fk_finalize_override_version_id_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finalize_override')),
    sa.UniqueConstraint('version_id', name=op.f('uq_finalize_override_version_id'))
    )


def downgrade():
    op.drop_table('finalize_override')
    with op.batch_alter_table('response_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_response_feedback_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_response_feedback_comment_id'))
    op.drop_table('response_feedback')
    with op.batch_alter_table('response_group_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_response_group_member_group_id'))
        batch_op.drop_index(batch_op.f('ix_response_group_member_comment_id'))
    op.drop_table('response_group_member')
    with op.batch_alter_table('response_group', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_response_group_version_id'))
    op.drop_table('response_group')
    with op.batch_alter_table('uptake', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_uptake_version_id'))
        batch_op.drop_index(batch_op.f('ix_uptake_comment_id'))
    op.drop_table('uptake')
