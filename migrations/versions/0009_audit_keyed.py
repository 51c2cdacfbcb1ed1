"""audit chain keyed: every link becomes an HMAC-SHA256 with the key kept outside the database
(``AUDIT_KEY`` or ``<instance>/audit_key``), and the newest link is anchored in the instance
folder (``<instance>/audit_head``)

Revision ID: 0009_audit_keyed
Revises: 0007_fix_oversight_confirmation
Create Date: 2026-12-07 16:40:00

The chain as it is (plain SHA-256 links) is checked first; a broken chain is not re-keyed and
the upgrade stops (see ``core.audit.rekey_chain``). No column changes. The downgrade writes
plain links again.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009_audit_keyed'
down_revision = '0007_fix_oversight_confirmation'
branch_labels = None
depends_on = None


def upgrade():
    from core.audit import chain_key, rekey_chain

    rekey_chain(op.get_bind(), chain_key())


def downgrade():
    from core.audit import rekey_chain

    rekey_chain(op.get_bind(), None)
