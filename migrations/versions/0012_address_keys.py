"""address keys: votes and reports count once per address, IPv6 by its /64; reports dismissed

Fresh reader keys from one address counted as new voters and reporters, and a moderator's
approval left the old reports counting. Votes and reports keep the hash of the address key they
came from (unique per comment for votes), and a report a moderator has dismissed keeps its row
but stops counting. Comments keep their address key (an IPv6 address by its /64) beside the
address, indexed, for the spam filter's facts and bans.

Rows from before count as before: their address hash is their reader hash.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 10:00:00

"""
import ipaddress
import warnings

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def _key(address):
    """The address key as security.address_key made it when this revision was written."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


def upgrade():
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_hash', sa.String(length=64), nullable=True))
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('dismissed_at', sa.DateTime(), nullable=True))
    # Plain ALTERs on comments: a batch would reflect its expression index, which SQLite cannot.
    op.add_column('comments', sa.Column('client_net', sa.String(length=45), nullable=True))
    op.execute("UPDATE votes SET address_hash = voter_hash")
    op.execute("UPDATE reports SET address_hash = reporter_hash")
    comments = sa.table('comments', sa.column('client_ip', sa.String()),
                        sa.column('client_net', sa.String()))
    conn = op.get_bind()
    conn.execute(comments.update().where(comments.c.client_ip.is_not(None),
                                         comments.c.client_ip.not_like('%:%'))
                 .values(client_net=comments.c.client_ip))
    sixes = conn.scalars(sa.select(comments.c.client_ip).distinct()
                         .where(comments.c.client_ip.like('%:%'))).all()
    for address in sixes:
        conn.execute(comments.update().where(comments.c.client_ip == address)
                     .values(client_net=_key(address)))
    with warnings.catch_warnings():
        # SQLite rebuilds votes and reports, reflecting the comments table their keys point to;
        # its expression index (lower(author_email)) is beyond reflection, and not needed here.
        warnings.filterwarnings('ignore', 'Skipped unsupported reflection', sa.exc.SAWarning)
        # address_hash stays nullable for this release, so the previous release, still serving
        # while this one is deployed, can go on writing votes and reports (it leaves it empty).
        with op.batch_alter_table('votes', schema=None) as batch_op:
            batch_op.create_unique_constraint('uq_votes_comment_id_address_hash',
                                              ['comment_id', 'address_hash'])
    op.create_index('ix_comments_site_id_client_net', 'comments', ['site_id', 'client_net'],
                    unique=False)


def downgrade():
    op.drop_index('ix_comments_site_id_client_net', table_name='comments')
    op.drop_column('comments', 'client_net')
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', 'Skipped unsupported reflection', sa.exc.SAWarning)
        with op.batch_alter_table('reports', schema=None) as batch_op:
            batch_op.drop_column('dismissed_at')
            batch_op.drop_column('address_hash')
        with op.batch_alter_table('votes', schema=None) as batch_op:
            batch_op.drop_constraint('uq_votes_comment_id_address_hash', type_='unique')
            batch_op.drop_column('address_hash')
