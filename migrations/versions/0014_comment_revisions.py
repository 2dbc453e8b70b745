"""comment revisions: every edit keeps the text it replaced

An author's edit replaced a comment's text and left no trace of what it said before, so a
moderator could not tell what changed in a comment that came back to the queue after an edit.
Each edit now keeps the replaced text and its HTML, when, and whether the author or a moderator
made it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('comment_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('editor', sa.Enum('author', 'moderator', name='editor', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('moderator_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_comment_revisions_comment_id_comments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['moderator_id'], ['moderators.id'], name=op.f('fk_comment_revisions_moderator_id_moderators'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_revisions'))
    )
    with op.batch_alter_table('comment_revisions', schema=None) as batch_op:
        batch_op.create_index('ix_comment_revisions_comment_id_id', ['comment_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('comment_revisions', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_revisions_comment_id_id')
    op.drop_table('comment_revisions')
