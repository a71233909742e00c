"""drop columns nothing reads

jira_settings.updated_at and updated_by_id: the audit log says who changed the settings and
when. app_state.updated_at: each value carries its own time.

Revision ID: 7a1fbfc10b6c
Revises: 416312df702e
Create Date: 2026-12-01 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a1fbfc10b6c'
down_revision = '416312df702e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jira_settings') as batch_op:
        batch_op.drop_constraint(op.f('fk_jira_settings_updated_by_id_users'), type_='foreignkey')
        batch_op.drop_column('updated_by_id')
        batch_op.drop_column('updated_at')
    with op.batch_alter_table('app_state') as batch_op:
        batch_op.drop_column('updated_at')


def _add_updated_at(table):
    """Back as NOT NULL, filled for the rows there are (SQLite adds no column with a
    non-constant default)."""
    with op.batch_alter_table(table) as batch_op:
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(f"UPDATE {table} SET updated_at = CURRENT_TIMESTAMP")
    with op.batch_alter_table(table) as batch_op:
        batch_op.alter_column('updated_at', existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade():
    _add_updated_at('app_state')
    _add_updated_at('jira_settings')
    with op.batch_alter_table('jira_settings') as batch_op:
        batch_op.add_column(sa.Column('updated_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_jira_settings_updated_by_id_users'), 'users',
                                    ['updated_by_id'], ['id'])
