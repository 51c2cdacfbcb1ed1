"""Coming back with the code: ``/r/check`` opens the conversation, ``/r/conversation`` reads
the school's answers and writes back. The session holds the open conversation (see
``student_pages``) for ``CONVERSATION_IDLE`` seconds without a request."""

from __future__ import annotations

import time
from contextlib import suppress

from flask import (
    flash,
    make_response,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from core.anonymity import client_key
from extensions import db
from incidents.intake import receipts
from incidents.intake.forms import (
    CheckForm,
    MessageForm,
)
from incidents.intake.models import (
    AuthorKind,
    Report,
)
from incidents.intake.reporting import (
    add_reporter_message,
    find_by_receipt,
    note_reporter_visit,
    send_notices,
)
from incidents.intake.status import child_status
from incidents.intake.student_pages import (
    CONVERSATION_IDLE,
    T,
    _limit,
    _not_saved,
    _open_conversation,
    _unavailable,
)
from incidents.intake.uploads import UploadRefused, clean_uploads
from school.models import Role, User


def _open_report() -> tuple[Report | None, bool]:
    """The report of the open conversation, and whether it had just expired."""
    opened = session.get("report")
    if not isinstance(opened, dict):
        return None, False
    now = time.time()
    if now - float(opened.get("seen", 0)) > CONVERSATION_IDLE:
        session.pop("report", None)
        return None, True
    report = db.session.get(Report, int(opened.get("id", 0)))
    if report is None:
        session.pop("report", None)
        return None, False
    session["report"] = {"id": report.id, "seen": int(now)}
    return report, False


@_limit("RECEIPT_RATE_LIMIT")
def check():
    form = CheckForm()
    if form.is_submitted() and (wait := receipts.wait_left(client_key())):
        # Refused before the code is looked at; the client is told how long, nothing waits here.
        page = make_response(render_template(T + "wait.html", seconds=wait), 429)
        page.headers["Retry-After"] = str(wait)
        return page
    wait = 0
    if form.validate_on_submit():
        report = find_by_receipt(form.code.data)
        if report is not None:
            _open_conversation(report)
            return redirect(url_for(".conversation"), 303)
        wait = receipts.note_wrong_code(client_key())
        # One message for an unknown, a mistyped and a malformed code.
        form.code.errors.append(
            _("We could not open a report with this code. Check the 16 digits and try again.")
        )
    page = make_response(render_template(T + "check.html", form=form, wait=wait))
    if wait:
        page.headers["Retry-After"] = str(wait)
    return page


@_limit("MESSAGE_RATE_LIMIT")
def conversation():
    form = MessageForm()
    try:
        report, expired = _open_report()
    except SQLAlchemyError as error:  # the database is away: what was written comes back
        _not_saved(error, "a message")
        if form.is_submitted():
            return _conversation_page(None, form, unsaved=True), 503
        return _unavailable()
    if report is None:
        if expired:
            flash(
                _(
                    "For your safety the conversation closed after 30 minutes without activity. "
                    "Enter your code again."
                ),
                "info",
            )
        return redirect(url_for(".check"), 303)
    status = 200
    if form.validate_on_submit():
        answer = _write_back(report, form)
        if not isinstance(answer, int):
            return answer
        status = answer
    elif form.is_submitted():
        status = 400
    else:
        note_reporter_visit(report)
    return _conversation_page(report, form), status


def _write_back(report: Report, form: MessageForm) -> object:
    """Save what the child wrote back, then send them to the conversation; or the status of the
    form shown again as typed (a file refused, nothing written). When the message cannot be
    saved (the database, the outbox), nothing is kept and the child gets the conversation back
    with what they wrote, a 503 and the notice, as for a report; when the file store fails, the
    upload's own message (``UploadRefused``)."""
    body = (form.body.data or "").strip()
    try:
        files = clean_uploads(form.files.data or [])
        if not (body or files):
            form.body.errors.append(_("Write something or add a file."))
            return 400
        notices = add_reporter_message(report, body, files).notices
    except UploadRefused as refused:
        form.files.errors.append(refused.message)
        return refused.status
    except Exception as error:  # noqa: BLE001 - whatever failed, the child keeps what they wrote
        _not_saved(error, "a message")
        return _conversation_page(report, form, unsaved=True), 503
    flash(_("Sent. The school psychologist will see it."), "success")
    send_notices(notices)
    return redirect(url_for(".conversation"), 303)


def _conversation_page(report: Report | None, form: MessageForm, unsaved: bool = False) -> str:
    """The conversation with the form. When a message could not be saved and the database
    cannot give the conversation any more (or could not find it at all), only the form with
    what was written and the notice."""
    if report is not None:
        try:
            return _render_conversation(report, form, unsaved)
        except SQLAlchemyError:
            if not unsaved:
                raise
            with suppress(SQLAlchemyError):
                db.session.rollback()
    return _render_conversation(None, form, unsaved)


def _desk_authors(messages: list) -> set[int]:
    """The authors among ``messages`` who answer for the regional duty desk: one statement,
    however many messages (and also with none, so that the page's count does not grow)."""
    ids = {message.author_id for message in messages if message.author_id is not None}
    return set(
        db.session.scalars(select(User.id).where(User.id.in_(ids), User.role == Role.desk_officer))
    )


def _render_conversation(report: Report | None, form: MessageForm, unsaved: bool) -> str:
    messages = report.messages if report is not None else []
    return render_template(
        T + "conversation.html",
        report=report,
        status=child_status(report) if report is not None else None,
        messages=messages,
        desk_authors=_desk_authors(messages) if report is not None else set(),
        form=form,
        staff=AuthorKind.staff,
        idle_minutes=CONVERSATION_IDLE // 60,
        unsaved=unsaved,
    )
