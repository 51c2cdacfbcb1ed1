"""fix-login: users.two_factor_enrolled_at; log-in failures leave the table (school.lockout)

An account that already has an authenticator counts as enrolled since it was created. The
failure counter and the lock move to the rate limiter's storage, per account and client.

Revision ID: 0007_fix_login
Revises: 0006_mail_outbox
Create Date: 2026-12-07 07:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_fix_login'
down_revision = '0006_mail_outbox'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('two_factor_enrolled_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE users SET two_factor_enrolled_at = created_at WHERE totp_secret IS NOT NULL"
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_column('two_factor_enrolled_at')
