"""single sign-on: site secrets, verified identities on comments and bans

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 14:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sso_secret', sa.String(length=128), nullable=True))
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sso_id', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('author_avatar', sa.String(length=512), nullable=True))
        batch_op.create_index('ix_comments_site_id_sso_id', ['site_id', 'sso_id'], unique=False)
    with op.batch_alter_table('bans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identity', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('bans', schema=None) as batch_op:
        batch_op.drop_column('identity')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_site_id_sso_id')
        batch_op.drop_column('author_avatar')
        batch_op.drop_column('sso_id')
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('sso_secret')
