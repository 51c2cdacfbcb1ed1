"""The counselor's side: the inbox, opening and triaging a case, the case page and its steps.

Each view loads through a scope of ``incidents.scopes`` (a case of another school is a 404), checks
the role, calls ``incidents.cases.state_machine`` or ``incidents.cases.case_steps``, and renders. The school
administrator sees the case page without anything that tells what happened.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from core import audit
from core.clock import local_today
from core.i18n import LANGUAGE_TITLES, LOCALES, current_locale
from extensions import commit_keeping_loaded, db
from incidents.cases import case_steps, duties, state_machine
from incidents.cases.case_steps import READY_REPLIES
from incidents.cases.deadlines import response_deadline, time_left
from incidents.cases.enums import (
    PLANNED_ACTION_KINDS,
    CaseState,
    Outcome,
    PersonRole,
    RiskLevel,
    Screening,
)
from incidents.cases.forms import (
    NONE,
    ActionForm,
    CaseDetailsForm,
    CloseForm,
    MessageForm,
    NewReferralForm,
    PersonForm,
    PriorityForm,
    ReopenForm,
    StepForm,
    TriageForm,
    VersionedForm,
    enum_choices,
    options,
)
from incidents.cases.models import Case, CaseDuty, ClosureRequest, InvolvedPerson
from incidents.cases.view_helpers import attempt, case_url, load_case, now
from incidents.intake.models import Priority
from incidents.referrals import answers
from incidents.referrals import services as referrals
from school.access import permission_required
from school.models import Classroom, Permission, Role, User

# What the case page shows, loaded with the case: the one-to-one parts in its own statement,
# each list in one statement of its own (never one per row).
CASE_PAGE = (
    joinedload(Case.school),
    joinedload(Case.report),
    joinedload(Case.counselor),
    selectinload(Case.people).joinedload(InvolvedPerson.classroom),
    selectinload(Case.duties).joinedload(CaseDuty.met_by),
)


# --- the case page ----------------------------------------------------------------------------


def counselor_choices(case: Case) -> list:
    counselors = db.session.scalars(
        select(User)
        .where(
            User.school_id == case.school_id,
            User.role == Role.counselor,
            User.active.is_(True),
        )
        .order_by(User.full_name)
    ).all()
    return options((u.id, u.full_name) for u in counselors)


def school_classes(case: Case) -> list[tuple[int, str]]:
    classes = db.session.scalars(
        select(Classroom)
        .where(Classroom.school_id == case.school_id)
        .order_by(Classroom.grade, Classroom.letter)
    )
    return [(c.id, c.label) for c in classes]


def case_band(case: Case) -> str | None:
    """The grade band of the child (1-4, 5-9, 10-11) when the case says it."""
    for person in case.people:
        if person.role == PersonRole.victim and person.classroom is not None:
            return person.classroom.grade_band
    if case.teacher_report is not None and case.teacher_report.classroom is not None:
        return case.teacher_report.classroom.grade_band
    return getattr(case.report, "grade_band", None)


def lesson_choices(band: str | None) -> list[tuple[str, str]]:
    """Lessons of the curriculum for a class intervention (of the child's grade band when it is
    known)."""
    from curriculum.services import library

    rows = db.session.execute(library(current_locale(), band=band)).all()
    return [(lesson.slug, f"{lesson.band} · {text.title}") for lesson, text in rows]


def build_forms(case: Case, **bound) -> dict:
    """Every form of the case page; ``bound`` replaces one with the form just posted."""
    forms = {
        "triage_form": TriageForm(formdata=None),
        "details_form": CaseDetailsForm(formdata=None, obj=case),
        "close_form": CloseForm(formdata=None),
        "reopen_form": ReopenForm(formdata=None),
        "priority_form": PriorityForm(formdata=None),
        "person_form": PersonForm(formdata=None),
        "action_form": ActionForm(formdata=None),
        "message_form": MessageForm(formdata=None),
        "referral_form": NewReferralForm(formdata=None),
    }
    forms["details_form"].screening.data = case.screening.value if case.screening else ""
    forms["details_form"].risk.data = case.risk.value if case.risk else ""
    forms["details_form"].counselor_id.data = case.counselor_id or NONE
    forms["triage_form"].counselor_id.data = case.counselor_id or current_user.id
    forms["priority_form"].priority.data = case.priority.value
    # A ready reply comes in the language the child wrote in, unless another is asked for.
    wrote_in = case.report.locale if case.report is not None else None
    reply = request.args.get("reply", "")
    lang = request.args.get("lang", wrote_in or current_locale())
    if reply in READY_REPLIES and lang in LOCALES:
        forms["message_form"].body.data = case_steps.ready_reply(reply, lang)
    forms.update(bound)
    for name in ("triage_form", "details_form", "close_form", "reopen_form", "priority_form"):
        form = forms[name]
        if name not in bound or not form.version.data:
            form.version.data = str(case.version)
    fill_choices(forms, case)
    for name, form in forms.items():
        unique_ids(form, name.removesuffix("_form"))
    return forms


def unique_ids(form, prefix: str) -> None:
    """The case page holds many forms with fields of the same name (``kind``, ``priority``,
    ``csrf_token``...): each control gets an id of its own form (``action-kind``), so that its
    label and its error link point at it; the names sent stay as they are."""
    for f in form:
        f.id = f"{prefix}-{f.name}"
        f.label.field_id = f.id


def fill_choices(forms: dict, case: Case) -> None:
    counselors = counselor_choices(case)
    forms["triage_form"].counselor_id.choices = counselors
    details = forms["details_form"]
    details.counselor_id.choices = [*options([(NONE, "—")]), *counselors]
    details.screening.choices = [*options([("", "—")]), *enum_choices(Screening)]
    details.risk.choices = [*options([("", "—")]), *enum_choices(RiskLevel)]
    person_form = forms["person_form"]
    person_form.classroom_id.choices = options([(NONE, "—"), *school_classes(case)])
    action_form = forms["action_form"]
    action_form.kind.choices = enum_choices(None, PLANNED_ACTION_KINDS)
    action_form.person_id.choices = options([(NONE, "—")] + [(p.id, str(p)) for p in case.people])
    action_form.lesson_slug.choices = options([("", "—"), *lesson_choices(case_band(case))])
    if action_form.due_on.data is None and not action_form.due_on.raw_data:
        action_form.due_on.data = local_today(now())
    bodies = referrals.body_choices(case.school)
    forms["referral_form"].body_id.choices = options(
        (b.id, f"{b.kind.title} · {b.name}") for b in bodies
    )


def files_by_message(case: Case) -> dict[int | None, list]:
    """The student's files by the message they came with (None: with the report itself), from
    the report's one list (counselors only: the page shows them in the counselor's view)."""
    grouped: dict[int | None, list] = {}
    if case.report is not None and current_user.can(Permission.read_narrative):
        for attachment in case.report.attachments:
            grouped.setdefault(attachment.message_id, []).append(attachment)
    return grouped


def render_case(case: Case, status: int = 200, **bound):
    counselor_view = current_user.can(Permission.read_narrative)
    moment = now()
    context = {
        "case": case,
        "source": case.source,
        "counselor_view": counselor_view,
        "now": moment,
        "today": local_today(moment),
        "steps": [s for s in state_machine.SIMPLE_STEPS if state_machine.can_move(case, s)],
        "can_close": state_machine.can_move(case, CaseState.closed) and case.state != CaseState.new,
        "blockers": state_machine.closure_blockers(case) if case.state.is_open else [],
        "priorities": case_steps.priority_history(case),
        "first_response_left": None
        if case.source.first_response_at
        else time_left(response_deadline(case.source.created_at, case.priority), moment),
        "ready_replies": READY_REPLIES,
        "language_titles": LANGUAGE_TITLES,
        "reply_locales": LOCALES,
        "referral_overdue": lambda r: referrals.is_overdue(r, moment),
        "referral_unanswered": lambda r: answers.is_unanswered(r, moment),
        "duty_rule": duties.rule_for,
        "duty_title": duties.title,
        "days_notes": duties.DAYS_NOTES,
        "time_left": lambda deadline: time_left(deadline, moment),
        "PersonRole": PersonRole,
        "files": files_by_message(case),
        **build_forms(case, **bound),
    }
    return render_template("incidents/cases/case.html", **context), status


@permission_required(Permission.read_cases)
def case_detail(case_id: int):
    case = load_case(case_id, *CASE_PAGE)
    audit.record("case.view", case, narrative=current_user.can(Permission.read_narrative))
    if current_user.can(Permission.read_narrative):
        case_steps.mark_messages_read(case, by=current_user, now=now())
    commit_keeping_loaded()  # the page shows what was just read: no need to read it again
    return render_case(case)


def handle(case: Case, form, name: str, run: Callable[[], object], success: str, anchor=""):
    """Validate ``form``, run the step, commit and go back to the case; else show the page again
    with what was typed (400 for bad input, 409 for a step the rules or a newer version refuse)."""
    if form.validate_on_submit():
        if attempt(run, success):
            return redirect(case_url(case, anchor))
        if isinstance(form, VersionedForm):
            # Show the current version: saving again is now a deliberate choice.
            form.version.data = str(case.version)
        status = 409
    else:
        status = 400
    return render_case(case, status, **{name: form})


@permission_required(Permission.work_cases)
def case_triage(case_id: int):
    case = load_case(case_id)
    form = TriageForm()
    form.counselor_id.choices = counselor_choices(case)

    def run():
        created = state_machine.triage(
            case,
            by=current_user,
            screening=Screening(form.screening.data),
            risk=RiskLevel(form.risk.data),
            counselor=db.session.get(User, form.counselor_id.data),
            injury=form.injury.data,
            now=now(),
            expected_version=form.expected_version,
        )
        if created:
            flash(
                _("The rules require referrals or actions: they were added to the plan."), "warning"
            )

    return handle(case, form, "triage_form", run, _("The case has been triaged."))


@permission_required(Permission.work_cases)
def case_edit(case_id: int):
    case = load_case(case_id)
    form = CaseDetailsForm()
    build_forms(case, details_form=form)

    def run():
        state_machine.update_details(
            case,
            by=current_user,
            now=now(),
            expected_version=form.expected_version,
            screening=Screening(form.screening.data) if form.screening.data else None,
            risk=RiskLevel(form.risk.data) if form.risk.data else None,
            counselor=db.session.get(User, form.counselor_id.data or 0),
            injury=form.injury.data,
            narrative=form.narrative.data or "",
        )

    return handle(case, form, "details_form", run, _("Saved."), "details")


@permission_required(Permission.work_cases)
def case_step(case_id: int):
    case = load_case(case_id)
    form = StepForm()
    target = CaseState(form.to_state.data) if form.to_state.data in CaseState.__members__ else None

    def run():
        state_machine.move(
            case, target, by=current_user, now=now(), expected_version=form.expected_version
        )

    success = _("The case is now: %(state)s.", state=target.title) if target else ""
    return handle(case, form, "step_form", run, success)


@permission_required(Permission.work_cases)
def case_close(case_id: int):
    case = load_case(case_id)
    form = CloseForm()

    def run():
        result = state_machine.close(
            case,
            by=current_user,
            outcome=Outcome(form.outcome.data),
            note=form.closing_note.data or "",
            now=now(),
            expected_version=form.expected_version,
        )
        if isinstance(result, ClosureRequest):
            flash(_("The closure is waiting for the school administrator's approval."), "info")

    return handle(case, form, "close_form", run, _("Saved."))


@permission_required(Permission.work_cases)
def case_reopen(case_id: int):
    case = load_case(case_id)
    form = ReopenForm()

    def run():
        state_machine.reopen(
            case,
            by=current_user,
            reason=form.reason.data,
            now=now(),
            expected_version=form.expected_version,
        )

    return handle(case, form, "reopen_form", run, _("The case has been reopened."))


@permission_required(Permission.work_cases)
def case_priority(case_id: int):
    case = load_case(case_id)
    form = PriorityForm()

    def run():
        case_steps.check_version(case, form.expected_version)
        case_steps.change_priority(
            case,
            by=current_user,
            priority=Priority(form.priority.data),
            reason=form.reason.data,
            now=now(),
        )

    return handle(case, form, "priority_form", run, _("The priority has been changed."))
