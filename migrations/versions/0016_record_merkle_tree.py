"""record: a Merkle tree log (RFC 9162) instead of one hash chain

Events are written without a global lock and placed in the tree afterwards by one
sequencer, so `seq` (leaf index + 1) is empty until then; the chain columns stay for the
events recorded while the record was a chain and are empty after. Each event gets its
leaf hash; record_node keeps the hashes of complete subtrees (proofs read them),
record_tree the tree's size and root, record_head the signed tree heads (kept forever).

The existing chain's events become the first leaves in their order, each leaf keeping
its chain hash (consult.record.adopt), so a receipt given before still verifies. The
first signed head is made by the first sequencer run (the key is the instance's).

Revision ID: 9d2e61b0c4a7
Revises: 7bf040b9c899
Create Date: 2026-12-06 04:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

import consult.timeutil

# revision identifiers, used by Alembic.
revision = '9d2e61b0c4a7'
down_revision = '7bf040b9c899'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=True)
        batch_op.add_column(sa.Column('leaf_hash', sa.String(length=64), nullable=True))
    op.create_table('record_node',
    sa.Column('height', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('idx', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('height', 'idx', name=op.f('pk_record_node'))
    )
    op.create_table('record_tree',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('root_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_tree'))
    )
    op.create_table('record_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tree_size', sa.BigInteger(), nullable=False),
    sa.Column('root_hash', sa.String(length=64), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.Column('signed_at', consult.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('about', sa.String(length=200), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_head'))
    )
    with op.batch_alter_table('record_head', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_head_tree_size'), ['tree_size'], unique=False)

    from consult.record.adopt import adopt_chain

    adopt_chain(op.get_bind())


def downgrade():
    # Events recorded after the change have no chain hash: the chain cannot take them.
    conn = op.get_bind()
    if conn.execute(sa.text("SELECT 1 FROM event WHERE hash IS NULL LIMIT 1")).first():
        raise RuntimeError(
            "The record holds events recorded as a Merkle tree log; they cannot be turned "
            "back into a hash chain. Restore a backup taken before migration 0016 instead."
        )
    with op.batch_alter_table('record_head', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_head_tree_size'))
    op.drop_table('record_head')
    op.drop_table('record_tree')
    op.drop_table('record_node')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('leaf_hash')
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=False)
