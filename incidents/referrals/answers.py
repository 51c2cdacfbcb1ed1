"""The body's answer to a referral (a referral must be answered): a partner
of the body acknowledges it with the body's own registration number, then records a disposition
(accepted, declined with a reason, transferred with where to, closed with an outcome) within the
time of ``data/answer_times.csv`` (read by ``answer_times``). A referral left without an answer
past that time returns to the school and the desk as overdue (``incidents.cases.overdue``).

Correction: the partner may undo their last answer for ``UNDO_WINDOW`` after recording it (a
slip of the hand, the wrong referral). After that the answer stands, since the school has read
and acted on it; a correction is a new fact the body writes to the school in a letter, as with
paper, and the school records it in the case.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l

from core import audit
from incidents.cases import state_machine
from incidents.cases.case_steps import WorkflowError
from incidents.cases.enums import Disposition, ReferralStatus
from incidents.cases.models import Referral
from incidents.referrals.services import bare_number
from school.models import Permission, User

UNDO_WINDOW = timedelta(minutes=15)


def is_unanswered(referral: Referral, now: datetime) -> bool:
    """Python twin of ``deadlines.referral_unanswered`` for a loaded referral."""
    return bool(
        referral.status in (ReferralStatus.sent, ReferralStatus.acknowledged)
        and referral.disposition is None
        and referral.answer_due_at is not None
        and referral.answer_due_at < now
    )


def _check_partner(referral: Referral, by: User) -> None:
    if not by.can(Permission.answer_referrals) or by.body_id != referral.body_id:
        raise WorkflowError(_l("Only the body this referral was sent to can do this."))


def acknowledge(referral: Referral, *, by: User, body_reference: str, now: datetime) -> None:
    """The body confirms it received the referral (a partner of that body)."""
    _check_partner(referral, by)
    if referral.status != ReferralStatus.sent:
        raise WorkflowError(_l("Only a sent referral can be acknowledged."))
    referral.status = ReferralStatus.acknowledged
    referral.body_reference = bare_number(body_reference)
    referral.acknowledged_at = now
    referral.acknowledged_by_id = by.id
    audit.record("referral.acknowledge", referral, actor=by, case_id=referral.case_id)


def answer(
    referral: Referral, *, by: User, disposition: Disposition, note: str, now: datetime
) -> None:
    """The body's disposition. Only after the receipt was acknowledged (with the body's own
    number), so that no referral closes unregistered; an accepted referral closes later with
    its outcome."""
    _check_partner(referral, by)
    if referral.status == ReferralStatus.sent:
        raise WorkflowError(
            _l("Please acknowledge the receipt first; then you can record the outcome.")
        )
    if referral.status != ReferralStatus.acknowledged:
        raise WorkflowError(_l("The outcome of this referral has already been recorded."))
    if referral.disposition == Disposition.accepted and disposition == Disposition.accepted:
        raise WorkflowError(_l("This referral has already been accepted."))
    note = note.strip()
    if disposition.closes and not note:
        raise WorkflowError(
            {
                Disposition.declined: _l("Please give the reason for declining."),
                Disposition.transferred: _l("Please say which body the referral went to."),
            }.get(disposition, _l("Please describe the outcome."))
        )
    referral.disposition = disposition
    referral.disposition_at = now
    if disposition == Disposition.accepted:
        referral.accepted_at = now
    if disposition.closes:
        referral.status = ReferralStatus.closed
        referral.outcome_note = note
        referral.closed_at = now
        referral.closed_by_id = by.id
    audit.record(
        "referral.outcome",
        referral,
        actor=by,
        case_id=referral.case_id,
        disposition=disposition.value,
        late=bool(referral.answer_due_at and now > referral.answer_due_at),
    )
    # The partner does not move the school's case: the platform does (``by`` None).
    state_machine.follow_referral(referral.case, by=None, now=now)


def record_outcome(referral: Referral, *, by: User, note: str, now: datetime) -> None:
    answer(referral, by=by, disposition=Disposition.closed, note=note, now=now)


def can_undo(referral: Referral, by: User, now: datetime) -> bool:
    return bool(
        referral.disposition is not None
        and referral.disposition_at is not None
        and now - referral.disposition_at <= UNDO_WINDOW
        and by.can(Permission.answer_referrals)
        and by.body_id == referral.body_id
    )


def undo(referral: Referral, *, by: User, now: datetime) -> None:
    """Take back the last answer within the window: a closing answer after an acceptance goes
    back to "accepted", any other back to "acknowledged, not answered"."""
    _check_partner(referral, by)
    if not can_undo(referral, by, now):
        raise WorkflowError(
            _l(
                "This answer can no longer be undone. Please write to the school: it records"
                " the correction in the case."
            )
        )
    before = referral.disposition
    accepted_before = before.closes and referral.accepted_at is not None
    if before == Disposition.accepted:
        referral.accepted_at = None
    referral.status = ReferralStatus.acknowledged
    referral.disposition = Disposition.accepted if accepted_before else None
    referral.disposition_at = referral.accepted_at if accepted_before else None
    referral.outcome_note = ""
    referral.closed_at = None
    referral.closed_by_id = None
    audit.record(
        "referral.outcome_undo", referral, actor=by, case_id=referral.case_id, undone=before.value
    )
