"""Resolve and reopen: the requester's status actions, applied as Jira transitions, and the
settings that map them

Revision ID: c2d3e4f5a6b8
Revises: 7b1e4d9a2c63
Create Date: 2026-12-01 21:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'c2d3e4f5a6b8'
down_revision = '7b1e4d9a2c63'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jira_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolve_transition', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('reopen_transition', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('reopen_days', sa.Integer(), nullable=False, server_default='14'))
        batch_op.add_column(sa.Column('reply_transition', sa.String(length=100), nullable=True))
    op.create_table(
        'status_actions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('reference', sa.String(length=16), nullable=False),
        sa.Column('submission_key', sa.String(length=64), nullable=True),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('delivery_state', sa.String(length=16), nullable=False),
        sa.Column('last_error', sa.JSON(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('deliverable_since', sa.DateTime(timezone=True), nullable=True),
        sa.Column('transition_id', sa.String(length=32), nullable=True),
        sa.Column('target_status_id', sa.String(length=32), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=True),
        sa.Column('reply_id', sa.Integer(), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_status_actions_author_id_users')),
        sa.ForeignKeyConstraint(['reply_id'], ['replies.id'], name=op.f('fk_status_actions_reply_id_replies')),
        sa.ForeignKeyConstraint(['request_id'], ['support_requests.id'],
                                name=op.f('fk_status_actions_request_id_support_requests')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_status_actions')),
        sa.UniqueConstraint('reference', name=op.f('uq_status_actions_reference')),
        sa.UniqueConstraint('submission_key', name=op.f('uq_status_actions_submission_key')),
    )
    with op.batch_alter_table('status_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_status_actions_request_id'), ['request_id'], unique=False)
        batch_op.create_index('ix_status_actions_state', ['delivery_state', 'next_attempt_at'], unique=False)


def downgrade():
    with op.batch_alter_table('status_actions', schema=None) as batch_op:
        batch_op.drop_index('ix_status_actions_state')
        batch_op.drop_index(batch_op.f('ix_status_actions_request_id'))
    op.drop_table('status_actions')
    with op.batch_alter_table('jira_settings', schema=None) as batch_op:
        batch_op.drop_column('reply_transition')
        batch_op.drop_column('reopen_days')
        batch_op.drop_column('reopen_transition')
        batch_op.drop_column('resolve_transition')
