"""Time rules of the response: first-response targets by priority, due dates, what is overdue.

Every function takes ``now`` so that tests (and the scheduler) control the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import format_timedelta
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, case, or_

from core.clock import local_today
from core.model_types import utcnow
from incidents.intake.models import Priority

# Hours to the first response (triage or the first reply), by priority; ``RESPONSE_TARGETS`` in
# the app config overrides any of them (e.g. QAMQOR_RESPONSE_TARGETS='{"high": 2}').
DEFAULT_RESPONSE_TARGETS = {"critical": 1, "high": 4, "normal": 24, "low": 72}
# KiVa and the national model: the child is asked again two weeks after the plan.
FOLLOW_UP_DAYS = 14


def response_targets() -> dict[Priority, timedelta]:
    configured = current_app.config.get("RESPONSE_TARGETS") or {}
    merged = {**DEFAULT_RESPONSE_TARGETS, **{str(k): v for k, v in configured.items()}}
    return {priority: timedelta(hours=float(merged[priority.value])) for priority in Priority}


def response_deadline(received_at: datetime, priority: Priority) -> datetime:
    return received_at + response_targets()[priority]


def awaiting_response_overdue(
    received_at, priority, first_response_at, now: datetime
) -> ColumnElement[bool]:
    """SQL: not yet answered and past the target of its priority (works on any database)."""
    targets = response_targets()
    return and_(
        first_response_at.is_(None),
        or_(*(and_(priority == p, received_at < now - span) for p, span in targets.items())),
    )


def priority_rank(priority) -> ColumnElement[int]:
    """SQL ordering key: critical first."""
    return case({p.value: p.rank for p in Priority}, value=priority, else_=len(Priority))


def action_overdue(due_on, done_at, now: datetime) -> ColumnElement[bool]:
    return and_(done_at.is_(None), due_on < local_today(now))


def referral_overdue(required, status, deadline_at, now: datetime) -> ColumnElement[bool]:
    return and_(required.is_(True), status == "draft", deadline_at < now)


def referral_unanswered(status, disposition, answer_due_at, now: datetime) -> ColumnElement[bool]:
    """SQL: a sent referral the body has not answered (no disposition) past its answer time."""
    return and_(status.in_(("sent", "acknowledged")), disposition.is_(None), answer_due_at < now)


def duty_overdue(met_at, due_at, now: datetime) -> ColumnElement[bool]:
    return and_(met_at.is_(None), due_at < now)


# How close a deadline is, for the badge's colour and words: within the hour is urgent, within
# four hours soon; the same mild badge for 29 minutes and 24 hours would hide the urgent ones.
URGENT_WITHIN = timedelta(hours=1)
SOON_WITHIN = timedelta(hours=4)


@dataclass(frozen=True)
class TimeLeft:
    deadline: datetime
    overdue: bool
    text: str
    # "overdue", "urgent" (under an hour left), "soon" (under four hours) or "later".
    urgency: str = "later"

    @property
    def urgency_title(self) -> str:
        """Said in words too, not only by colour."""
        return {
            "overdue": _("Overdue"),
            "urgent": _("Urgent"),
            "soon": _("Soon"),
        }.get(self.urgency, "")


def time_left(deadline: datetime | None, now: datetime | None = None) -> TimeLeft | None:
    """How long until ``deadline``, or how long past it, in words of the current language."""
    if deadline is None:
        return None
    now = now or utcnow()
    delta = deadline - now
    if delta.total_seconds() >= 0:
        span = format_timedelta(delta, threshold=1.5, granularity="minute")
        if delta <= URGENT_WITHIN:
            urgency = "urgent"
        elif delta <= SOON_WITHIN:
            urgency = "soon"
        else:
            urgency = "later"
        return TimeLeft(deadline, False, _("%(time)s left", time=span), urgency)
    span = format_timedelta(-delta, threshold=1.5, granularity="minute")
    return TimeLeft(deadline, True, _("overdue by %(time)s", time=span), "overdue")
