"""The append-only audit log: who did what, when, to which object.

Each entry carries the hash of the previous one, so that a changed or deleted row breaks the
chain; ``flask --app app audit verify`` finds the first broken link.

Two things live outside the database, in the instance folder, so that a copy of the database
alone is not enough to rewrite the log unnoticed:

- the chain's key (``AUDIT_KEY``, or ``<instance>/audit_key`` generated once): each entry's hash
  is an HMAC-SHA256 with it, so a row deleted or changed cannot be hidden by recomputing the
  hashes that follow without the key;
- the anchor (``<instance>/audit_head``): the sequence number and hash of the newest entry this
  installation committed, written after each commit that added entries (under a file lock, only
  ever forward, so that two workers committing one after the other leave the later head). The
  newest entries deleted, the log ends before the anchor: ``verify`` says so.

Chains written before the key (plain SHA-256) are re-keyed once by the migration
``0009_audit_keyed`` (``rekey_chain``), which first checks them as they were.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import ForeignKey, Integer, String, Text, event, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.instance import instance_secret
from core.model_types import UTCDateTime, utcnow
from extensions import db

GENESIS = "0" * 64
KEY_FILE = "audit_key"
ANCHOR_FILE = "audit_head"
# The fields each hash covers, in this order.
HASHED = (
    "seq",
    "at",
    "actor_id",
    "actor_kind",
    "action",
    "object_type",
    "object_id",
    "school_id",
    "detail",
    "prev_hash",
)

log = logging.getLogger(__name__)

# What the audit page says for each kind of entry (the filter lists them too); an action without
# a title shows its code.
ACTION_TITLES = {
    "user.case_access_granted": _l(
        "Given the right to read cases (waiting for a second person's confirmation)"
    ),
    "user.case_access_confirmed": _l("Right to read cases confirmed"),
    "case.view": _l("Case viewed"),
    "case.open": _l("Case opened"),
    "case.triage": _l("Case triaged"),
    "case.update": _l("Case details changed"),
    "case.transition": _l("Case moved to another state"),
    "case.priority": _l("Priority changed"),
    "case.action_plan": _l("Action planned"),
    "case.action_done": _l("Action done"),
    "case.person_add": _l("Person added to a case"),
    "case.person_remove": _l("Person removed from a case"),
    "case.closure_request": _l("Closure asked for approval"),
    "case.closure_decision": _l("Closure decided"),
    "case.summary_pdf": _l("Case summary downloaded"),
    "case.rules_applied": _l("Referral rules applied"),
    "case.purge": _l("Case deleted after its retention period"),
    "report.submit": _l("Report received"),
    "desk.report_view": _l("Report read by the duty desk"),
    "desk.message_send": _l("The duty desk wrote to the student"),
    "desk.case_open": _l("Case opened by the duty desk"),
    "desk.hand_back": _l("Report handed back to the school by the duty desk"),
    "report.read": _l("Report read before a case was opened"),
    "report.reporter_message": _l("Student wrote a message"),
    "teacher_report.submit": _l("Teacher's report received"),
    "message.send": _l("Message sent to the student"),
    "message.read": _l("Student's messages read"),
    "attachment.view": _l("Student's file opened"),
    "referral.create": _l("Referral drafted"),
    "referral.update": _l("Referral changed"),
    "referral.send": _l("Referral sent"),
    "referral.view": _l("Referral viewed"),
    "referral.letter_pdf": _l("Referral letter downloaded"),
    "referral.acknowledge": _l("Referral acknowledged by the body"),
    "referral.outcome": _l("Answer recorded by the body"),
    "referral.outcome_undo": _l("Answer undone by the body"),
    "duty.create": _l("Duties by law added to the case"),
    "duty.meet": _l("Duty by law recorded as met"),
    "duty.withdraw": _l("Duty by law withdrawn (no longer applies)"),
    "referral.delete": _l("Referral draft deleted"),
    "overdue.notify": _l("Overdue notice sent"),
    "audit.view": _l("Audit log viewed"),
    "user.login": _l("Logged in"),
    "user.create": _l("Account created"),
    "user.update": _l("Account changed"),
    "user.change_password": _l("Password changed"),
    "user.reset_password": _l("Password reset"),
    "user.two_factor_enabled": _l("Two-factor log-in enabled"),
    "user.two_factor_disabled": _l("Two-factor log-in disabled"),
    "user.two_factor_reset": _l("Two-factor log-in reset"),
    "user.recovery_codes": _l("Recovery codes made"),
    "retention.purge": _l("Old data deleted"),
}


# Detail keys that hold a running number of the whole platform (shown as tokens).
OPAQUE_DETAIL = frozenset(
    {
        "case_id",
        "referral_id",
        "report_id",
        "action_id",
        "person_id",
        "message_id",
        "attachment_id",
        "request_id",
        "before",
    }
)


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

    @property
    def shown_items(self) -> list[tuple[str, str]]:
        """The details as "key: value" lines (running numbers as tokens), not raw JSON."""
        try:
            detail = json.loads(self.shown_detail)
        except ValueError:
            return [("", self.detail)]
        if not isinstance(detail, dict):
            return [("", self.detail)]
        return [
            (key.replace("_", " "), "—" if value is None else str(value))
            for key, value in sorted(detail.items())
        ]

    @property
    def shown_detail(self) -> str:
        """The details as the audit page shows them: running numbers (ids of what hangs under
        a case, a place in the chain) as ``core.opaque`` tokens, like the addresses."""
        from core.opaque import opaque

        try:
            detail = json.loads(self.detail)
        except ValueError:
            return self.detail
        if not isinstance(detail, dict):
            return self.detail
        for key in OPAQUE_DETAIL.intersection(detail):
            if isinstance(detail[key], int) and not isinstance(detail[key], bool):
                detail[key] = opaque(detail[key])
        return json.dumps(detail, ensure_ascii=False, sort_keys=True)

    def compute_hash(self, key: bytes | None = None) -> str:
        """The entry's link: HMAC-SHA256 of its fields with the chain's key."""
        return _digest({name: getattr(self, name) for name in HASHED}, key)


def _payload(values: Mapping) -> bytes:
    fields = [values[name] for name in HASHED]
    fields[1] = fields[1].isoformat(timespec="microseconds")
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()


def _digest(values: Mapping, key: bytes | None = None) -> str:
    key = chain_key() if key is None else key
    return hmac.new(key, _payload(values), hashlib.sha256).hexdigest()


def _plain_digest(values: Mapping) -> str:
    """The hash of chains written before the key (only ``rekey_chain`` reads it)."""
    return hashlib.sha256(_payload(values)).hexdigest()


# --- what lives outside the database -------------------------------------------------------------


def chain_key() -> bytes:
    return current_app.extensions["qamqor_audit_key"]


def read_anchor(instance: Path) -> tuple[int, str] | None:
    """The (seq, hash) the anchor names, or None if there is none; ValueError if unreadable."""
    try:
        seq, digest = (instance / ANCHOR_FILE).read_text().split()
    except FileNotFoundError:
        return None
    return int(seq), digest


def write_anchor(instance: Path, seq: int, digest: str, *, force: bool = False) -> None:
    """Move the anchor forward to (seq, digest); a later head already written is kept, unless
    ``force`` (a re-keyed chain: every hash changed)."""
    fd = os.open(instance / ".audit_head.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # released when the file is closed
        with contextlib.suppress(ValueError):
            current = read_anchor(instance)
            if not force and current is not None and current[0] >= seq:
                return
        tmp = instance / f".{ANCHOR_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(f"{seq} {digest}\n")
        os.replace(tmp, instance / ANCHOR_FILE)  # readers see the old head or the new one
    finally:
        os.close(fd)


@event.listens_for(Session, "after_commit")
def _anchor_after_commit(session) -> None:
    head = session.info.pop("audit_head", None)
    if head is None:
        return
    try:
        write_anchor(*head)
    except OSError:  # the entries are committed; verify will find the anchor behind, not wrong
        log.exception("audit: the anchor in the instance folder could not be written")


@event.listens_for(Session, "after_rollback")
def _forget_head(session) -> None:
    session.info.pop("audit_head", None)


@event.listens_for(Session, "after_transaction_end")
def _forget_head_at_the_end(session, transaction) -> None:
    """A transaction ended without its commit (``close``, not ``rollback``): what it recorded
    was never committed, so it must not be anchored by the session's next commit."""
    if transaction.parent is None:
        session.info.pop("audit_head", None)


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
    # Anchored outside the database once committed (``_anchor_after_commit``).
    session.info["audit_head"] = (Path(current_app.instance_path), entry.seq, entry.hash)
    return entry


