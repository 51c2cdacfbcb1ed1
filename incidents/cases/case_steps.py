"""The work inside a case: people, actions, messages with the reporter, priority changes.

Functions take the acting user and ``now``, add their rows and audit entries to the session and
leave the commit to the caller (one transaction per request). A refused step raises
``WorkflowError`` with a message in the user's language and changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core import audit
from core.clock import local_today
from extensions import db
from incidents.cases.deadlines import FOLLOW_UP_DAYS
from incidents.cases.enums import ActionKind, PersonKind, PersonRole
from incidents.cases.models import Action, Case, InvolvedPerson, PriorityChange, TeacherReport
from incidents.intake.models import AuthorKind, Message, Priority, Report
from incidents.intake.reporting import add_staff_message
from school.models import Classroom, User


class WorkflowError(Exception):
    """A step the rules do not allow; ``message`` is shown to the person as it is."""

    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


class StaleCaseError(WorkflowError):
    def __init__(self) -> None:
        super().__init__(
            _l(
                "Someone else changed this case while you were working on it. Your change was"
                " not saved; their change is shown below. Please check it and try again."
            )
        )


def check_version(case: Case, expected: int | None) -> None:
    """Refuse a save made on an older version of the case than the one stored."""
    if expected is not None and expected != case.version:
        raise StaleCaseError()


def ensure_open(case: Case) -> None:
    if not case.state.is_open:
        raise WorkflowError(_l("This case is closed. Reopen it first."))


def touch(case: Case, now: datetime) -> None:
    """Mark the case changed: the UPDATE checks and bumps its version."""
    case.updated_at = now


def mark_first_response(source: Report | TeacherReport, now: datetime) -> None:
    """Time to first response, kept for statistics: set once, by triage or the first reply."""
    if source.first_response_at is None:
        source.first_response_at = now


# --- people -----------------------------------------------------------------------------------


def add_person(
    case: Case,
    *,
    by: User,
    role: PersonRole,
    kind: PersonKind,
    classroom: Classroom | None = None,
    alias: str = "",
) -> InvolvedPerson:
    ensure_open(case)
    if classroom is not None and classroom.school_id != case.school_id:
        raise WorkflowError(_l("Choose a class of this school."))
    person = InvolvedPerson(
        case=case, role=role, kind=kind, classroom=classroom, alias=alias.strip()
    )
    db.session.add(person)
    db.session.flush()
    audit.record(
        "case.person_add", case, actor=by, person_id=person.id, role=role.value, kind=kind.value
    )
    return person


def remove_person(person: InvolvedPerson, *, by: User) -> None:
    ensure_open(person.case)
    audit.record("case.person_remove", person.case, actor=by, person_id=person.id)
    db.session.delete(person)


# --- actions ----------------------------------------------------------------------------------


def plan_action(
    case: Case,
    *,
    by: User | None,
    kind: ActionKind,
    due_on: date,
    now: datetime,
    person: InvolvedPerson | None = None,
    lesson_slug: str | None = None,
    required: bool = False,
    rule_key: str | None = None,
) -> Action:
    ensure_open(case)
    if person is not None and person.case_id != case.id:
        raise WorkflowError(_l("Choose a person of this case."))
    action = Action(
        case=case,
        kind=kind,
        due_on=due_on,
        person=person,
        lesson_slug=lesson_slug or None,
        required=required,
        rule_key=rule_key,
        created_at=now,
        created_by_id=getattr(by, "id", None),
    )
    db.session.add(action)
    db.session.flush()
    audit.record(
        "case.action_plan",
        case,
        actor=by,
        actor_kind=None if by else "system",
        action_id=action.id,
        kind=kind.value,
        due_on=due_on.isoformat(),
        required=required,
    )
    return action


def complete_action(action: Action, *, by: User, now: datetime, note: str = "") -> None:
    """Mark an action done; a finished safety plan schedules the follow-up check."""
    ensure_open(action.case)
    if action.is_done:
        raise WorkflowError(_l("This action is already marked as done."))
    if action.kind == ActionKind.referral:
        raise WorkflowError(_l("A referral is marked done when it is sent."))
    action.done_at = now
    action.done_by_id = by.id
    if note.strip():
        action.note = note.strip()
    audit.record("case.action_done", action.case, actor=by, action_id=action.id)
    if action.kind == ActionKind.safety_plan:
        ensure_follow_up(action.case, by=by, now=now)


def ensure_follow_up(case: Case, *, by: User | None, now: datetime) -> Action | None:
    """An open follow-up check, due two weeks from now, unless one is already planned."""
    open_follow_up = db.session.scalar(
        select(func.count(Action.id)).where(
            Action.case_id == case.id,
            Action.kind == ActionKind.follow_up,
            Action.done_at.is_(None),
        )
    )
    if open_follow_up:
        return None
    return plan_action(
        case,
        by=by,
        kind=ActionKind.follow_up,
        due_on=local_today(now) + timedelta(days=FOLLOW_UP_DAYS),
        now=now,
    )


# --- messages with the reporter ---------------------------------------------------------------

# Ready replies the counselor starts from and edits; shown in the language they pick.
READY_REPLIES = {
    "thanks": (
        _l("Thank you for telling"),
        _l(
            "Thank you for telling us. I have read your message, and I am going to help."
            " What happened is not your fault. You can write to me here at any time."
        ),
    ),
    "safe": (
        _l("Are you safe now?"),
        _l(
            "Are you safe right now? If you are in danger, call 112 or the children's helpline"
            " 150 at once: it is free and open day and night."
        ),
    ),
    "meet": (
        _l("Invite to talk"),
        _l(
            "I would like to talk with you in person. You can come to the psychologist's office"
            " at any break. Nobody else will be told why you came."
        ),
    ),
    "more": (
        _l("Ask for details"),
        _l(
            "To help you better, could you tell me a little more: when and where it happens, and"
            " whether it is still going on? Write only what you feel comfortable sharing."
        ),
    ),
    "acting": (
        _l("We are acting"),
        _l(
            "We have started to act on what you told us. Adults at school know what to do, and"
            " we will keep an eye on the situation. Please tell me here if anything happens again."
        ),
    ),
}


def ready_reply(key: str, locale: str) -> str:
    """The text of a ready reply in ``locale`` (kk, ru or en), or "" for an unknown key."""
    if key not in READY_REPLIES:
        return ""
    with force_locale(locale):
        return str(READY_REPLIES[key][1])


def send_message(case: Case, *, by: User, body: str, now: datetime) -> Message:
    """A reply to the anonymous reporter; the first one counts as the first response."""
    report = case.report
    if report is None:
        raise WorkflowError(_l("A teacher's report has no anonymous reporter to write to."))
    message = add_staff_message(report, by=by, body=body, now=now)
    if message is None:
        raise WorkflowError(_l("Please write a message."))
    audit.record("message.send", case, actor=by, message_id=message.id)
    return message


def mark_messages_read(case: Case, *, by: User, now: datetime) -> int:
    """The counselor has seen the reporter's new messages: mark them read, and log the read."""
    if case.report is None:
        return 0
    unread = [
        m for m in case.report.messages if m.author_kind == AuthorKind.reporter and not m.read_at
    ]
    for message in unread:
        message.read_at = now
    if unread:
        audit.record(
            "message.read", case, actor=by, message_ids=[m.id for m in unread], count=len(unread)
        )
    return len(unread)


