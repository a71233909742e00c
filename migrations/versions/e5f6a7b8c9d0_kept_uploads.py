"""Files kept for unsent forms, counted per user against KEPT_FILES_MAX_MB

Revision ID: e5f6a7b8c9d0
Revises: d4e5f6a7b8c9
Create Date: 2026-12-01 12:20:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'e5f6a7b8c9d0'
down_revision = 'd4e5f6a7b8c9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'kept_uploads',
        sa.Column('stored_name', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('kept_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_kept_uploads_user_id_users')),
        sa.PrimaryKeyConstraint('stored_name', name=op.f('pk_kept_uploads')),
    )
    with op.batch_alter_table('kept_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kept_uploads_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('kept_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kept_uploads_user_id'))
    op.drop_table('kept_uploads')