def verify_chain() -> tuple[int, int | None]:
    """Return (entries checked, seq of the first entry that cannot be vouched for, or None).

    A link is broken when its seq, its previous hash or its keyed hash is wrong; the log is cut
    when it ends before the entry the anchor names (then the first missing seq is returned), or
    when the entry there has another hash; a log without an anchor cannot vouch for its end."""
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    key = chain_key()
    # The anchor first: what it names was committed before it was written, so the entries read
    # next hold it (read the other way round, a commit in between would look like a cut).
    try:
        anchor = read_anchor(Path(current_app.instance_path))
    except ValueError:
        anchor = (0, "")  # an unreadable anchor vouches for nothing
    anchored_hash = None
    result = db.session.execute(
        select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000)
    )
    # Closed on every exit: on PostgreSQL ``yield_per`` holds a server-side cursor open.
    with result:
        for entry in result.scalars():
            if (
                entry.seq != expected_seq
                or entry.prev_hash != expected_prev
                or entry.hash != entry.compute_hash(key)
            ):
                return checked, entry.seq if entry.seq == expected_seq else expected_seq
            if anchor is not None and entry.seq == anchor[0]:
                anchored_hash = entry.hash
            expected_prev, expected_seq, checked = entry.hash, expected_seq + 1, checked + 1
    if anchor is None:
        return checked, (expected_seq if checked else None)
    if anchor[0] >= expected_seq:
        return checked, expected_seq  # the newest entries are gone
    if anchored_hash != anchor[1]:
        return checked, anchor[0]
    return checked, None


