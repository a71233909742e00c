"""E-mail: the outbox, each user's mail preference and admin mail, a request's mute

Revision ID: e1a2b3c4d5f6
Revises: a7c4e2d9b1f3
Create Date: 2026-12-01 17:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'e1a2b3c4d5f6'
down_revision = 'a7c4e2d9b1f3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mail_preference', sa.String(length=16), nullable=False, server_default='all'))
        batch_op.add_column(sa.Column('admin_mail', sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table('support_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mail_muted', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        'mail_outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=True),
        sa.Column('event', sa.String(length=32), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('secret_encrypted', sa.Text(), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('send_after', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('claim', sa.String(length=32), nullable=True),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE',
                                name=op.f('fk_mail_outbox_user_id_users')),
        sa.ForeignKeyConstraint(['request_id'], ['support_requests.id'], ondelete='CASCADE',
                                name=op.f('fk_mail_outbox_request_id_support_requests')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox')),
        sa.UniqueConstraint('key', name=op.f('uq_mail_outbox_key')),
    )
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_outbox_request_id'), ['request_id'], unique=False)
        batch_op.create_index('ix_mail_outbox_user_state', ['user_id', 'state'], unique=False)
        batch_op.create_index('ix_mail_outbox_state_send_after', ['state', 'send_after'], unique=False)


def downgrade():
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_outbox_state_send_after')
        batch_op.drop_index('ix_mail_outbox_user_state')
        batch_op.drop_index(batch_op.f('ix_mail_outbox_request_id'))
    op.drop_table('mail_outbox')
    with op.batch_alter_table('support_requests', schema=None) as batch_op:
        batch_op.drop_column('mail_muted')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('admin_mail')
        batch_op.drop_column('mail_preference')
