"""The support team's files are fetched by a worker: its lease, and why a file is not tried again

Revision ID: b7c1f0e2a901
Revises: 7a1fbfc10b6c
Create Date: 2026-12-01 12:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'b7c1f0e2a901'
down_revision = '7a1fbfc10b6c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fetch_started_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('fetch_problem', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_column('fetch_problem')
        batch_op.drop_column('fetch_started_at')
