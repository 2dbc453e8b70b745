"""sites.sso_max_lifetime_minutes: the longest a single sign-on token may live

A token whose exp lay in the year 9999 was accepted, so a token that leaked (a page cached by a
proxy, a log line) signed a reader in for ever. Each site now caps a token's lifetime, 24 hours
unless its admin says otherwise.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 05:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sso_max_lifetime_minutes', sa.Integer(), nullable=False,
                                      server_default='1440'))


def downgrade():
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('sso_max_lifetime_minutes')
