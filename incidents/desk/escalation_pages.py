"""Escalation pages: the school administrator's page for the chain and the working hours, and
the school staff's list of reports waiting for acknowledgement (the link of every escalation
notice), where a contact acknowledges one: the chain stops there."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import delete, exists, select
from sqlalchemy.orm import selectinload
from wtforms import SubmitField
from wtforms.fields.choices import SelectChoice

from core import audit
from core.model_types import utcnow
from extensions import db
from incidents.cases.deadlines import priority_rank
from incidents.desk import escalation
from incidents.desk.escalation_forms import MAX_CONTACTS, NOBODY, ContactsForm, minute_of
from incidents.desk.escalation_models import EscalationStep, SchoolContact, SchoolHours
from incidents.desk.hours import hours_of
from incidents.intake.models import Report
from incidents.scopes import school_holds
from school.access import first_or_404, permission_required, school_scope
from school.models import Permission, Role, User


class AckForm(FlaskForm):
    submit = SubmitField()


def _people() -> list[SelectChoice]:
    staff = db.session.scalars(
        select(User)
        .where(
            User.school_id == current_user.school_id,
            User.role.in_([Role.counselor, Role.school_admin]),
            User.active.is_(True),
        )
        .order_by(User.full_name, User.id)
    )
    return [SelectChoice(NOBODY, _("Nobody"))] + [
        SelectChoice(u.id, f"{u.full_name} ({u.role.title})") for u in staff
    ]


def _fill(form: ContactsForm, school_id: int) -> None:
    hours = hours_of(school_id)
    form.weekdays.data = [str(day) for day in hours.weekday_list]
    form.opens.data = f"{hours.opens_minute // 60:02d}:{hours.opens_minute % 60:02d}"
    form.closes.data = f"{hours.closes_minute // 60:02d}:{hours.closes_minute % 60:02d}"
    contacts = {c.position: c for c in escalation.contacts_of(school_id)}
    for n, person, window, night in form.rows():
        if n in contacts:
            person.data = contacts[n].user_id
            window.data = contacts[n].window_minutes
            night.data = contacts[n].night


@permission_required(Permission.set_escalation_chain)
def contacts():
    school_id = current_user.school_id
    form = ContactsForm()
    people = _people()
    for _n, person, _w, _h in form.rows():
        person.choices = people
    if not form.is_submitted():
        _fill(form, school_id)
    elif form.validate():
        _save(form, school_id)
        db.session.commit()
        flash(_("The escalation list and working hours are saved."), "success")
        return redirect(url_for("desk.contacts"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "incidents/desk/contacts.html", form=form, max_contacts=MAX_CONTACTS
    ), status


def _save(form: ContactsForm, school_id: int) -> None:
    rows = form.chosen_rows()
    db.session.execute(delete(SchoolContact).where(SchoolContact.school_id == school_id))
    db.session.flush()
    for position, (_n, user_id, window, night) in enumerate(rows, start=1):
        db.session.add(
            SchoolContact(
                school_id=school_id,
                position=position,
                user_id=user_id,
                window_minutes=window,
                night=bool(night),
            )
        )
    hours = db.session.get(SchoolHours, school_id) or SchoolHours(school_id=school_id)
    hours.weekdays = ",".join(sorted(form.weekdays.data or []))
    hours.opens_minute = minute_of(form.opens.data)
    hours.closes_minute = minute_of(form.closes.data)
    db.session.add(hours)
    audit.record(
        "escalation.contacts_edit",
        None,
        school_id=school_id,
        contacts=[user_id for _n, user_id, _w, _h in rows],
        weekdays=hours.weekdays,
        opens=form.opens.data,
        closes=form.closes.data,
    )


def _scope():
    return school_scope(current_user, Report.school_id) & school_holds(Report.school_id)


@permission_required(Permission.acknowledge_escalations)
def escalations():
    """Reports of the school with an escalation step nobody has acknowledged."""
    open_step = exists().where(
        EscalationStep.report_id == Report.id, EscalationStep.acknowledged_at.is_(None)
    )
    reports = list(
        db.session.scalars(
            select(Report)
            .where(_scope(), open_step, Report.first_response_at.is_(None))
            .order_by(priority_rank(Report.priority), Report.created_at)
            .limit(100)
        )
    )
    return render_template(
        "incidents/desk/escalations.html",
        reports=reports,
        steps=_steps_of([r.id for r in reports]),
        form=AckForm(),
    )


def _steps_of(report_ids: list[int]) -> dict[int, list[EscalationStep]]:
    """Each report's steps, in one statement (the people told with them)."""
    found: dict[int, list[EscalationStep]] = {report_id: [] for report_id in report_ids}
    rows = db.session.scalars(
        select(EscalationStep)
        .where(EscalationStep.report_id.in_(report_ids))
        .order_by(EscalationStep.report_id, EscalationStep.step)
        .options(selectinload(EscalationStep.user))
    )
    for step in rows:
        found[step.report_id].append(step)
    return found


@permission_required(Permission.acknowledge_escalations)
def acknowledge(report_id: int):
    report = first_or_404(select(Report).where(Report.id == report_id, _scope()))
    if not AckForm().validate_on_submit():
        flash(_("Please try again."), "error")
        return redirect(url_for("desk.escalations"), 303)
    try:
        escalation.acknowledge(report, by=current_user, now=utcnow())
        db.session.commit()
    except escalation.AlreadyTaken:
        db.session.rollback()
        flash(_("Someone at the school has already taken up this report."), "info")
        return redirect(url_for("desk.escalations"), 303)
    flash(_("Thank you: the report is yours now, and nobody else is called."), "success")
    return redirect(url_for("desk.escalations"), 303)
