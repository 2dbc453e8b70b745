"""reader features

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 14:32:18.447322

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('failed_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_sent_at_next_attempt_at', ['sent_at', 'next_attempt_at'], unique=False)

    op.create_table('used_links',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_used_links'))
    )
    op.create_table('votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('voter_hash', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_votes_comment_id_comments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_votes')),
    sa.UniqueConstraint('comment_id', 'voter_hash', name=op.f('uq_votes_comment_id'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('root_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('score', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('notify_replies', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f('ix_comments_root_id'), ['root_id'], unique=False)

    with op.batch_alter_table('moderators', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_queue', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('notified_up_to', sa.Integer(), nullable=False, server_default='0'))

    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(), nullable=True))

    _backfill_root_ids()
    # The defaults only filled existing rows; the application sets these from now on.
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.alter_column('score', existing_type=sa.Integer(), server_default=None)
        batch_op.alter_column('notify_replies', existing_type=sa.Boolean(), server_default=None)
    with op.batch_alter_table('moderators', schema=None) as batch_op:
        batch_op.alter_column('notify_queue', existing_type=sa.Boolean(), server_default=None)
        batch_op.alter_column('notified_up_to', existing_type=sa.Integer(), server_default=None)


def _backfill_root_ids():
    """Each existing reply learns its top-level ancestor, parents before children."""
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, parent_id FROM comments ORDER BY depth, id")).all()
    root = {}
    for comment_id, parent_id in rows:
        root[comment_id] = None if parent_id is None else (root.get(parent_id) or parent_id)
        if root[comment_id] is not None:
            bind.execute(sa.text("UPDATE comments SET root_id = :r WHERE id = :i"),
                         {"r": root[comment_id], "i": comment_id})



def downgrade():
    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.drop_column('closed_at')

    with op.batch_alter_table('moderators', schema=None) as batch_op:
        batch_op.drop_column('notified_up_to')
        batch_op.drop_column('notify_queue')

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comments_root_id'))
        batch_op.drop_column('notify_replies')
        batch_op.drop_column('score')
        batch_op.drop_column('root_id')

    op.drop_table('votes')
    op.drop_table('used_links')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_sent_at_next_attempt_at')

    op.drop_table('outbox')
