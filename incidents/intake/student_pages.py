"""The student pages: find the school, tell what happened, keep the code, come back and talk.

No account and no JavaScript. Every response under ``/r`` is marked anonymous (``no-store``,
``no-referrer``). The session holds at most the chosen language, the CSRF token and, while a
conversation is open, ``{"id": <report id>, "seen": <last request, epoch seconds>}``; the
conversation closes after ``CONVERSATION_IDLE`` seconds without a request.

Quick exit (``/r/exit``): clears the session, asks the browser to drop this site's cookies and
storage (``Clear-Site-Data``, honoured on HTTPS), and shows a neutral page, or sends the browser
with a redirect to ``QUICK_EXIT_URL`` when one is configured. Without JavaScript a page cannot
remove earlier entries from the browser's history (``location.replace`` needs a script): what is
possible is done instead: every student page has the same neutral title, nothing is cached
(``no-store``) so going back shows no earlier answers, the conversation needs the code again
after the exit, and the receipt is never in a URL.
"""

from __future__ import annotations

import logging
import time
from contextlib import suppress
from functools import partial
from types import SimpleNamespace

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from core.anonymity import client_key
from core.i18n import current_locale
from extensions import db, limiter
from incidents.intake import receipts
from incidents.intake.form_page import (
    NOTICE_MARK,
    blank_form,
    saving_failed,
    saving_possible,
    saving_worked,
)
from incidents.intake.forms import (
    DESCRIPTION_MAX,
    FORM_EXPLANATIONS,
    MESSAGE_MAX,
    CheckForm,
    DangerForm,
    MessageForm,
    ReportForm,
    new_token,
)
from incidents.intake.models import (
    AuthorKind,
    Frequency,
    Holder,
    Perpetrator,
    Place,
    Report,
    Victim,
    ViolenceForm,
    WhenHappened,
)
from incidents.intake.reporting import (
    AlreadySubmitted,
    ReportInput,
    add_reporter_message,
    child_status,
    find_by_receipt,
    log_failed_save,
    note_reporter_visit,
    regions_for_finder,
    search_schools,
    send_notices,
    submit_report,
)
from incidents.intake.uploads import MAX_FILES, UploadRefused, clean_uploads
from school.models import Region, Role, School, User

CONVERSATION_IDLE = 30 * 60
T = "incidents/student/"
log = logging.getLogger(__name__)


def student_context() -> dict:
    return {
        "DESCRIPTION_MAX": DESCRIPTION_MAX,
        "MESSAGE_MAX": MESSAGE_MAX,
        "MAX_FILES": MAX_FILES,
    }


def _limit(setting: str):
    return limiter.limit(lambda: current_app.config[setting], key_func=client_key, methods=["POST"])


def _saved(response) -> bool:
    """Only a report that was saved (or shown again as already saved) counts toward a limit: a
    form sent back with mistakes, or not saved, costs the child nothing."""
    return response.status_code < 400


def _school_key() -> str:
    return "school:" + str((request.view_args or {}).get("code", "")).strip().lower()


def _report_limits(view):
    """The limits on reports, shared by the form and the danger page: a whole school
    often sends from one address (one Wi-Fi, one NAT), so the address has a ceiling sized for a
    school (``REPORT_RATE_LIMIT``) and each school one for its volume of reports
    (``SCHOOL_REPORT_RATE_LIMIT``, whatever the address), both counting saved reports only. A
    child's own repeats are not a third counter: the form's one-time token already makes the same
    form sent twice one report. Only a POST is limited: the help on the danger page always
    answers, and a POST over a limit gets its page back with the text kept (``too_many``)."""
    for setting, key, scope, counted in (
        ("SCHOOL_REPORT_RATE_LIMIT", _school_key, "school-reports", _saved),
        ("REPORT_RATE_LIMIT", client_key, "address-reports", _saved),
        # A backstop for floods of forms that are never saved (each costs a parse, and files a
        # cleaning): every send from the address counts, with room for a school's mistakes.
        ("REPORT_ATTEMPT_LIMIT", client_key, "address-attempts", None),
    ):
        view = limiter.shared_limit(
            partial(lambda name: current_app.config[name], setting),
            scope,
            key_func=key,
            methods=["POST"],
            deduct_when=counted,
        )(view)
    return view


