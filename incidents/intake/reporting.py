"""The rules of anonymous reporting: submit a report, find it by its receipt, talk, tell staff.

Nothing here knows about the request: no address, no user agent, no cookie reaches these
functions. A report and its files are committed before its receipt code leaves this module.
"""

from __future__ import annotations

import logging
import secrets
import traceback
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError

from core import audit
from core.mail import OutgoingMail, deliver, queue_for
from core.model_types import utcnow
from core.public_url import external_url
from extensions import commit_keeping_loaded, db
from incidents.desk import hours, routing
from incidents.desk.officers import desk_officers_for
from incidents.intake import receipts, uploads
from incidents.intake.models import (
    Attachment,
    AuthorKind,
    Frequency,
    Message,
    Perpetrator,
    Place,
    Priority,
    Report,
    ReportViolenceForm,
    Victim,
    ViolenceForm,
    WhenHappened,
)
from incidents.intake.priority import compute_priority
from school.models import Role, School, User

log = logging.getLogger(__name__)
LABEL_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class AlreadySubmitted(Exception):
    """The same form page was sent twice (a reload or a double tap): there is one report."""


class Submitted(NamedTuple):
    """A committed report, its receipt code (never stored) and the counselors' notices, queued
    in the report's own transaction: the caller shows the code, then ``send_notices``."""

    report: Report
    code: str
    notices: list[OutgoingMail]


@dataclass
class ReportInput:
    """What the student told, already validated."""

    victim: Victim
    perpetrator: Perpetrator
    forms: list[ViolenceForm] = field(default_factory=list)
    place: Place | None = None
    frequency: Frequency | None = None
    happened: WhenHappened | None = None
    grade_band: str | None = None
    description: str = ""
    is_danger_now: bool = False
    submission_token: str | None = None
    locale: str | None = None  # the language of the pages the child wrote on


def new_label() -> str:
    """A pseudonym staff see for a report, e.g. ``K7QM-2XDA``: random, derived from nothing."""
    raw = "".join(secrets.choice(LABEL_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def _unused(column, make):
    while True:
        value = make()
        if not db.session.scalar(select(exists().where(column == value))):
            return value


def _new_receipt() -> tuple[str, str]:
    """A fresh code and its hash; the hash is checked to be unused."""
    while True:
        code = receipts.new_code()
        digest = receipts.hash_code(code)
        if not db.session.scalar(select(exists().where(Report.receipt_hash == digest))):
            return code, digest


def hour(moment: datetime) -> datetime:
    """A time cut to the hour: what we keep of when a student came back."""
    return moment.replace(minute=0, second=0, microsecond=0)


def _store_files(files: list[uploads.CleanFile], report: Report, keys: list[str], message=None):
    for item in files:
        key = uploads.save_bytes(item.data)
        keys.append(key)
        report.attachments.append(
            Attachment(
                content_type=item.content_type,
                size=item.size,
                storage_key=key,
                message=message,
            )
        )


def _forget(keys: list[str]) -> None:
    """The transaction failed: remove the files written for it, so nothing half-saved remains."""
    db.session.rollback()
    for key in keys:
        uploads.delete_bytes(key)


def submit_report(
    school: School, data: ReportInput, files: list[uploads.CleanFile] = ()
) -> Submitted:
    """Record a report with its files and the counselors' notice, all in one transaction.

    Once this returns, nothing about the report needs the database again: the commit keeps
    what was loaded, so the receipt is shown whatever happens next. If
    anything fails before the commit (the database, the upload store, the outbox), nothing is
    kept: no report, no file, no notice, and the error goes to the caller.
    """
    if data.submission_token and db.session.scalar(
        select(exists().where(Report.submission_token == data.submission_token))
    ):
        raise AlreadySubmitted
    forms = list(dict.fromkeys(data.forms))
    code, digest = _new_receipt()
    priority = compute_priority(
        danger_now=data.is_danger_now,
        forms=forms,
        perpetrator=data.perpetrator,
        frequency=data.frequency,
    )
    report = Report(
        school=school,
        label=_unused(Report.label, new_label),
        receipt_hash=digest,
        is_danger_now=data.is_danger_now,
        victim=data.victim,
        perpetrator=data.perpetrator,
        place=data.place,
        frequency=data.frequency,
        happened=data.happened,
        grade_band=data.grade_band,
        description=data.description.strip(),
        locale=data.locale,
        priority=priority,
        routing=routing.route(data.perpetrator, priority),
        arrived_in_hours=hours.in_working_hours(school.id, utcnow()),
        submission_token=data.submission_token,
        forms=[ReportViolenceForm(form=form) for form in forms],
    )
    db.session.add(report)
    keys: list[str] = []
    try:
        _store_files(list(files), report, keys)
        db.session.flush()
        audit.record(
            "report.submit",
            report,
            actor_kind="reporter",
            priority=report.priority.value,
            routing=report.routing.value,
            danger_now=report.is_danger_now,
            forms=[form.value for form in forms],
            attachments=len(keys),
        )
        notices = queue_notice(report)
        commit_keeping_loaded()
    except IntegrityError as error:
        _forget(keys)
        # Only the submission token can clash here: the same form, sent twice at once.
        if data.submission_token and "submission_token" in str(error.orig):
            raise AlreadySubmitted from error
        raise
    except Exception:
        _forget(keys)
        raise
    return Submitted(report, code, notices)


def find_by_receipt(typed: str | None) -> Report | None:
    """The report of a receipt code as typed, or None; the same work whether or not it exists."""
    digest = receipts.hash_typed_code(typed)
    if digest is None:
        return None
    return db.session.scalar(select(Report).where(Report.receipt_hash == digest))


def note_reporter_visit(report: Report) -> None:
    """The student came back: remember the hour, and that they have seen the replies."""
    now = utcnow()
    report.last_reporter_activity_at = hour(now)
    db.session.execute(
        update(Message)
        .where(
            Message.report_id == report.id,
            Message.author_kind == AuthorKind.staff,
            Message.read_at.is_(None),
        )
        .values(read_at=now)
    )
    db.session.commit()


class Written(NamedTuple):
    """A committed message of the student and the counselors' notice committed with it."""

    message: Message
    notices: list[OutgoingMail]


def add_reporter_message(report: Report, body: str, files: list[uploads.CleanFile] = ()) -> Written:
    """The student writes back (with files, if any); the counselors' notice is queued in the
    same transaction, as for a report (``submit_report``): the caller then ``send_notices``."""
    message = Message(report=report, author_kind=AuthorKind.reporter, body=body.strip())
    db.session.add(message)
    report.last_reporter_activity_at = hour(utcnow())
    keys: list[str] = []
    try:
        _store_files(list(files), report, keys, message=message)
        db.session.flush()
        audit.record(
            "report.reporter_message",
            report,
            actor_kind="reporter",
            message_id=message.id,
            attachments=len(keys),
        )
        notices = queue_notice(report, follow_up=True)
        db.session.commit()
    except Exception:
        _forget(keys)
        raise
    return Written(message, notices)


def add_staff_message(report: Report, *, by: User, body: str, now: datetime) -> Message | None:
    """An adult's answer to the student (a school psychologist, or a duty desk officer), seen
    with the receipt code; the first one is the report's first response. None when ``body`` is
    empty. The caller audits and commits."""
    text = body.strip()
    if not text:
        return None
    message = Message(
        report=report, author_kind=AuthorKind.staff, author_id=by.id, body=text, created_at=now
    )
    db.session.add(message)
    if report.first_response_at is None:
        report.first_response_at = now
    db.session.flush()
    return message


# --- telling staff ----------------------------------------------------------------------------


def counselors_of(school_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.school_id == school_id,
                User.role == Role.counselor,
                User.active.is_(True),
            )
            .order_by(User.id)
        )
    )


