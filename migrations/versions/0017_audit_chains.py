"""one audit chain per school and one for the installation (issue 19): writers of two schools
no longer wait for each other's lock

Revision ID: 0017_audit_chains
Revises: 0016_duty_desk
Create Date: 2026-12-07 23:10:00

Every entry written before becomes the installation chain (``chain = 0``), whose links are
computed as before, so the log verifies against the anchor it already has. ``seq`` is unique in
its chain, not in the log. A downgrade checks every chain, then links all entries into one
chain again in the order they were written (``id``), with the key, and anchors its head; a broken
chain stops it and changes nothing.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0017_audit_chains"
down_revision = "0016_duty_desk"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain", sa.Integer(), server_default="0", nullable=False))
        batch_op.drop_constraint("uq_audit_entries_seq", type_="unique")
        batch_op.create_unique_constraint("uq_audit_entries_chain_seq", ["chain", "seq"])


def _one_chain(bind) -> None:
    import shutil
    from pathlib import Path

    from flask import current_app

    from core import audit

    table = audit.AuditEntry.__table__  # its types read ``at`` back as a time on SQLite too
    columns = [table.c[n] for n in ("id", "chain", *audit.HASHED, "hash")]
    rows = bind.execute(sa.select(*columns).order_by(table.c.chain, table.c.seq)).mappings().all()
    key = audit.chain_key()
    chain, expected_prev, expected_seq = None, audit.GENESIS, 1
    for row in rows:
        if row["chain"] != chain:
            chain, expected_prev, expected_seq = row["chain"], audit.GENESIS, 1
        if (
            row["seq"] != expected_seq
            or row["prev_hash"] != expected_prev
            or row["hash"] != audit._digest(row, key)
        ):
            raise RuntimeError(
                f"The audit log is broken at entry {expected_seq} of chain {chain}: "
                "it was not made one chain again. Find out what happened before downgrading."
            )
        expected_prev, expected_seq = row["hash"], expected_seq + 1
    prev, seq = audit.GENESIS, 0
    # Out of the way first: the old seq repeat across chains.
    bind.execute(table.update().values(seq=-table.c.id))
    for row in sorted(rows, key=lambda r: r["id"]):
        seq += 1
        values = {**row, "chain": audit.INSTALLATION, "seq": seq, "prev_hash": prev}
        digest = audit._digest(values, key)
        bind.execute(
            table.update()
            .where(table.c.id == row["id"])
            .values(chain=0, seq=seq, prev_hash=prev, hash=digest)
        )
        prev = digest
    instance = Path(current_app.instance_path)
    if rows:
        audit.write_anchor(instance, seq, prev, force=True)
    shutil.rmtree(instance / audit.ANCHOR_DIR, ignore_errors=True)


def downgrade():
    _one_chain(op.get_bind())
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_audit_entries_chain_seq", type_="unique")
        batch_op.create_unique_constraint("uq_audit_entries_seq", ["seq"])
        batch_op.drop_column("chain")
