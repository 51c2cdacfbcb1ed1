"""platform administrators confirmed by a second one: an administrator account made (or given
the role, a new address or a password) in the app by someone waits for another confirmed
platform administrator, like a counselor (``school.services.may_confirm``)

Revision ID: 0010_admin_confirmation
Revises: 0009_audit_keyed
Create Date: 2026-12-07 17:45:00

No column changes (0008 added them). Administrators that exist already stay administrators:
they are marked confirmed (by nobody: before the rule); 0008 marked only the counselors. The
downgrade changes nothing: before this revision the column means nothing for an administrator,
and clearing it would only lose who confirmed which administrator, and when.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010_admin_confirmation"
down_revision = "0009_audit_keyed"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        sa.text(
            "UPDATE users SET case_access_confirmed_at = CURRENT_TIMESTAMP"
            " WHERE role = 'admin' AND case_access_confirmed_at IS NULL"
        )
    )


def downgrade():
    pass
