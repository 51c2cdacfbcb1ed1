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
from incidents import casework, letters, uploads
from incidents.case_enums import ActionKind, PersonKind, PersonRole
from incidents.case_forms import NONE, ActionDoneForm, ActionForm, MessageForm, PersonForm, options
from incidents.models import Attachment
from incidents.staff import (
    attempt,
    bp,
    build_forms,
    case_url,
    handle,
    load_case,
    now,
    school_classes,
)
from school.access import roles_required
from school.models import Classroom, Role

# --- people, actions, messages (counselors only) ----------------------------------------------


@bp.post("/staff/cases/<opaque:case_id>/people")
@roles_required(Role.counselor)
def person_add(case_id: int):
    case = load_case(case_id)
    form = PersonForm()
    form.classroom_id.choices = options([(NONE, "—"), *school_classes(case)])

    def run():
        casework.add_person(
            case,
            by=current_user,
            role=PersonRole(form.role.data),
            kind=PersonKind(form.kind.data),
            classroom=db.session.get(Classroom, form.classroom_id.data or 0),
            alias=form.alias.data or "",
        )

    return handle(case, form, "person_form", run, _("The person has been added."), "people")


@bp.post("/staff/cases/<opaque:case_id>/people/<opaque:person_id>/remove")
@roles_required(Role.counselor)
def person_remove(case_id: int, person_id: int):
    case = load_case(case_id)
    person = next((p for p in case.people if p.id == person_id), None)
    if person is None:
        abort(404)
    attempt(lambda: casework.remove_person(person, by=current_user), _("Removed."))
    return redirect(case_url(case, "people"))


@bp.post("/staff/cases/<opaque:case_id>/actions")
@roles_required(Role.counselor)
def action_add(case_id: int):
    case = load_case(case_id)
    form = ActionForm()
    build_forms(case, action_form=form)

    def run():
        casework.plan_action(
            case,
            by=current_user,
            kind=ActionKind(form.kind.data),
            due_on=form.due_on.data,
            now=now(),
            person=next((p for p in case.people if p.id == form.person_id.data), None),
            lesson_slug=form.lesson_slug.data or None,
        )

    return handle(case, form, "action_form", run, _("The action has been planned."), "actions")


@bp.post("/staff/cases/<opaque:case_id>/actions/<opaque:action_id>/done")
@roles_required(Role.counselor)
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
        lambda: casework.complete_action(
            action, by=current_user, now=now(), note=form.note.data or ""
        ),
        _("Marked as done."),
    )
    return redirect(case_url(case, "actions"))


@bp.post("/staff/cases/<opaque:case_id>/messages")
@roles_required(Role.counselor)
def message_send(case_id: int):
    case = load_case(case_id)
    form = MessageForm()

    def run():
        casework.send_message(case, by=current_user, body=form.body.data, now=now())

    success = _("Your message has been sent. The student will see it with their receipt code.")
    return handle(case, form, "message_form", run, success, "messages")


@bp.get("/staff/cases/<opaque:case_id>/summary.pdf")
@roles_required(Role.counselor)
def case_summary(case_id: int):
    case = load_case(case_id)
    data = letters.render_summary(case, locale=current_locale())
    audit.record("case.summary_pdf", case)
    db.session.commit()
    return pdf_response(data, f"case-{case.label}.pdf")


# --- the reporter's files (counselors only) ---------------------------------------------------

# A file opened from Qamqor is sandboxed on top of the site's policy: its content runs nothing.
FILE_POLICY = f"{CSP}; sandbox"


@bp.get("/staff/cases/<opaque:case_id>/files/<opaque:file_id>")
@roles_required(Role.counselor)
def case_file(case_id: int, file_id: int):
    """A file the student sent with the report or a message. Each opening is in the audit log.
    Pictures open in the browser; a PDF (pictures of its pages, see ``incidents.uploads``) is
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
