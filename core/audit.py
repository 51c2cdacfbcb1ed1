"""The append-only audit log: who did what, when, to which object.

Each entry carries the hash of the previous one, so that a changed or deleted row breaks the
chain; ``flask --app app audit verify`` finds the first broken link.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import click
from flask import Flask
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import ForeignKey, Integer, String, Text, event, func, select, text
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from school.models import UTCDateTime, utcnow

GENESIS = "0" * 64

# Entries that the audit page spells out (the others show their action's code): who was given
# the right to read the cases of a school, and who confirmed it.
ACTION_TITLES = {
    "user.case_access_granted": _l(
        "Given the right to read cases (waiting for a second person's confirmation)"
    ),
    "user.case_access_confirmed": _l("Right to read cases confirmed"),
}


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A gap-free sequence; unique, so two writers can never both extend the same link.
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # "staff", "reporter" (anonymous, never identified) or "system".
    actor_kind: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32), default="")
    object_id: Mapped[int | None]
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    # Facts about the change (ids, states, field names); never a narrative or a message.
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    @property
    def title(self) -> str | None:
        title = ACTION_TITLES.get(self.action)
        return str(title) if title is not None else None

    def compute_hash(self) -> str:
        payload = json.dumps(
            [
                self.seq,
                self.at.isoformat(timespec="microseconds"),
                self.actor_id,
                self.actor_kind,
                self.action,
                self.object_type,
                self.object_id,
                self.school_id,
                self.detail,
                self.prev_hash,
            ],
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(payload.encode()).hexdigest()


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_change(mapper, connection, target):  # noqa: ARG001
    raise RuntimeError("The audit log is append-only")


def record(
    action: str,
    obj: object | None = None,
    *,
    school_id: int | None = None,
    actor: object | None = None,
    actor_kind: str | None = None,
    **detail: object,
) -> AuditEntry:
    """Add an entry to the current transaction; the caller commits with its own change."""
    if actor is None and actor_kind is None and getattr(current_user, "is_authenticated", False):
        actor = current_user
    session = db.session
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # Serialise writers of the chain for the rest of this transaction.
        session.execute(text("SELECT pg_advisory_xact_lock(7214)"))
    elif dialect == "sqlite":
        # Take the write lock before reading the last link: two processes that both read it
        # first would both extend it, and the second would fail on the unique ``seq``.
        raw = session.connection().connection.driver_connection
        if not raw.in_transaction:
            raw.execute("BEGIN IMMEDIATE")
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    entry = AuditEntry(
        seq=(last.seq + 1) if last else 1,
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_kind=actor_kind or ("staff" if actor is not None else "system"),
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=getattr(obj, "id", None),
        school_id=school_id if school_id is not None else getattr(obj, "school_id", None),
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
        prev_hash=last.hash if last else GENESIS,
    )
    entry.hash = entry.compute_hash()
    session.add(entry)
    return entry


def verify_chain() -> tuple[int, int | None]:
    """Return (entries checked, seq of the first broken link or None)."""
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    result = db.session.execute(
        select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000)
    )
    # Closed on every exit: on PostgreSQL ``yield_per`` holds a server-side cursor open.
    with result:
        for entry in result.scalars():
            if (
                entry.seq != expected_seq
                or entry.prev_hash != expected_prev
                or entry.hash != entry.compute_hash()
            ):
                return checked, entry.seq if entry.seq == expected_seq else expected_seq
            expected_prev, expected_seq, checked = entry.hash, expected_seq + 1, checked + 1
    return checked, None


audit_cli = AppGroup("audit", help="The audit log.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Check the hash chain and report the first broken link."""
    checked, broken = verify_chain()
    total = db.session.scalar(select(func.count()).select_from(AuditEntry))
    if broken is None:
        click.echo(f"audit log intact: {checked} entries")
        return
    click.echo(f"audit log broken at entry {broken} ({checked} of {total} entries intact)")
    raise SystemExit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(audit_cli)
