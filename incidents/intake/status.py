"""What the student is told of their report: its status in a child's words, from the case's state."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from core.model_types import TitledEnum
from extensions import db
from incidents.intake.models import (
    AuthorKind,
    Holder,
    Message,
    Report,
)


class ChildStatus(TitledEnum):
    received = "received"
    in_progress = "in_progress"
    closed = "closed"

    @property
    def explanation(self) -> str:
        return str(CHILD_STATUS_EXPLANATIONS[self])

    def explained_for(self, holder) -> str:
        """The explanation for a report the regional duty desk holds alone (about the school's
        own staff): the child is not told that the school psychologist reads it."""
        if holder == Holder.desk and self in CHILD_STATUS_DESK_EXPLANATIONS:
            return str(CHILD_STATUS_DESK_EXPLANATIONS[self])
        return self.explanation


CHILD_STATUS_TITLES = {
    ChildStatus.received: _l("Received"),
    ChildStatus.in_progress: _l("An adult is looking into it"),
    ChildStatus.closed: _l("Closed"),
}
ChildStatus.TITLES = CHILD_STATUS_TITLES
CHILD_STATUS_EXPLANATIONS = {
    ChildStatus.received: _l(
        "Your message has arrived. The school psychologist will read it soon and answer here."
    ),
    ChildStatus.in_progress: _l(
        "The school psychologist has read what you wrote and is working to help. Come back to "
        "read the answers, and write if something changes."
    ),
    ChildStatus.closed: _l(
        "The adults have done what they could about this report. If it happens again, or "
        "something is still wrong, write here or send a new report."
    ),
}


CHILD_STATUS_DESK_EXPLANATIONS = {
    ChildStatus.received: _l(
        "Your message has arrived. Specialists of the regional child protection service, not your"
        " school, will read it soon and answer here."
    ),
    ChildStatus.in_progress: _l(
        "Specialists of the regional child protection service have read what you wrote and are"
        " working to help. Come back to read the answers, and write if something changes."
    ),
}


def child_status(report: Report) -> ChildStatus:
    """The status in a child's words: the one mapping from the case states.

    A closed case is ``closed``; a triaged case (or any answer from staff, or a recorded first
    response) means an adult is on it; otherwise the report is ``received``.
    """
    from incidents.cases.enums import CaseState
    from incidents.cases.models import Case

    state = db.session.scalar(select(Case.state).where(Case.report_id == report.id))
    if state == CaseState.closed:
        return ChildStatus.closed
    if state is not None and state != CaseState.new:
        return ChildStatus.in_progress
    answered = report.first_response_at is not None or db.session.scalar(
        select(
            exists().where(Message.report_id == report.id, Message.author_kind == AuthorKind.staff)
        )
    )
    return ChildStatus.in_progress if answered else ChildStatus.received
