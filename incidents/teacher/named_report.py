"""Mandatory reporting by teachers: "report what I saw", and the list of one's own reports.

A teacher later sees only that the report exists and its status, never the case.
"""

from __future__ import annotations

import logging
from contextlib import suppress

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from core import audit
from core.mail import OutgoingMail, queue_for
from core.model_types import TitledEnum
from core.public_url import external_url
from extensions import commit_keeping_loaded, db
from incidents.cases.enums import CaseState
from incidents.cases.forms import NONE, TeacherReportForm, options
from incidents.cases.models import TeacherReport
from incidents.cases.models import TeacherReportForm as ReportedForm
from incidents.cases.view_helpers import now
from incidents.intake.models import Perpetrator, Place, ViolenceForm, WhenHappened
from incidents.intake.priority import compute_priority
from incidents.intake.reporting import counselors_of, log_failed_save, send_notices
from incidents.scopes import teacher_report_scope
from school.access import permission_required
from school.models import Classroom, User
from school.roles import Permission

log = logging.getLogger(__name__)


class TeacherStatus(TitledEnum):
    received = "received"
    in_progress = "in_progress"
    closed = "closed"


TEACHER_STATUS_TITLES = {
    TeacherStatus.received: _l("Received, waiting for the school psychologist"),
    TeacherStatus.in_progress: _l("The school psychologist is working on it"),
    TeacherStatus.closed: _l("Closed"),
}
TeacherStatus.TITLES = TEACHER_STATUS_TITLES


def last_answer(report: TeacherReport):
    """When the school last moved on the report: the case's last change once it is under way,
    else the first response (``None`` while nobody has answered)."""
    case = report.case
    if case is not None and case.state != CaseState.new:
        return case.updated_at
    return report.first_response_at


def teacher_status(report: TeacherReport) -> TeacherStatus:
    case = report.case
    if case is None or case.state == CaseState.new:
        return TeacherStatus.received
    if case.state == CaseState.closed:
        return TeacherStatus.closed
    return TeacherStatus.in_progress


def file_teacher_report(
    author: User,
    *,
    forms: list[ViolenceForm],
    perpetrator: Perpetrator,
    place: Place,
    happened: WhenHappened,
    classroom: Classroom | None,
    is_danger_now: bool,
    description: str,
) -> TeacherReport:
    forms = list(dict.fromkeys(forms))
    report = TeacherReport(
        school_id=author.school_id,
        author_id=author.id,
        created_at=now(),
        is_danger_now=is_danger_now,
        perpetrator=perpetrator,
        place=place,
        happened=happened,
        classroom=classroom if classroom and classroom.school_id == author.school_id else None,
        description=description.strip(),
        priority=compute_priority(
            danger_now=is_danger_now, forms=forms, perpetrator=perpetrator, frequency=None
        ),
        forms=[ReportedForm(form=form) for form in forms],
    )
    db.session.add(report)
    db.session.flush()
    audit.record(
        "teacher_report.submit",
        report,
        actor=author,
        priority=report.priority.value,
        forms=[form.value for form in forms],
    )
    return report


def queue_teacher_notice(report: TeacherReport) -> list[OutgoingMail]:
    """A mail without content to each counselor of the school, queued in the caller's
    transaction (``incidents.intake.reporting.queue_notice`` does the same for a student's report)."""
    link = external_url("cases.inbox")

    def compose() -> tuple[str, str]:
        subject = _("Qamqor: a teacher has filed a report")
        body = _(
            "A teacher of your school has reported something they saw or heard. Log in to"
            " read it:\n%(link)s",
            link=link,
        )
        return subject, body

    return queue_for(counselors_of(report.school_id), compose)


def submit_teacher_report(author: User, **fields) -> tuple[TeacherReport, list[OutgoingMail]]:
    """File the report (``file_teacher_report``) and queue the counselors' notice in one
    transaction, as ``incidents.intake.reporting.submit_report`` does: once committed, nothing can lose
    the notice (the caller then ``send_notices``, just after the answer); if anything fails
    before the commit, nothing is committed and the error goes to the caller, who rolls back.
    The commit keeps what was loaded: the caller reads the report without the database."""
    report = file_teacher_report(author, **fields)
    notices = queue_teacher_notice(report)
    commit_keeping_loaded()
    return report, notices


@permission_required(Permission.write_named_reports)
def teacher_reports():
    rows = db.session.scalars(
        select(TeacherReport)
        .where(teacher_report_scope(current_user, TeacherReport.school_id, TeacherReport.author_id))
        .options(
            selectinload(TeacherReport.forms),
            selectinload(TeacherReport.classroom),
            selectinload(TeacherReport.case),  # the backref of Case.teacher_report
        )
        .order_by(TeacherReport.created_at.desc())
    ).all()
    return render_template(
        "incidents/teacher/list.html",
        reports=[(r, teacher_status(r), last_answer(r)) for r in rows],
    )


@permission_required(Permission.write_named_reports)
def teacher_report_new():
    form = TeacherReportForm()
    classes = db.session.scalars(
        select(Classroom)
        .where(Classroom.school_id == current_user.school_id)
        .order_by(Classroom.grade, Classroom.letter)
    ).all()
    form.classroom_id.choices = options([(NONE, "—")] + [(c.id, c.label) for c in classes])
    status = 200
    if form.validate_on_submit():
        try:
            report, notices = submit_teacher_report(
                current_user,
                forms=[ViolenceForm(v) for v in form.forms.data],
                perpetrator=Perpetrator(form.perpetrator.data),
                place=Place(form.place.data),
                happened=WhenHappened(form.happened.data),
                classroom=db.session.get(Classroom, form.classroom_id.data or 0),
                is_danger_now=form.is_danger_now.data,
                description=form.description.data,
            )
        except Exception as error:  # noqa: BLE001 - whatever failed, the teacher keeps the form
            with suppress(SQLAlchemyError):
                db.session.rollback()  # nothing kept; on a lost connection it starts over
            log_failed_save("a teacher's report", error)
            return render_template("incidents/teacher/new.html", form=form, unsaved=True), 503
        flash(_("Thank you. Your report has been sent to the school psychologist."), "success")
        if report.is_danger_now:
            flash(
                _(
                    "If the child is in danger right now, call 112 or the police (102) at once:"
                    " do not wait for the school psychologist."
                ),
                "error",
            )
        send_notices(notices)
        return redirect(url_for("teacher.teacher_reports"))
    if form.errors:
        status = 400
    return render_template("incidents/teacher/new.html", form=form), status
