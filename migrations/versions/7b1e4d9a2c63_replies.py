"""Replies: the requester's answers on the detail page, each delivered as one Jira comment

Revision ID: 7b1e4d9a2c63
Revises: a7c3e9d1f5b2
Create Date: 2026-12-01 17:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '7b1e4d9a2c63'
down_revision = 'a7c3e9d1f5b2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'replies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('reference', sa.String(length=16), nullable=False),
        sa.Column('submission_key', sa.String(length=64), nullable=True),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('delivery_state', sa.String(length=16), nullable=False),
        sa.Column('last_error', sa.JSON(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('deliverable_since', sa.DateTime(timezone=True), nullable=True),
        sa.Column('post_started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('jira_comment_id', sa.String(length=32), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_replies_author_id_users')),
        sa.ForeignKeyConstraint(['request_id'], ['support_requests.id'],
                                name=op.f('fk_replies_request_id_support_requests')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_replies')),
        sa.UniqueConstraint('reference', name=op.f('uq_replies_reference')),
        sa.UniqueConstraint('submission_key', name=op.f('uq_replies_submission_key')),
    )
    with op.batch_alter_table('replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_replies_request_id'), ['request_id'], unique=False)
        batch_op.create_index('ix_replies_state', ['delivery_state', 'next_attempt_at'], unique=False)
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_attachments_reply_id'), ['reply_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_attachments_reply_id_replies'), 'replies', ['reply_id'], ['id'])


def downgrade():
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_attachments_reply_id_replies'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_attachments_reply_id'))
        batch_op.drop_column('reply_id')
    with op.batch_alter_table('replies', schema=None) as batch_op:
        batch_op.drop_index('ix_replies_state')
        batch_op.drop_index(batch_op.f('ix_replies_request_id'))
    op.drop_table('replies')
