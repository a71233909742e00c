"""Statuses in people's words: Jira's statuses with customer-facing names in English and
Turkish and the "waiting for the customer" mark; Jira's status id (and category) on requests
and their history

Revision ID: d7e8f9a0b1c2
Revises: c5d6e7f8a9b0
Create Date: 2026-12-01 17:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'd7e8f9a0b1c2'
down_revision = 'c5d6e7f8a9b0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'jira_statuses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('jira_id', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=True),
        sa.Column('name_en', sa.String(length=100), nullable=False),
        sa.Column('name_tr', sa.String(length=100), nullable=False),
        sa.Column('waiting_for_customer', sa.Boolean(), nullable=False),
        sa.Column('in_jira', sa.Boolean(), nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_jira_statuses')),
        sa.UniqueConstraint('jira_id', name=op.f('uq_jira_statuses_jira_id')),
    )
    with op.batch_alter_table('support_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('jira_status_id', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_support_requests_jira_status_id'), ['jira_status_id'], unique=False)
    with op.batch_alter_table('status_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('from_status_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('from_category', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('to_status_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('to_category', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('status_changes', schema=None) as batch_op:
        batch_op.drop_column('to_category')
        batch_op.drop_column('to_status_id')
        batch_op.drop_column('from_category')
        batch_op.drop_column('from_status_id')
    with op.batch_alter_table('support_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_requests_jira_status_id'))
        batch_op.drop_column('jira_status_id')
    op.drop_table('jira_statuses')
