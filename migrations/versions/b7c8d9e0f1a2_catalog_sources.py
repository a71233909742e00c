"""Products that follow an OpenAPI document by URL; each endpoint's summary

Revision ID: b7c8d9e0f1a2
Revises: d7e8f9a0b1c2
Create Date: 2026-12-01 17:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'b7c8d9e0f1a2'
down_revision = 'd7e8f9a0b1c2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_url', sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column('source_reading', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('source_found', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('source_error', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('source_read_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('api_endpoints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('summary', sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table('api_endpoints', schema=None) as batch_op:
        batch_op.drop_column('summary')
    with op.batch_alter_table('api_products', schema=None) as batch_op:
        batch_op.drop_column('source_read_at')
        batch_op.drop_column('source_error')
        batch_op.drop_column('source_found')
        batch_op.drop_column('source_reading')
        batch_op.drop_column('source_url')