# --- priority ---------------------------------------------------------------------------------


def change_priority(
    case: Case, *, by: User, priority: Priority, reason: str, now: datetime
) -> PriorityChange:
    """Raise or lower the computed priority; the reason is required and kept."""
    ensure_open(case)
    source = case.source
    reason = reason.strip()
    if not reason:
        raise WorkflowError(_l("Please give the reason for the change."))
    if priority == source.priority:
        raise WorkflowError(_l("The priority is already %(priority)s.", priority=priority.title))
    if isinstance(source, Report) and source.is_danger_now and priority != Priority.critical:
        raise WorkflowError(
            _l("A report of danger right now stays critical: the student asked for help at once.")
        )
    change = PriorityChange(
        school_id=case.school_id,
        report_id=case.report_id,
        teacher_report_id=case.teacher_report_id,
        from_priority=source.priority,
        to_priority=priority,
        reason=reason,
        by_id=by.id,
        at=now,
    )
    source.priority = priority
    db.session.add(change)
    touch(case, now)
    audit.record(
        "case.priority",
        case,
        actor=by,
        from_priority=change.from_priority.value,
        to_priority=priority.value,
    )
    return change


def priority_history(case: Case) -> list[PriorityChange]:
    column = (
        PriorityChange.report_id == case.report_id
        if case.report_id
        else PriorityChange.teacher_report_id == case.teacher_report_id
    )
    return list(
        db.session.scalars(select(PriorityChange).where(column).order_by(PriorityChange.id))
    )
