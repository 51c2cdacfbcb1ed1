"""The append-only audit log: who did what, when, to which object.

One file though over 400 lines: the entry, its chain hash and the anchor kept outside the
database are one rule of writing; checking the chains lives in ``core.audit_verify``.

Each entry carries the hash of the previous one of its chain, so that a changed or deleted row
breaks the chain; ``flask --app app audit verify`` finds the first broken link.

There is one chain per school (the entries about it) and one for the installation (entries of no
school, and every entry written before ``0017_audit_chains``), so that writers of two schools never
wait for each other: each chain has its own lock (an advisory lock per chain on
PostgreSQL; SQLite has a single writer anyway), its own gap-free ``seq`` and its own anchor. A
school chain's hash also covers the chain's number, so an entry moved to another chain breaks both.

Two things live outside the database, in the instance folder, so that a copy of the database
alone is not enough to rewrite the log unnoticed:

- the chain's key (``AUDIT_KEY``, or ``<instance>/audit_key`` generated once): each entry's hash
  is an HMAC-SHA256 with it, so a row deleted or changed cannot be hidden by recomputing the
  hashes that follow without the key;
- the anchors (``<instance>/audit_head`` for the installation chain, ``<instance>/audit_heads/<n>``
  for the chain of school n): the sequence number and hash of the chain's newest entry this
  installation committed, written after each commit that added entries (under a file lock, only
  ever forward, so that two workers committing one after the other leave the later head). The
  newest entries deleted, the chain ends before its anchor; a whole chain deleted, its anchor names
  entries the log does not hold: ``verify`` says so.

Chains written before the key (plain SHA-256) are re-keyed once by the migration
``0009_audit_keyed`` (``rekey_chain``), which first checks them as they were. Checking the
chains is ``core.audit_verify``. (Over 400 lines: the titles of every kind of entry are kept
here, in one place, with the kinds.)
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

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import (
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.instance import instance_secret
from core.model_types import UTCDateTime, utcnow
from extensions import db

GENESIS = "0" * 64
KEY_FILE = "audit_key"
ANCHOR_FILE = "audit_head"  # the installation chain's
ANCHOR_DIR = "audit_heads"  # one file per school chain, named by the school's id
INSTALLATION = 0  # the chain of entries of no school (and of every entry before 0017)
LOCK_SPACE = 7214  # the advisory locks' first key on PostgreSQL; the chain is the second
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
    "escalation.notify": _l("Escalation: a contact of the school told"),
    "escalation.desk": _l("Escalation: the report handed to the duty desk"),
    "escalation.acknowledge": _l("Escalation acknowledged"),
    "escalation.contacts_edit": _l("Escalation list and working hours changed"),
    "routing.rules_edit": _l("Routing rules changed"),
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

    __table_args__ = (UniqueConstraint("chain", "seq", name="uq_audit_entries_chain_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The chain: the school's id, or INSTALLATION.
    chain: Mapped[int] = mapped_column(Integer, server_default="0")
    # A gap-free sequence in its chain; unique there, so two writers never extend the same link.
    seq: Mapped[int] = mapped_column(Integer)
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
        return _digest({name: getattr(self, name) for name in (*HASHED, "chain")}, key)


def _payload(values: Mapping) -> bytes:
    fields = [values[name] for name in HASHED]
    fields[1] = fields[1].isoformat(timespec="microseconds")
    # The installation chain's links are as before 0017; a school chain's also cover its number.
    chain = values.get("chain") or INSTALLATION
    if chain != INSTALLATION:
        fields.append({"chain": chain})
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


def anchor_path(instance: Path, chain: int = INSTALLATION) -> Path:
    if chain == INSTALLATION:
        return instance / ANCHOR_FILE
    return instance / ANCHOR_DIR / str(int(chain))


def anchored_chains(instance: Path) -> set[int]:
    """The chains that have an anchor file (a chain deleted whole still has one)."""
    chains = {INSTALLATION} if (instance / ANCHOR_FILE).exists() else set()
    with contextlib.suppress(FileNotFoundError):
        chains |= {int(p.name) for p in (instance / ANCHOR_DIR).iterdir() if p.name.isdigit()}
    return chains


def read_anchor(instance: Path, chain: int = INSTALLATION) -> tuple[int, str] | None:
    """The (seq, hash) the chain's anchor names, or None if there is none; ValueError if
    unreadable."""
    try:
        seq, digest = anchor_path(instance, chain).read_text().split()
    except FileNotFoundError:
        return None
    return int(seq), digest


def write_anchor(
    instance: Path, seq: int, digest: str, *, force: bool = False, chain: int = INSTALLATION
) -> None:
    """Move the chain's anchor forward to (seq, digest); a later head already written is kept,
    unless ``force`` (a re-keyed chain: every hash changed)."""
    target = anchor_path(instance, chain)
    target.parent.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(target.parent / f".{target.name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # released when the file is closed
        with contextlib.suppress(ValueError):
            current = read_anchor(instance, chain)
            if not force and current is not None and current[0] >= seq:
                return
        tmp = target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}"
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(f"{seq} {digest}\n")
        os.replace(tmp, target)  # readers see the old head or the new one
    finally:
        os.close(fd)


@event.listens_for(Session, "after_commit")
def _anchor_after_commit(session) -> None:
    heads = session.info.pop("audit_head", None)
    if not heads:
        return
    for chain, (instance, seq, digest) in heads.items():
        try:
            write_anchor(instance, seq, digest, chain=chain)
        except OSError:  # the entries are committed; verify will find the anchor behind
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
    school_id = school_id if school_id is not None else getattr(obj, "school_id", None)
    chain = int(school_id) if school_id is not None else INSTALLATION
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # Serialise writers of this chain (only) for the rest of this transaction.
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :chain)"),
            {"space": LOCK_SPACE, "chain": chain},
        )
    elif dialect == "sqlite":
        # Take the write lock before reading the last link: two processes that both read it
        # first would both extend it, and the second would fail on the unique ``seq``.
        raw = session.connection().connection.driver_connection
        if not raw.in_transaction:
            raw.execute("BEGIN IMMEDIATE")
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash)
        .where(AuditEntry.chain == chain)
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    ).first()
    entry = AuditEntry(
        chain=chain,
        seq=(last.seq + 1) if last else 1,
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_kind=actor_kind or ("staff" if actor is not None else "system"),
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=getattr(obj, "id", None),
        school_id=school_id,
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
        prev_hash=last.hash if last else GENESIS,
    )
    entry.hash = entry.compute_hash()
    session.add(entry)
    # Anchored outside the database once committed (``_anchor_after_commit``).
    heads = session.info.setdefault("audit_head", {})
    heads[chain] = (Path(current_app.instance_path), entry.seq, entry.hash)
    return entry


def rekey_chain(connection, key: bytes | None) -> int:
    """Rewrite every link with ``key`` (None: plain SHA-256, as before the key), after checking
    the chain as it is (either kind of link). Returns the number of entries; refuses (and
    changes nothing) if the chain is broken. Used by the migration ``0009_audit_keyed``."""
    table = AuditEntry.__table__
    # The columns of 0009's table (``chain`` came later): every entry then was the installation's.
    columns = [table.c[name] for name in ("id", *HASHED, "hash")]
    rows = connection.execute(select(*columns).order_by(table.c.seq)).mappings().all()
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


def init_app(app: Flask) -> None:
    configured = app.config.get("AUDIT_KEY")
    app.extensions["qamqor_audit_key"] = (
        configured.encode() if configured else instance_secret(Path(app.instance_path), KEY_FILE)
    )
