"""Sessions that end: a per-account session version, carried in every session and
remember-me cookie

Revision ID: c3d9e4f5a6b7
Revises: 182f91fec22f
Create Date: 2026-12-01 11:55:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'c3d9e4f5a6b7'
down_revision = '182f91fec22f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='1'))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
