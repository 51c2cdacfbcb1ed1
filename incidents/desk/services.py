"""What a duty desk officer does with a report the desk holds: read it, answer the child through
the receipt conversation (``incidents.intake.reporting.add_staff_message``), open its case
(``incidents.cases.state_machine.open_case``), or hand it back to the school. Each step is
audited here; the caller commits."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, true, update

from core import audit
from core.mail import OutgoingMail
from extensions import db
from incidents.cases import overdue, state_machine
from incidents.cases.models import Case, Referral
from incidents.intake import reporting
from incidents.intake.models import Holder, Message, Report
from school.models import Permission, School, User


class DeskError(Exception):
    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


# The desk's inbox lists at most this many unanswered referrals, the longest waiting first.
UNANSWERED_SHOWN = 50


def unanswered_referrals(officer: User, now: datetime) -> list[Referral]:
    """Referrals of the officer's region (all regions for a national officer) that their body
    has not answered in time: they return to the desk as well as to the school. The
    desk sees the case's code, the school and the body, not the case."""
    if not officer.can(Permission.work_desk):
        return []
    in_region = (
        Referral.school_id.in_(select(School.id).where(School.region_id == officer.region_id))
        if officer.region_id is not None
        else true()
    )
    return overdue.unanswered_referrals(in_region, now, limit=UNANSWERED_SHOWN)


def record_view(report: Report, *, by: User) -> None:
    audit.record("desk.report_view", report, actor=by, routing=report.routing.value)


def answer_child(report: Report, *, by: User, body: str, now: datetime) -> Message:
    message = reporting.add_staff_message(report, by=by, body=body, now=now)
    if message is None:
        raise DeskError(_l("Please write a message."))
    audit.record("desk.message_send", report, actor=by, message_id=message.id)
    return message


def open_case(report: Report, *, by: User, now: datetime) -> Case:
    """The desk opens the report's case itself (audited as ``case.open`` by the officer). While
    the desk holds the report alone, the case is not the school's to see either."""
    case = state_machine.open_case(report, by=by, now=now)
    audit.record("desk.case_open", report, actor=by, case_id=case.id)
    return case


def hand_back(report: Report, *, by: User) -> list[OutgoingMail]:
    """The desk gives the report to the school: from now on the school holds it (and its case,
    if the desk opened one) as usual, and its counselors are told, as of a new report."""
    before = report.routing
    # One conditional UPDATE: of two officers handing back at once, one moves the report and
    # tells the school; the other finds it held by the school already.
    moved = db.session.execute(
        update(Report)
        .where(Report.id == report.id, Report.routing != Holder.school)
        .values(routing=Holder.school)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        raise DeskError(_l("The school already holds this report."))
    db.session.refresh(report, ["routing"])
    audit.record("desk.hand_back", report, actor=by, routing_before=before.value)
    return reporting.queue_notice(report)
