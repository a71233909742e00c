"""What went with a request besides what was typed ("Sent with your request"), and the
technical details the admin may ask for

Revision ID: a7c3e9d1f5b2
Revises: e1a2b3c4d5f6
Create Date: 2026-12-01 17:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'a7c3e9d1f5b2'
down_revision = 'e1a2b3c4d5f6'
branch_labels = None
depends_on = None
FIELD_IDS = ('environment_field_id', 'application_field_id', 'correlation_field_id', 'http_status_field_id',
             'occurred_field_id')


def upgrade():
    with op.batch_alter_table('support_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('context', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('technical', sa.JSON(), nullable=True))
    with op.batch_alter_table('jira_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('technical_fields', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('environments', sa.Text(), server_default='', nullable=False))
        for name in FIELD_IDS:
            batch_op.add_column(sa.Column(name, sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table('support_requests', schema=None) as batch_op:
        batch_op.drop_column('technical')
        batch_op.drop_column('context')
    with op.batch_alter_table('jira_settings', schema=None) as batch_op:
        for name in FIELD_IDS:
            batch_op.drop_column(name)
        batch_op.drop_column('environments')
        batch_op.drop_column('technical_fields')
