"""moderation

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 13:56:20.941455

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('moderators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('admin', 'moderator', name='role', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderators')),
    sa.UniqueConstraint('email', name=op.f('uq_moderators_email'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('moderator_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['moderator_id'], ['moderators.id'], name=op.f('fk_api_tokens_moderator_id_moderators'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_moderator_id'), ['moderator_id'], unique=False)

    op.create_table('bans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('lifted_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['moderators.id'], name=op.f('fk_bans_created_by_id_moderators'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_bans_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bans'))
    )
    with op.batch_alter_table('bans', schema=None) as batch_op:
        batch_op.create_index('ix_bans_site_id_email', ['site_id', 'email'], unique=False)
        batch_op.create_index('ix_bans_site_id_ip', ['site_id', 'ip'], unique=False)

    op.create_table('moderator_sites',
    sa.Column('moderator_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['moderator_id'], ['moderators.id'], name=op.f('fk_moderator_sites_moderator_id_moderators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_moderator_sites_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('moderator_id', 'site_id', name=op.f('pk_moderator_sites'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('moderator_id', sa.Integer(), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('comment_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('status_before', sa.String(length=16), nullable=True),
    sa.Column('status_after', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_audit_log_comment_id_comments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['moderator_id'], ['moderators.id'], name=op.f('fk_audit_log_moderator_id_moderators'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_audit_log_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_comment_id'), ['comment_id'], unique=False)
        batch_op.create_index('ix_audit_log_moderator_id_created_at', ['moderator_id', 'created_at'], unique=False)
        batch_op.create_index('ix_audit_log_site_id_created_at', ['site_id', 'created_at'], unique=False)

    # Existing comments take their thread's site; new columns get values before they become required.
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('site_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('featured', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('reasons', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('moderated_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE comments SET site_id = (SELECT site_id FROM threads WHERE threads.id = comments.thread_id)")
    op.execute("UPDATE comments SET reasons = '[]'")
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.alter_column('site_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('featured', existing_type=sa.Boolean(), server_default=None)
        batch_op.alter_column('reasons', existing_type=sa.JSON(), nullable=False)
        batch_op.create_index('ix_comments_site_id_author_email', ['site_id', 'author_email'], unique=False)
        batch_op.create_index('ix_comments_site_id_client_ip', ['site_id', 'client_ip'], unique=False)
        batch_op.create_index('ix_comments_site_id_status_created_at', ['site_id', 'status', 'created_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_comments_site_id_sites'), 'sites', ['site_id'], ['id'], ondelete='CASCADE')



def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_comments_site_id_sites'), type_='foreignkey')
        batch_op.drop_index('ix_comments_site_id_status_created_at')
        batch_op.drop_index('ix_comments_site_id_client_ip')
        batch_op.drop_index('ix_comments_site_id_author_email')
        batch_op.drop_column('moderated_at')
        batch_op.drop_column('reasons')
        batch_op.drop_column('featured')
        batch_op.drop_column('site_id')

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_site_id_created_at')
        batch_op.drop_index('ix_audit_log_moderator_id_created_at')
        batch_op.drop_index(batch_op.f('ix_audit_log_comment_id'))

    op.drop_table('audit_log')
    op.drop_table('moderator_sites')
    with op.batch_alter_table('bans', schema=None) as batch_op:
        batch_op.drop_index('ix_bans_site_id_ip')
        batch_op.drop_index('ix_bans_site_id_email')

    op.drop_table('bans')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_moderator_id'))

    op.drop_table('api_tokens')
    op.drop_table('moderators')
