"""Escalation chains: a report at the critical priority, or past its first-response
target, that no adult has taken up (no answer, no triage, no case, no acknowledgement) is told to
the school's contacts in their order (``SchoolContact``), one at a time; when a contact does not
acknowledge within their window, the next one is told, and after the last the duty desk, which
then holds the report with the school (``Holder.both``: the school still sees it). Outside the
school's working hours (``incidents.desk.hours``) the contacts who are not on duty at night are
passed over. Reports received before the first deploy's cut-off (``EscalationCutoff``, written by
migration 0021) are never taken up: switching the chain on does not flood the desk.

``run(now)`` takes the steps that are due; ``flask --app app desk escalate`` runs it every
minute. Each step is one transaction: its row in ``escalation_steps`` (unique per report and
step number: of two runners at once, one takes it, the other's insert fails and changes
nothing), its audit entry and its notices in the outbox (``core.mail``), so a notice whose send
fails is sent by ``mail send`` later and never lost. Notices say nothing of the report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import exists, or_, select, update
from sqlalchemy.exc import IntegrityError

from core import audit
from core.mail import OutgoingMail, deliver, queue_for
from core.public_url import external_url
from extensions import db
from incidents.cases.deadlines import awaiting_response_overdue
from incidents.cases.models import Case
from incidents.desk.escalation_models import EscalationCutoff, EscalationStep, SchoolContact
from incidents.desk.hours import in_working_hours
from incidents.desk.officers import desk_officers_for
from incidents.intake.models import Holder, Priority, Report
from school.models import User

log = logging.getLogger(__name__)


def waiting(now: datetime):
    """SQL: the reports the chain is for, not yet at the desk's step."""
    desk_step = exists().where(
        EscalationStep.report_id == Report.id, EscalationStep.position.is_(None)
    )
    # The first deploy's cut-off: reports received before the chain existed are not taken up.
    cutoff = select(EscalationCutoff.since).where(EscalationCutoff.id == 1).scalar_subquery()
    return (
        select(Report)
        .where(
            or_(cutoff.is_(None), Report.created_at >= cutoff),
            Report.routing != Holder.desk,  # the desk holds it alone already
            Report.first_response_at.is_(None),
            ~exists().where(Case.report_id == Report.id),
            or_(
                Report.priority == Priority.critical,
                awaiting_response_overdue(
                    Report.created_at, Report.priority, Report.first_response_at, now
                ),
            ),
            ~desk_step,
        )
        .order_by(Report.created_at, Report.id)
    )


def contacts_of(school_id: int) -> list[SchoolContact]:
    return list(
        db.session.scalars(
            select(SchoolContact)
            .join(User, User.id == SchoolContact.user_id)
            .where(SchoolContact.school_id == school_id, User.active.is_(True))
            .order_by(SchoolContact.position)
        )
    )


@dataclass(frozen=True)
class Plan:
    number: int
    contact: SchoolContact | None  # None: the duty desk
    skipped: tuple[int, ...]


def next_step(report: Report, now: datetime) -> Plan | None:
    """The step due now for ``report``, or None (waiting for the contact told last, or done)."""
    steps = list(
        db.session.scalars(
            select(EscalationStep)
            .where(EscalationStep.report_id == report.id)
            .order_by(EscalationStep.step)
        )
    )
    after = 0
    if steps:
        last = steps[-1]
        if last.position is None:
            return None
        if now < last.notified_at + timedelta(minutes=last.window_minutes or 0):
            return None
        after = last.position
    on_duty = in_working_hours(report.school_id, now)
    skipped = []
    for contact in contacts_of(report.school_id):
        if contact.position <= after:
            continue
        if on_duty or contact.night:
            return Plan(len(steps) + 1, contact, tuple(skipped))
        skipped.append(contact.position)
    return Plan(len(steps) + 1, None, tuple(skipped))


def _contact_notice() -> tuple[str, str]:
    return (
        _("Qamqor: a report is waiting for you to acknowledge it"),
        _(
            "A report at your school has not been taken up yet, and you are on its escalation"
            " list. For the student's safety this e-mail says nothing more. Log in to"
            " acknowledge it:\n%(link)s",
            link=external_url("desk.escalations"),
        ),
    )


def _desk_notice() -> tuple[str, str]:
    return (
        _("Qamqor: a report that the school has not taken up"),
        _(
            "A report has reached the duty desk because nobody at the school acknowledged it in"
            " time. For the student's safety this e-mail says nothing more. Log in to read"
            " it:\n%(link)s",
            link=external_url("desk.inbox"),
        ),
    )


def take(report: Report, plan: Plan, now: datetime) -> list[OutgoingMail] | None:
    """Record the step with its notices and commit; None when another runner took it."""

    contact = plan.contact
    step = EscalationStep(
        report_id=report.id,
        step=plan.number,
        user_id=contact.user_id if contact else None,
        position=contact.position if contact else None,
        window_minutes=contact.window_minutes if contact else None,
        notified_at=now,
    )
    db.session.add(step)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return None
    if contact is None:
        # The desk holds it with the school; one that the desk holds already stays as it is.
        db.session.execute(
            update(Report)
            .where(Report.id == report.id, Report.routing == Holder.school)
            .values(routing=Holder.both)
            .execution_options(synchronize_session=False)
        )
        mails = queue_for(desk_officers_for(report), _desk_notice)
    else:
        mails = queue_for([contact.user], _contact_notice)
    audit.record(
        "escalation.desk" if contact is None else "escalation.notify",
        report,
        actor_kind="system",
        step=plan.number,
        position=step.position,
        skipped=list(plan.skipped),
        recipients=len(mails),
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return mails


def run(now: datetime, limit: int | None = None) -> int:
    """Take every step due at ``now`` (the first ``limit`` reports waiting, for a measurement);
    returns how many were taken."""
    taken = 0
    due = waiting(now).with_only_columns(Report.id).limit(limit)
    for report_id in list(db.session.scalars(due)):
        report = db.session.get(Report, report_id)
        plan = next_step(report, now)
        if plan is None:
            continue
        mails = take(report, plan, now)
        if mails is None:
            continue
        taken += 1
        try:
            deliver(mails, now)
        except Exception as error:  # noqa: BLE001 - committed with the step: ``mail send`` sends it
            db.session.rollback()
            log.warning("escalation notices left in the outbox: %s", type(error).__name__)
    return taken


class AlreadyTaken(Exception):
    pass


def acknowledge(report: Report, *, by: User, now: datetime) -> None:
    """``by`` has the report: the chain stops, and the report has its first human response now
    (unless it had one). The caller commits; ``AlreadyTaken`` when someone had it already."""
    acked = db.session.execute(
        update(EscalationStep)
        .where(EscalationStep.report_id == report.id, EscalationStep.acknowledged_at.is_(None))
        .values(acknowledged_at=now, acknowledged_by_id=by.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    first = db.session.execute(
        update(Report)
        .where(Report.id == report.id, Report.first_response_at.is_(None))
        .values(first_response_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not acked and not first:
        raise AlreadyTaken
    audit.record("escalation.acknowledge", report, actor=by, steps=acked)


def steps_of(report_id: int) -> list[EscalationStep]:
    return list(
        db.session.scalars(
            select(EscalationStep)
            .where(EscalationStep.report_id == report_id)
            .order_by(EscalationStep.step)
        )
    )
