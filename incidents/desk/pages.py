"""The duty desk's pages: its inbox (the reports routed to the desk in the officer's region, what
needs attention first: the unanswered, the critical, the oldest; a page at a time) and a
report's page, where the officer reads it, answers the child, opens the case or hands the report
back to the school. Every report is loaded through
``incidents.scopes.desk_report_scope``: another region's report is a 404."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from wtforms import SubmitField

from core.paging import paginate
from extensions import db
from incidents.cases.case_steps import WorkflowError
from incidents.cases.deadlines import priority_rank
from incidents.cases.forms import MessageForm, NewReferralForm, options
from incidents.cases.models import Case
from incidents.desk import services
from incidents.intake.models import Holder, Report
from incidents.intake.reporting import send_notices
from incidents.referrals import services as referrals
from incidents.scopes import desk_report_scope
from school.access import first_or_404, permission_required
from school.models import utcnow
from school.roles import Permission


class ActForm(FlaskForm):
    submit = SubmitField()


def _scope():
    return desk_report_scope(current_user, Report.routing, Report.school_id)


def _load(report_id: int) -> Report:
    return first_or_404(select(Report).where(Report.id == report_id, _scope()))


@permission_required(Permission.work_desk)
def inbox():
    stmt = (
        select(Report, Case)
        .outerjoin(Case, Case.report_id == Report.id)
        .where(_scope())
        # What needs attention first: not yet answered, the critical first, then the oldest
        # (whose first-response time runs out first).
        .order_by(
            Report.first_response_at.is_not(None),
            priority_rank(Report.priority),
            Report.created_at,
            Report.id,
        )
        .options(selectinload(Report.school))
    )
    return render_template(
        "incidents/desk/inbox.html",
        page=paginate(stmt, request.args, rows=True),
        unanswered=services.unanswered_referrals(current_user, utcnow()),
    )


def _referral_form(report: Report) -> NewReferralForm:
    """The desk refers the case it holds with the counselor's pages, rules and letters."""
    form = NewReferralForm(formdata=None)
    form.body_id.choices = options(
        (b.id, f"{b.kind.title} · {b.name}") for b in referrals.body_choices(report.school)
    )
    return form


def _render(report: Report, form: MessageForm | None = None, status: int = 200):
    return (
        render_template(
            "incidents/desk/report.html",
            report=report,
            case=report.case,
            message_form=form or MessageForm(),
            act_form=ActForm(),
            referral_form=_referral_form(report) if report.case is not None else None,
            Holder=Holder,
        ),
        status,
    )


@permission_required(Permission.work_desk)
def report_detail(report_id: int):
    report = _load(report_id)
    services.record_view(report, by=current_user)
    db.session.commit()
    return _render(report)


@permission_required(Permission.work_desk)
def message_send(report_id: int):
    report = _load(report_id)
    form = MessageForm()
    if not form.validate_on_submit():
        return _render(report, form, 400)
    try:
        services.answer_child(report, by=current_user, body=form.body.data, now=utcnow())
        db.session.commit()
    except services.DeskError as error:
        db.session.rollback()
        form.body.errors.append(str(error.message))
        return _render(report, form, 400)
    flash(
        _("Your message has been sent. The student will see it with their receipt code."), "success"
    )
    return redirect(url_for("desk.report_detail", report_id=report.id, _anchor="messages"))


@permission_required(Permission.work_desk)
def open_case(report_id: int):
    report = _load(report_id)
    if not ActForm().validate_on_submit():
        return _render(report, status=400)
    try:
        services.open_case(report, by=current_user, now=utcnow())
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # opened at the same moment by someone else: theirs is the case
    except WorkflowError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return _render(report, status=409)
    flash(_("The case is open."), "success")
    return redirect(url_for("desk.report_detail", report_id=report.id))


@permission_required(Permission.work_desk)
def hand_back(report_id: int):
    report = _load(report_id)
    if not ActForm().validate_on_submit():
        return _render(report, status=400)
    try:
        notices = services.hand_back(report, by=current_user)
        db.session.commit()
    except services.DeskError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return _render(report, status=409)
    send_notices(notices)
    flash(_("The report is now with the school's psychologists."), "success")
    return redirect(url_for("desk.inbox"))