def rekey_chain(connection, key: bytes | None) -> int:
    """Rewrite every link with ``key`` (None: plain SHA-256, as before the key), after checking
    the chain as it is (either kind of link). Returns the number of entries; refuses (and
    changes nothing) if the chain is broken. Used by the migration ``0009_audit_keyed``."""
    table = AuditEntry.__table__
    rows = connection.execute(select(table).order_by(table.c.seq)).mappings().all()
    expected_prev, expected_seq = GENESIS, 1
    current = chain_key()
    for row in rows:
        if (
            row["seq"] != expected_seq
            or row["prev_hash"] != expected_prev
            or row["hash"] not in (_plain_digest(row), _digest(row, current))
        ):
            raise RuntimeError(
                f"The audit log is broken at entry {expected_seq}: it was not re-keyed. "
                "Find out what happened before upgrading."
            )
        expected_prev, expected_seq = row["hash"], expected_seq + 1
    prev = GENESIS
    for row in rows:
        values = {**row, "prev_hash": prev}
        digest = _plain_digest(values) if key is None else _digest(values, key)
        connection.execute(
            table.update().where(table.c.id == row["id"]).values(prev_hash=prev, hash=digest)
        )
        prev = digest
    if key is not None and rows:
        write_anchor(Path(current_app.instance_path), rows[-1]["seq"], prev, force=True)
    return len(rows)


audit_cli = AppGroup("audit", help="The audit log.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Check the hash chain and its anchor; report the first broken link or the cut."""
    checked, broken = verify_chain()
    total = db.session.scalar(select(func.count()).select_from(AuditEntry))
    if broken is None:
        click.echo(f"audit log intact: {checked} entries")
        return
    instance = Path(current_app.instance_path)
    try:
        anchor = read_anchor(instance)
    except ValueError:
        anchor = None
    last = db.session.scalar(select(func.max(AuditEntry.seq))) or 0
    if checked == total and anchor is None:
        click.echo(
            f"audit log not anchored: no readable {instance / ANCHOR_FILE}, so a cut after "
            f"entry {last} would go unseen ({checked} entries intact)"
        )
    elif checked == total and anchor[0] > last:
        click.echo(
            f"audit log cut: broken at entry {broken}; the anchor names entry {anchor[0]}, "
            f"the log ends at {last} ({checked} of {total} entries intact)"
        )
    else:
        click.echo(f"audit log broken at entry {broken} ({checked} of {total} entries intact)")
    raise SystemExit(1)


def init_app(app: Flask) -> None:
    configured = app.config.get("AUDIT_KEY")
    app.extensions["qamqor_audit_key"] = (
        configured.encode() if configured else instance_secret(Path(app.instance_path), KEY_FILE)
    )
    app.cli.add_command(audit_cli)
