"""The student's report: the form, and the short form for danger now (``/r/<code>``,
``/r/<code>/danger``); saved, it shows the receipt code once. The shared parts of the student
pages (limits, errors, the layout's context) are ``student_pages``."""

from __future__ import annotations

from functools import partial
from types import SimpleNamespace

from flask import (
    render_template,
    request,
)
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

from core.i18n import current_locale
from incidents.intake import receipts
from incidents.intake.form_page import (
    NOTICE_MARK,
    blank_form,
    saving_possible,
    saving_worked,
)
from incidents.intake.forms import (
    FORM_EXPLANATIONS,
    DangerForm,
    ReportForm,
    new_token,
)
from incidents.intake.models import (
    Frequency,
    Holder,
    Perpetrator,
    Place,
    Victim,
    ViolenceForm,
    WhenHappened,
)
from incidents.intake.reporting import (
    AlreadySubmitted,
    ReportInput,
    send_notices,
    submit_report,
)
from incidents.intake.student_pages import (
    T,
    _not_saved,
    _open_conversation,
    _report_limits,
    _school_or_404,
    _school_or_none,
    _unavailable,
)
from incidents.intake.uploads import UploadRefused, clean_uploads
from school.models import School


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
