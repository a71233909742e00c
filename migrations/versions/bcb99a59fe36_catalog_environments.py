"""Environments from the catalog: a product's OpenAPI servers or Apinizer environments, which
list the form offers (per product and in Jira Config); Apinizer's "Read projects"

Revision ID: bcb99a59fe36
Revises: c2d3e4f5a6b8
Create Date: 2026-12-01 21:20:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'bcb99a59fe36'
down_revision = 'c2d3e4f5a6b8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jira_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('environments_from', sa.String(length=10), nullable=False,
                                      server_default='admin'))
    with op.batch_alter_table('api_products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('catalog_environments', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('environments_from', sa.String(length=10), nullable=True))
    with op.batch_alter_table('apinizer_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('projects_reading', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('projects_error', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('projects_read_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('apinizer_settings', schema=None) as batch_op:
        batch_op.drop_column('projects_read_at')
        batch_op.drop_column('projects_error')
        batch_op.drop_column('projects_reading')
    with op.batch_alter_table('api_products', schema=None) as batch_op:
        batch_op.drop_column('environments_from')
        batch_op.drop_column('catalog_environments')
    with op.batch_alter_table('jira_settings', schema=None) as batch_op:
        batch_op.drop_column('environments_from')
