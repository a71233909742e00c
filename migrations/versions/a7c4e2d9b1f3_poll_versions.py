"""Change counters for conditional polls (a request's, a user's requests'), key search indexes

Revision ID: a7c4e2d9b1f3
Revises: c8d9e0f1a2b3
Create Date: 2026-12-01 17:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'a7c4e2d9b1f3'
down_revision = 'c8d9e0f1a2b3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('support_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('poll_version', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index('ix_support_requests_jira_key', ['jira_key'], unique=False,
                              postgresql_ops={'jira_key': 'varchar_pattern_ops'})
        batch_op.create_index('ix_support_requests_reference_prefix', ['reference'], unique=False,
                              postgresql_ops={'reference': 'varchar_pattern_ops'})
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requests_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('requests_version')
    with op.batch_alter_table('support_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_support_requests_reference_prefix')
        batch_op.drop_index('ix_support_requests_jira_key')
        batch_op.drop_column('poll_version')
