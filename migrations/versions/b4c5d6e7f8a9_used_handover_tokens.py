"""Hand-over tokens already used, so a captured one cannot log anybody in again

Revision ID: b4c5d6e7f8a9
Revises: f2a3b4c5d6e7
Create Date: 2026-12-01 15:20:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'b4c5d6e7f8a9'
down_revision = 'f2a3b4c5d6e7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'used_handover_tokens',
        sa.Column('jti', sa.String(length=128), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('jti', name=op.f('pk_used_handover_tokens')),
    )
    with op.batch_alter_table('used_handover_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_used_handover_tokens_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('used_handover_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_used_handover_tokens_expires_at'))
    op.drop_table('used_handover_tokens')
