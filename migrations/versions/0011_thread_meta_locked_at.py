"""thread meta_locked_at: an admin's fix of an article's title and address stays

A thread's title and URL follow the site's own pages (the latest a post brought); once an admin
has fixed them on the thread's moderation page, readers' posts no longer change them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meta_locked_at', sa.DateTime(), nullable=True))


def downgrade():
    # Not batch mode: SQLite would copy the table, and dropping the old one cascades to comments.
    # Both SQLite (3.35 and later) and PostgreSQL drop a column in place.
    op.drop_column('threads', 'meta_locked_at')
