"""Second Jira issues carrying a request's portal reference

Revision ID: b8c9d0e1f2a3
Revises: a7b8c9d0e1f2
Create Date: 2026-12-01 12:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'b8c9d0e1f2a3'
down_revision = 'a7b8c9d0e1f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'duplicate_issues',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('jira_issue_id', sa.String(length=32), nullable=False),
        sa.Column('jira_key', sa.String(length=32), nullable=False),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['support_requests.id'],
                                name=op.f('fk_duplicate_issues_request_id_support_requests')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_issues')),
        sa.UniqueConstraint('request_id', 'jira_issue_id', name=op.f('uq_duplicate_issues_request_id')),
    )
    with op.batch_alter_table('duplicate_issues', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duplicate_issues_request_id'), ['request_id'], unique=False)


def downgrade():
    with op.batch_alter_table('duplicate_issues', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duplicate_issues_request_id'))
    op.drop_table('duplicate_issues')
