"""Inside a case (counselors only): the people involved, the actions of the plan, messages with
the anonymous reporter, and the case summary PDF."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core import audit
from core.downloads import content_disposition
from core.i18n import current_locale
from core.pdf import pdf_response
from core.security import CSP
from extensions import db
from incidents.cases import case_steps, duties
from incidents.cases.case_pages import build_forms, handle, school_classes
from incidents.cases.enums import ActionKind, DutyMet, PersonKind, PersonRole
from incidents.cases.forms import (
    NONE,
    ActionDoneForm,
    ActionForm,
    DutyMetForm,
    MessageForm,
    PersonForm,
    options,
)
from incidents.cases.view_helpers import attempt, case_url, load_case, now
from incidents.intake import uploads
from incidents.intake.models import Attachment
from incidents.referrals import letters
from school.access import permission_required
from school.models import Classroom
from school.roles import Permission

# --- people, actions, messages (counselors only) ----------------------------------------------


@permission_required(Permission.work_cases)
def person_add(case_id: int):
    case = load_case(case_id)
    form = PersonForm()
    form.classroom_id.choices = options([(NONE, "—"), *school_classes(case)])

    def run():
        case_steps.add_person(
            case,
            by=current_user,
            role=PersonRole(form.role.data),
            kind=PersonKind(form.kind.data),
            classroom=db.session.get(Classroom, form.classroom_id.data or 0),
            alias=form.alias.data or "",
        )

    return handle(case, form, "person_form", run, _("The person has been added."), "people")


@permission_required(Permission.work_cases)
def person_remove(case_id: int, person_id: int):
    case = load_case(case_id)
    person = next((p for p in case.people if p.id == person_id), None)
    if person is None:
        abort(404)
    attempt(lambda: case_steps.remove_person(person, by=current_user), _("Removed."))
    return redirect(case_url(case, "people"))


@permission_required(Permission.work_cases)
def action_add(case_id: int):
    case = load_case(case_id)
    form = ActionForm()
    build_forms(case, action_form=form)

    def run():
        case_steps.plan_action(
            case,
            by=current_user,
            kind=ActionKind(form.kind.data),
            due_on=form.due_on.data,
            now=now(),
            person=next((p for p in case.people if p.id == form.person_id.data), None),
            lesson_slug=form.lesson_slug.data or None,
        )

    return handle(case, form, "action_form", run, _("The action has been planned."), "actions")


@permission_required(Permission.work_cases)
def action_done(case_id: int, action_id: int):
    case = load_case(case_id)
    action = next((a for a in case.actions if a.id == action_id), None)
    if action is None:
        abort(404)
    form = ActionDoneForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
        return redirect(case_url(case, "actions"))
    attempt(
        lambda: case_steps.complete_action(
            action, by=current_user, now=now(), note=form.note.data or ""
        ),
        _("Marked as done."),
    )
    return redirect(case_url(case, "actions"))


@permission_required(Permission.work_cases)
def duty_met(case_id: int, duty_id: int):
    """The counselor records how a legal duty of the case was met (another school's duty, or a
    duty of another case, is a 404: it is looked up among the scoped case's own)."""
    case = load_case(case_id)
    duty = next((d for d in case.duties if d.id == duty_id), None)
    if duty is None:
        abort(404)
    form = DutyMetForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
        return redirect(case_url(case, "duties"))
    attempt(
        lambda: duties.meet(
            duty, by=current_user, how=DutyMet(form.how.data), note=form.note.data or "", now=now()
        ),
        _("Recorded how the duty was met."),
    )
    return redirect(case_url(case, "duties"))


@permission_required(Permission.work_cases)
def message_send(case_id: int):
    case = load_case(case_id)
    form = MessageForm()

    def run():
        case_steps.send_message(case, by=current_user, body=form.body.data, now=now())

    success = _("Your message has been sent. The student will see it with their receipt code.")
    return handle(case, form, "message_form", run, success, "messages")


@permission_required(Permission.work_cases)
def case_summary(case_id: int):
    case = load_case(case_id)
    data = letters.render_summary(case, locale=current_locale())
    audit.record("case.summary_pdf", case)
    db.session.commit()
    return pdf_response(data, f"case-{case.label}.pdf")


# --- the reporter's files (counselors only) ---------------------------------------------------

# A file opened from Qamqor is sandboxed on top of the site's policy: its content runs nothing.
FILE_POLICY = f"{CSP}; sandbox"


@permission_required(Permission.work_cases)
def case_file(case_id: int, file_id: int):
    """A file the student sent with the report or a message. Each opening is in the audit log.
    Pictures open in the browser; a PDF (pictures of its pages, see ``incidents.intake.uploads``) is
    downloaded."""
    case = load_case(case_id)
    if case.report_id is None:
        abort(404)  # a teacher's report has no files
    attachment = db.session.scalar(
        select(Attachment).where(Attachment.id == file_id, Attachment.report_id == case.report_id)
    )
    if attachment is None:
        abort(404)
    try:
        data = uploads.load_bytes(attachment.storage_key)
    except FileNotFoundError:
        abort(404)  # removed with the case's texts under the retention rule
    audit.record("attachment.view", case, attachment_id=attachment.id)
    db.session.commit()
    response = current_app.response_class(data, mimetype=attachment.content_type)
    response.headers["Content-Disposition"] = content_disposition(
        f"{case.label}-{attachment.id}.{attachment.extension}", inline=attachment.is_image
    )
    response.headers["Content-Security-Policy"] = FILE_POLICY
    response.headers["Cache-Control"] = "no-store"
    return response
