"""import keys: where an imported comment came from, unique per site

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 15:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_key', sa.String(length=128), nullable=True))
        batch_op.create_unique_constraint('uq_comments_site_id_import_key', ['site_id', 'import_key'])


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_constraint('uq_comments_site_id_import_key', type_='unique')
        batch_op.drop_column('import_key')