def _school_or_404(code: str) -> School:
    school = db.session.scalar(select(School).where(School.code == code.strip().lower()))
    if school is None:
        regions = regions_for_finder()
        abort(make_response(render_template(T + "school_not_found.html", regions=regions), 404))
    return school


def too_many(error):
    """Over a limit: the child's page again with what they typed (from this request only, never
    stored), a kind word, the help numbers and the quick exit (the student layout); a 429."""
    code = str((request.view_args or {}).get("code", ""))
    school = (_school_or_none(code) if code else None) or SimpleNamespace(name="", code=code)
    if request.endpoint == "report.form":
        page = render_template(
            T + "form.html",
            school=school,
            form=ReportForm(),
            explanations=FORM_EXPLANATIONS,
            limited=True,
        )
    elif request.endpoint == "report.danger":
        page = render_template(T + "danger.html", school=school, form=DangerForm(), limited=True)
    elif request.endpoint == "report.conversation" and request.method == "POST":
        # The message as written, with the notice (the thread is not read for a refused send).
        page = render_template(
            T + "conversation.html",
            report=None,
            form=MessageForm(),
            staff=AuthorKind.staff,
            idle_minutes=CONVERSATION_IDLE // 60,
            limited=True,
        )
    else:
        page = render_template(T + "busy.html")
    return page, 429


def too_large(error):
    return render_template(T + "too_large.html", back=request.path), 413


# --- finding the school -----------------------------------------------------------------------


def find_school():
    region = db.session.get(Region, request.args.get("region", type=int) or 0)
    query = (request.args.get("q") or "").strip()[:100]
    schools, more = search_schools(region, query) if region else ([], False)
    return render_template(
        T + "find_school.html",
        regions=regions_for_finder(),
        region=region,
        query=query,
        schools=schools,
        more=more,
    )


def go():
    """The code typed from a poster, e.g. ``demo01``."""
    code = "".join((request.args.get("code") or "").split()).lower()[:16]
    if not code:
        return redirect(url_for(".find_school"), 303)
    return redirect(url_for(".form", code=code), 303)


# --- the report -------------------------------------------------------------------------------


def _chosen(enum_cls, value):
    return enum_cls(value) if value else None


def _report_input(form: ReportForm) -> ReportInput:
    return ReportInput(
        is_danger_now=bool(form.danger_now.data),
        forms=[ViolenceForm(value) for value in form.forms.data or []],
        victim=_chosen(Victim, form.victim.data) or Victim.unsaid,
        perpetrator=_chosen(Perpetrator, form.perpetrator.data) or Perpetrator.unknown,
        place=_chosen(Place, form.place.data),
        frequency=_chosen(Frequency, form.frequency.data),
        happened=_chosen(WhenHappened, form.happened.data),
        grade_band=form.grade_band.data or None,
        description=form.description.data or "",
        submission_token=(form.token.data or "")[:32] or None,
        locale=current_locale(),
    )


def _receipt(school: School, data: ReportInput, files, unsaved_page) -> object:
    """Record the report with its notice in one transaction, then show its code: the only time
    it exists. From the commit on, nothing can stop the receipt (the page is made before the
    notices are sent, and sending never fails); before it, any failure keeps nothing and gives
    the child ``unsaved_page()``: their form as they filled it in."""
    try:
        report, code, notices = submit_report(school, data, files)
    except AlreadySubmitted:
        return render_template(T + "already_sent.html", school=school)
    except Exception as error:  # noqa: BLE001 - whatever failed, the child keeps what they wrote
        _not_saved(error)
        return unsaved_page(), 503
    saving_worked()
    _open_conversation(report)
    page = render_template(
        T + "receipt.html",
        code=receipts.format_code(code),
        danger=report.is_danger_now,
        school=school,
        desk_only=report.routing == Holder.desk,
    )
    send_notices(notices)
    return page


