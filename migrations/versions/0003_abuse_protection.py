"""abuse protection

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 14:20:38.243804

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('labelled_examples',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=8), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('verdict', sa.JSON(), nullable=True),
    sa.Column('moderator_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_labelled_examples_comment_id_comments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['moderator_id'], ['moderators.id'], name=op.f('fk_labelled_examples_moderator_id_moderators'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_labelled_examples_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_labelled_examples'))
    )
    with op.batch_alter_table('labelled_examples', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_labelled_examples_comment_id'), ['comment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_labelled_examples_site_id'), ['site_id'], unique=False)

    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('reporter_hash', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_reports_comment_id_comments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    sa.UniqueConstraint('comment_id', 'reporter_hash', name=op.f('uq_reports_comment_id'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verdict', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('flagged', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('reader_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('text_hash', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_comments_site_id_reader_hash', ['site_id', 'reader_hash'], unique=False)
        batch_op.create_index('ix_comments_site_id_text_hash', ['site_id', 'text_hash'], unique=False)
    # The default only filled existing rows; the application sets the flag from now on.
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.alter_column('flagged', existing_type=sa.Boolean(), server_default=None)



def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_site_id_text_hash')
        batch_op.drop_index('ix_comments_site_id_reader_hash')
        batch_op.drop_column('text_hash')
        batch_op.drop_column('reader_hash')
        batch_op.drop_column('flagged')
        batch_op.drop_column('verdict')

    op.drop_table('reports')
    with op.batch_alter_table('labelled_examples', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_labelled_examples_site_id'))
        batch_op.drop_index(batch_op.f('ix_labelled_examples_comment_id'))

    op.drop_table('labelled_examples')
