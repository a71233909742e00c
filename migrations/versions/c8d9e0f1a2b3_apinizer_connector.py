"""The Apinizer API Manager connector: its settings row; the proxy a product mirrors

Revision ID: c8d9e0f1a2b3
Revises: b7c8d9e0f1a2
Create Date: 2026-12-01 18:05:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'c8d9e0f1a2b3'
down_revision = 'b7c8d9e0f1a2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'apinizer_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('base_url', sa.String(length=500), nullable=False),
        sa.Column('api_token_encrypted', sa.Text(), nullable=True),
        sa.Column('api_token_last4', sa.String(length=4), nullable=True),
        sa.Column('projects', sa.JSON(), nullable=False),
        sa.Column('known_projects', sa.JSON(), nullable=True),
        sa.Column('reading', sa.Boolean(), nullable=False),
        sa.Column('found', sa.JSON(), nullable=True),
        sa.Column('error', sa.JSON(), nullable=True),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_apinizer_settings')),
    )
    with op.batch_alter_table('api_products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('apinizer_project', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('apinizer_proxy', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('api_products', schema=None) as batch_op:
        batch_op.drop_column('apinizer_proxy')
        batch_op.drop_column('apinizer_project')
    op.drop_table('apinizer_settings')
