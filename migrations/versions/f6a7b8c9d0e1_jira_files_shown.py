"""A Jira file is shown to the requester only when a public comment shows it, or when the
admin shows every file on the issue

Revision ID: f6a7b8c9d0e1
Revises: e5f6a7b8c9d0
Create Date: 2026-12-01 12:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'f6a7b8c9d0e1'
down_revision = 'e5f6a7b8c9d0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('in_public_comment', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('jira_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('show_all_jira_files', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('jira_settings', schema=None) as batch_op:
        batch_op.drop_column('show_all_jira_files')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_column('in_public_comment')
