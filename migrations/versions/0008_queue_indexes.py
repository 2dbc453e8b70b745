"""queue indexes: a partial index of the waiting comments, and authors' emails by lower case

The queue (`status = 'pending' OR flagged AND status = 'approved'`) could use no index: the
OR splits it in two, and its flagged half matched every published comment of a site. A
partial index holds only the waiting rows, a few hundred whatever the table's size, in the
queue's order (site, oldest first, id); the app spells its WHERE once, in
`comments.models.thread.waiting`, so every query of the queue repeats it as the planners of
SQLite and PostgreSQL need, and the expression below must stay the same as that one.

Authors' histories, bans and erasure match emails in any case (`lower(author_email)`), which
the index on the raw column could not serve. An expression index on `lower(author_email)`
replaces it, rather than lower-casing emails when stored: the stored address keeps the case
the author typed, importers and sign-on stay as they are, and no data is rewritten. On
SQLite, Alembic cannot reflect an expression index: a batch migration that recreates
`comments` must create this one again (tests/test_migrations.py notices a missing one).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def _waiting():
    status = sa.column('status')
    return sa.or_(status == 'pending', sa.and_(sa.column('flagged', sa.Boolean()), status == 'approved'))


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_site_id_author_email')
        batch_op.create_index('ix_comments_site_id_lower_author_email',
                              ['site_id', sa.func.lower(sa.column('author_email'))], unique=False)
        batch_op.create_index('ix_comments_waiting', ['site_id', 'created_at', 'id'], unique=False,
                              postgresql_where=_waiting(), sqlite_where=_waiting())


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_waiting')
        batch_op.drop_index('ix_comments_site_id_lower_author_email')
        batch_op.create_index('ix_comments_site_id_author_email', ['site_id', 'author_email'], unique=False)
