"""Webhook deliveries already handled, so a captured one sent again refreshes nothing

Revision ID: d4e5f6a7b8c9
Revises: c3d9e4f5a6b7
Create Date: 2026-12-01 12:10:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'd4e5f6a7b8c9'
down_revision = 'c3d9e4f5a6b7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'seen_webhooks',
        sa.Column('identifier', sa.String(length=128), nullable=False),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('identifier', name=op.f('pk_seen_webhooks')),
    )
    with op.batch_alter_table('seen_webhooks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seen_webhooks_seen_at'), ['seen_at'], unique=False)


def downgrade():
    with op.batch_alter_table('seen_webhooks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seen_webhooks_seen_at'))
    op.drop_table('seen_webhooks')
