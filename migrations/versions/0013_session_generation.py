"""moderator session generation: logout and account changes end sessions on the server

A session was a signed cookie holding the account and a fingerprint of its password, so logging
out only forgot the cookie in one browser: a copy kept working. Each account now has a generation
that every session carries; logging out, a new password, a role change or deactivation raises it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('moderators', schema=None) as batch_op:
        # The server default stays: the previous release, serving while this one is deployed,
        # creates accounts without naming the column.
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), nullable=False,
                                      server_default='0'))


def downgrade():
    with op.batch_alter_table('moderators', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
