"""Removed from Jira only when a later reconcile says so again

Revision ID: c9d0e1f2a3b4
Revises: b8c9d0e1f2a3
Create Date: 2026-12-01 13:15:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'c9d0e1f2a3b4'
down_revision = 'b8c9d0e1f2a3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('support_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('missing_since', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('support_requests', schema=None) as batch_op:
        batch_op.drop_column('missing_since')
