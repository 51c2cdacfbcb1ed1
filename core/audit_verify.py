"""Checking the audit log's chains (``flask --app app audit verify``).

Each chain (one per school, one for the installation, see ``core.audit``) is checked on its own:
its ``seq`` runs 1, 2, 3… without a gap, each entry names the hash of the one before it, each hash
is the keyed hash of the entry's fields, and the chain reaches the entry its anchor names, with
that hash. A chain in the log without an anchor cannot vouch for its end; an anchor without its
chain in the log says the chain was deleted whole.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from core.audit import (
    ANCHOR_FILE,
    GENESIS,
    INSTALLATION,
    AuditEntry,
    anchor_path,
    anchored_chains,
    chain_key,
    read_anchor,
)
from extensions import db


@dataclass
class Break:
    chain: int
    checked: int  # entries of the chain intact before the break
    seq: int  # the first entry of the chain that cannot be vouched for
    last: int  # the chain's last seq in the log (0: none)
    anchor: tuple[int, str] | None  # what its anchor names


def _read_anchors(instance: Path) -> dict[int, tuple[int, str] | None]:
    anchors = {}
    for chain in anchored_chains(instance):
        try:
            anchors[chain] = read_anchor(instance, chain)
        except ValueError:
            anchors[chain] = (0, "")  # an unreadable anchor vouches for nothing
    return anchors


def verify_chains() -> tuple[int, list[Break]]:
    """Return (entries checked in intact chains and before each break, the broken chains)."""
    key = chain_key()
    instance = Path(current_app.instance_path)
    # The anchors first: what they name was committed before they were written, so the entries
    # read next hold it (read the other way round, a commit in between would look like a cut).
    anchors = _read_anchors(instance)
    breaks: list[Break] = []
    total = 0
    seen: set[int] = set()
    state = None  # [chain, expected seq, expected prev, checked, anchored hash, broken]

    def close(current) -> None:
        nonlocal total
        chain, expected_seq, _prev, checked, anchored_hash, broken = current
        total += checked
        if broken is not None:
            breaks.append(Break(chain, checked, broken, expected_seq - 1, anchors.get(chain)))
            return
        anchor = anchors.get(chain)
        if anchor is None:
            # Its first commit may have come after the anchors were read: read it again.
            with contextlib.suppress(ValueError):
                if read_anchor(instance, chain) is not None:
                    return
            breaks.append(Break(chain, checked, expected_seq, expected_seq - 1, None))
        elif anchor[0] >= expected_seq:  # the newest entries are gone
            breaks.append(Break(chain, checked, expected_seq, expected_seq - 1, anchor))
        elif anchored_hash != anchor[1]:
            breaks.append(Break(chain, checked, anchor[0], expected_seq - 1, anchor))

    result = db.session.execute(
        select(AuditEntry)
        .order_by(AuditEntry.chain, AuditEntry.seq)
        .execution_options(yield_per=1000)
    )
    # Closed on every exit: on PostgreSQL ``yield_per`` holds a server-side cursor open.
    with result:
        for entry in result.scalars():
            if state is None or entry.chain != state[0]:
                if state is not None:
                    close(state)
                seen.add(entry.chain)
                state = [entry.chain, 1, GENESIS, 0, None, None]
            if state[5] is not None:
                continue  # this chain is already broken: its next entries vouch for nothing
            if (
                entry.seq != state[1]
                or entry.prev_hash != state[2]
                or entry.hash != entry.compute_hash(key)
            ):
                state[5] = entry.seq if entry.seq == state[1] else state[1]
                continue
            anchor = anchors.get(entry.chain)
            if anchor is not None and entry.seq == anchor[0]:
                state[4] = entry.hash
            state[1], state[2], state[3] = entry.seq + 1, entry.hash, state[3] + 1
    if state is not None:
        close(state)
    # An anchor whose chain is not in the log at all: the chain was deleted whole.
    for chain in sorted(set(anchors) - seen):
        anchor = anchors[chain]
        if anchor is not None and anchor[0] > 0:
            breaks.append(Break(chain, 0, 1, 0, anchor))
    return total, breaks


def verify_chain() -> tuple[int, int | None]:
    """(entries checked, None) when every chain holds; else, for the first broken chain,
    (its entries intact before the break, the seq of its first entry that cannot be vouched
    for)."""
    total, breaks = verify_chains()
    if not breaks:
        return total, None
    return breaks[0].checked, breaks[0].seq


def _chain_name(chain: int) -> str:
    return "the installation chain" if chain == INSTALLATION else f"the chain of school {chain}"


audit_cli = AppGroup("audit", help="The audit log.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Check every hash chain and its anchor; report the first broken link or the cut."""
    checked, breaks = verify_chains()
    if not breaks:
        click.echo(f"audit log intact: {checked} entries")
        return
    instance = Path(current_app.instance_path)
    for broken in breaks:
        name = _chain_name(broken.chain)
        total = db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.chain == broken.chain)
        )
        intact = broken.checked == total
        if intact and broken.anchor is None:
            missing = anchor_path(instance, broken.chain)
            shown = instance / ANCHOR_FILE if broken.chain == INSTALLATION else missing
            click.echo(
                f"audit log not anchored ({name}): no readable {shown}, so a cut after "
                f"entry {broken.last} would go unseen ({broken.checked} entries intact)"
            )
        elif intact and broken.anchor[0] > broken.last:
            click.echo(
                f"audit log cut ({name}): broken at entry {broken.seq}; the anchor names entry "
                f"{broken.anchor[0]}, the log ends at {broken.last} "
                f"({broken.checked} of {total} entries intact)"
            )
        else:
            click.echo(
                f"audit log broken at entry {broken.seq} ({name}; "
                f"{broken.checked} of {total} entries intact)"
            )
    raise SystemExit(1)
