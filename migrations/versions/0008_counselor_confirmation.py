"""counselor confirmation and temporary passwords: a counselor reads cases once a second person
has confirmed the account; a password issued by someone else must be changed at first log-in

Revision ID: 0007_fix_oversight_confirmation
Revises: 0007_fix_login
Create Date: 2026-12-07 07:05:00

Counselors that exist already keep reading their school's cases: they are marked confirmed
(by nobody: before the rule).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_fix_oversight_confirmation'
down_revision = '0007_fix_login'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('must_change_password', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column('case_access_granted_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('case_access_confirmed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('case_access_confirmed_at', sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_users_case_access_granted_by_id_users'),
            'users', ['case_access_granted_by_id'], ['id'],
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_users_case_access_confirmed_by_id_users'),
            'users', ['case_access_confirmed_by_id'], ['id'],
        )
    op.execute(
        sa.text("UPDATE users SET case_access_confirmed_at = CURRENT_TIMESTAMP WHERE role = 'counselor'")
    )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_users_case_access_confirmed_by_id_users'), type_='foreignkey'
        )
        batch_op.drop_constraint(
            batch_op.f('fk_users_case_access_granted_by_id_users'), type_='foreignkey'
        )
        batch_op.drop_column('case_access_confirmed_at')
        batch_op.drop_column('case_access_confirmed_by_id')
        batch_op.drop_column('case_access_granted_by_id')
        batch_op.drop_column('must_change_password')
