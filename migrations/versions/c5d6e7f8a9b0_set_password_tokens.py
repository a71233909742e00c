"""One-time links to set a password: the SHA-256 of each token, its account, expiry and use

Revision ID: c5d6e7f8a9b0
Revises: a3b4c5d6e7f8
Create Date: 2026-12-01 15:50:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'c5d6e7f8a9b0'
down_revision = 'a3b4c5d6e7f8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'set_password_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE',
                                name=op.f('fk_set_password_tokens_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_set_password_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_set_password_tokens_token_hash')),
    )
    with op.batch_alter_table('set_password_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_set_password_tokens_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('set_password_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_set_password_tokens_user_id'))
    op.drop_table('set_password_tokens')
