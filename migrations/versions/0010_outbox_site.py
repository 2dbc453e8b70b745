"""outbox site and webhook: a site's deliveries found by index, not among the newest 500

The admin page listed a site's webhook deliveries by reading the newest 500 webhook items and
keeping the site's in Python, so a busy site could hide a quiet one's; removing a webhook dropped
only the queued deliveries among those 500. The site and the webhook become columns, indexed,
filled in from each item's payload.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 19:15:00

"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('site_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('webhook_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_outbox_site_id_id', ['site_id', 'id'], unique=False)
        batch_op.create_index('ix_outbox_webhook_id', ['webhook_id'], unique=False)
    outbox = sa.table('outbox', sa.column('id', sa.Integer()), sa.column('kind', sa.String()),
                      sa.column('payload', sa.JSON()), sa.column('site_id', sa.Integer()),
                      sa.column('webhook_id', sa.Integer()))
    conn = op.get_bind()
    rows = conn.execute(sa.select(outbox.c.id, outbox.c.payload)
                        .where(outbox.c.kind == 'webhook')).all()
    for item_id, payload in rows:
        payload = json.loads(payload) if isinstance(payload, str) else payload or {}
        conn.execute(outbox.update().where(outbox.c.id == item_id).values(
            site_id=payload.get('site_id'), webhook_id=payload.get('webhook_id')))


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_webhook_id')
        batch_op.drop_index('ix_outbox_site_id_id')
        batch_op.drop_column('webhook_id')
        batch_op.drop_column('site_id')