def queue_notice(report: Report, *, follow_up: bool = False) -> list[OutgoingMail]:
    """A mail to each counselor of the school (and to the duty desk's officers, when the desk
    holds the report: ``incidents.desk.routing``) that something arrived: no content, no label.
    The school is told nothing of a report the desk holds alone.

    Only the urgency is said (so that a critical report is opened at once). Queued in the
    caller's transaction, so the notice is stored exactly when what it announces is; after the
    commit the caller hands it to ``send_notices`` (sent just after the answer).
    """
    notices: list[OutgoingMail] = []
    if routing.school_reads(report.routing):
        notices += queue_for(counselors_of(report.school_id), _composer(report, follow_up))
    if routing.desk_reads(report.routing):
        notices += queue_for(
            desk_officers_for(report), _composer(report, follow_up, endpoint="desk.inbox")
        )
    return notices


def _composer(report: Report, follow_up: bool, endpoint: str = "cases.inbox"):
    link = external_url(endpoint)

    def compose() -> tuple[str, str]:
        if follow_up:
            subject = _("Qamqor: a student has written again")
        elif report.priority == Priority.critical:
            subject = _("Qamqor: an URGENT new report — please look now")
        else:
            subject = _("Qamqor: a new report")
        if endpoint == "desk.inbox":
            body = _(
                "Something new has arrived for the duty desk in Qamqor. For the student's safety "
                "this e-mail says nothing more. Log in to read it:\n%(link)s",
                link=link,
            )
        else:
            body = _(
                "Something new has arrived for your school in Qamqor. For the student's safety "
                "this e-mail says nothing more. Log in to read it:\n%(link)s",
                link=link,
            )
        return subject, body

    return compose


def send_notices(notices: list[OutgoingMail]) -> None:
    """Hand committed notices to ``core.mail.deliver``; never fails. In a request they go out
    just after the answer (no page waits on the mail server); what is not sent then stays in the
    outbox for ``flask --app app mail send``, whatever went wrong (the mail server or the
    database)."""
    try:
        deliver(notices)
    except Exception as error:  # noqa: BLE001 - the notices are committed; cron sends them
        db.session.rollback()
        log.warning("notices left in the outbox for a later round: %s", type(error).__name__)


def log_failed_save(what: str, error: BaseException) -> None:
    """Something could not be saved (``what``: "a report", "a message"...): only the kind of
    error and where it was raised are logged, never what was written (an error's text may carry
    the statement's parameters)."""
    where = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    log.error(
        "%s could not be saved: %s (%s:%s)",
        what,
        type(error).__name__,
        where.filename if where else "?",
        where.lineno if where else "?",
    )
