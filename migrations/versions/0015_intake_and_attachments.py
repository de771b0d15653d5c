"""intake and attachments: comments by e-mail wait in intake_message; files attached to
comments (position papers) in attachment; on PostgreSQL the search entries get an
`attachments` part (the text of a comment's attachments), which `tsv` now covers with
the lowest weight (D), so a phrase in a position paper finds its comment.

Existing entries have no attachments, so their vectors are unchanged; `tsv` is dropped
and generated again because PostgreSQL cannot change a generated column's expression.

Revision ID: 7bf040b9c899
Revises: 5e1a9c7f3d20
Create Date: 2026-12-06 02:55:33.752390

"""
from alembic import op
import sqlalchemy as sa
import consult.timeutil


# revision identifiers, used by Alembic.
revision = '7bf040b9c899'
down_revision = '5e1a9c7f3d20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('intake_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('received_at', consult.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.Column('via', sa.String(length=10), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=300), nullable=True),
    sa.Column('sender', sa.String(length=254), nullable=False),
    sa.Column('sender_name', sa.String(length=200), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('quoted', sa.Text(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=True),
    sa.Column('paragraph_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('sender_user_id', sa.Integer(), nullable=True),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', consult.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reject_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_intake_message_comment_id_comment')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_intake_message_decided_by_id_user')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_intake_message_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['paragraph_id'], ['paragraph.id'], name=op.f('fk_intake_message_paragraph_id_paragraph')),
    sa.ForeignKeyConstraint(['sender_user_id'], ['user.id'], name=op.f('fk_intake_message_sender_user_id_user')),
    sa.ForeignKeyConstraint(['version_id'], ['version.id'], name=op.f('fk_intake_message_version_id_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intake_message'))
    )
    with op.batch_alter_table('intake_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_message_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_intake_message_sha256'), ['sha256'], unique=False)
        batch_op.create_index('ix_intake_message_status_id', ['status', 'id'], unique=False)

    op.create_table('attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_status', sa.String(length=20), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('intake_id', sa.Integer(), nullable=True),
    sa.Column('created_at', consult.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['user.id'], name=op.f('fk_attachment_added_by_id_user')),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_attachment_comment_id_comment')),
    sa.ForeignKeyConstraint(['intake_id'], ['intake_message.id'], name=op.f('fk_attachment_intake_id_intake_message')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment'))
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index('ix_attachment_comment_id', ['comment_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_sha256'), ['sha256'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE search.entry ADD COLUMN attachments text NOT NULL DEFAULT ''")
        _vector(with_attachments=True)



def _vector(*, with_attachments: bool) -> None:
    extra = (
        "|| setweight(to_tsvector('english'::regconfig, attachments), 'D')"
        if with_attachments
        else ""
    )
    op.execute("ALTER TABLE search.entry DROP COLUMN tsv")  # and its index
    op.execute(f"""
        ALTER TABLE search.entry ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('english'::regconfig, title), 'A')
            || setweight(to_tsvector('english'::regconfig, body), 'B')
            || setweight(to_tsvector('english'::regconfig, suggested), 'C')
            || setweight(to_tsvector('english'::regconfig, quote), 'C')
            || setweight(to_tsvector('english'::regconfig, response), 'C')
            {extra}
        ) STORED
    """)
    op.execute("CREATE INDEX entry_tsv_idx ON search.entry USING gin (tsv)")
    op.execute("ANALYZE search.entry")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE search.entry DROP COLUMN attachments")
        _vector(with_attachments=False)
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_sha256'))
        batch_op.drop_index('ix_attachment_comment_id')

    op.drop_table('attachment')
    with op.batch_alter_table('intake_message', schema=None) as batch_op:
        batch_op.drop_index('ix_intake_message_status_id')
        batch_op.drop_index(batch_op.f('ix_intake_message_sha256'))
        batch_op.drop_index(batch_op.f('ix_intake_message_message_id'))

    op.drop_table('intake_message')