def _not_saved(error: Exception, what: str = "a report") -> None:
    """Something failed before a report (or a message) was saved: the session starts over, and
    the forms opened next say that saving may not work. Only the kind of error is logged, never
    what the child wrote (``log_failed_save``)."""
    with suppress(SQLAlchemyError):
        db.session.rollback()  # on a lost connection the session starts over on its next use
    saving_failed()
    log_failed_save(what, error)


def _school_or_none(code: str) -> School | None:
    """The school, or None when the database cannot be asked (then the page says so)."""
    try:
        return _school_or_404(code)
    except SQLAlchemyError as error:
        _not_saved(error)
        return None


def _unavailable() -> object:
    """Not even the school can be looked up: say so, with the help numbers."""
    return render_template(T + "unavailable.html"), 503


def _blank_form(
    code: str, csrf_token: str | None = None, token: str | None = None, notice: str = ""
) -> str:
    """The form page before anything is typed (``incidents.intake.form_page`` shares it)."""
    school = _school_or_404(code)
    form = ReportForm()
    if csrf_token and "csrf_token" in form:
        form.csrf_token.current_token = csrf_token
    form.token.data = token or new_token()
    return render_template(
        T + "form.html",
        school=school,
        form=form,
        explanations=FORM_EXPLANATIONS,
        notice_slot=Markup(notice),  # noqa: S704 - our own marker or our rendered notice
    )


def _form_page(code: str) -> object:
    """The blank form, shared or not, telling up front when a report cannot be saved now."""
    notice = "" if saving_possible() else render_template(T + "_not_saved.html", unsaved=False)
    try:
        page = blank_form(partial(_blank_form, code, notice=NOTICE_MARK), new_token, notice)
        return page if page is not None else _blank_form(code, notice=notice)
    except SQLAlchemyError as error:
        _not_saved(error)
        return _unavailable()


@_report_limits
def form(code: str):
    if request.method == "GET":
        return _form_page(code)
    school = _school_or_none(code)
    form = ReportForm()

    def page(unsaved: bool = False) -> str:
        return render_template(
            T + "form.html",
            school=school or SimpleNamespace(name="", code=code),
            form=form,
            explanations=FORM_EXPLANATIONS,
            unsaved=unsaved,
        )

    if school is None:
        return page(unsaved=True), 503
    status = 200
    if form.validate_on_submit():
        try:  # a file refused, or the file store failing: the form again, as typed
            files = clean_uploads(form.files.data or [])
            return _receipt(school, _report_input(form), files, partial(page, unsaved=True))
        except UploadRefused as refused:
            form.files.errors.append(refused.message)
            status = refused.status
    else:
        status = 400
    return page(), status


@_report_limits
def danger(code: str):
    """Help at once; and, if the student can, a report in one step, at top priority."""
    school = _school_or_none(code)
    if school is None and request.method == "GET":
        return _unavailable()
    form = DangerForm()

    def page(unsaved: bool = False) -> str:
        return render_template(
            T + "danger.html",
            school=school or SimpleNamespace(name="", code=code),
            form=form,
            unsaved=unsaved,
        )

    if school is None:
        return page(unsaved=True), 503
    if request.method == "GET":
        form.token.data = new_token()
    elif form.validate_on_submit():
        data = ReportInput(
            is_danger_now=True,
            victim=Victim.unsaid,
            perpetrator=Perpetrator.unknown,
            description=form.description.data or "",
            submission_token=(form.token.data or "")[:32] or None,
            locale=current_locale(),
        )
        return _receipt(school, data, [], partial(page, unsaved=True))
    # The help on this page is shown whatever was sent; input that cannot be kept is a 400.
    status = 400 if request.method == "POST" else 200
    return page(), status


# --- coming back with the code ----------------------------------------------------------------


def _open_conversation(report: Report) -> None:
    session["report"] = {"id": report.id, "seen": int(time.time())}


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


def quick_exit():
    session.clear()
    target = current_app.config.get("QUICK_EXIT_URL")
    response = redirect(target, 303) if target else make_response(render_template(T + "exit.html"))
    response.headers["Clear-Site-Data"] = '"cookies", "storage"'
    return response
