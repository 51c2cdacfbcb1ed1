"""Retention: a closed case keeps what statistics count and loses what people wrote.

``RETENTION_DAYS_CLOSED_CASES`` days (default 1095, three years) after a case was closed,
``flask --app app incidents purge`` (run daily by a scheduler; ``--dry-run`` only counts):

- empties the texts: the student's description and every message body (the messages stay, with
  their times), the teacher's report, the case narrative and closing note, action notes, the
  aliases of the people involved, notes of the steps and closure requests, the referral's facts
  and outcome note, the reasons of priority changes;
- deletes the attachments (their rows, then their files once the change is committed);
- keeps everything statistics use: forms of violence, victim, perpetrator, place, frequency,
  dates, priority, ``first_response_at``, the case's state, screening, risk and outcome, the
  referrals' body, deadline, dates and status;
- sets ``Case.purged_at`` and writes an audit entry per case, and one for the run.

A case reopened after its purge and closed again is purged again, counted from its new closing.
Files that no attachment names any more (left by a run interrupted between its commit and the
deletion) are deleted once they are a day old.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.orm import load_only

from core import audit
from core.model_types import utcnow
from extensions import db
from incidents.cases.enums import CaseState
from incidents.cases.models import (
    Action,
    Case,
    CaseTransition,
    ClosureRequest,
    InvolvedPerson,
    PriorityChange,
    Referral,
    TeacherReport,
)
from incidents.intake import uploads
from incidents.intake.models import Attachment, Message, Report

ORPHAN_AGE = timedelta(days=1)


@dataclass
class PurgeResult:
    cases: int = 0  # closed cases purged
    messages: int = 0  # message bodies emptied
    texts: int = 0  # other texts emptied (descriptions, narratives, notes, aliases, reasons)
    files: int = 0  # attachments deleted with their files
    orphan_files: int = 0  # stored files no attachment named

    def add(self, other: PurgeResult) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)


def retention_days() -> int:
    days = current_app.config["RETENTION_DAYS_CLOSED_CASES"]
    if days < 1:
        raise ValueError("RETENTION_DAYS_CLOSED_CASES must be a positive number of days")
    return days


def due_cases(now: datetime, days: int) -> Select:
    """Ids of closed cases whose retention period is over and whose texts are still there."""
    # Never correlated: it is used inside queries of the cases table itself.
    return (
        select(Case.id)
        .where(
            Case.state == CaseState.closed,
            Case.closed_at < now - timedelta(days=days),
            or_(Case.purged_at.is_(None), Case.purged_at < Case.closed_at),
        )
        .correlate(None)
    )


def _texts(case_ids) -> list[tuple[type, list, object]]:
    """Each table's texts about the cases ``case_ids``, with the condition that finds its rows."""
    report_ids = _report_ids(case_ids)
    teacher_ids = select(Case.teacher_report_id).where(Case.id.in_(case_ids)).correlate(None)
    return [
        (Case, [Case.narrative, Case.closing_note], Case.id.in_(case_ids)),
        (Report, [Report.description], Report.id.in_(report_ids)),
        (TeacherReport, [TeacherReport.description], TeacherReport.id.in_(teacher_ids)),
        (Action, [Action.note], Action.case_id.in_(case_ids)),
        (InvolvedPerson, [InvolvedPerson.alias], InvolvedPerson.case_id.in_(case_ids)),
        (CaseTransition, [CaseTransition.note], CaseTransition.case_id.in_(case_ids)),
        (
            ClosureRequest,
            [ClosureRequest.note, ClosureRequest.decision_note],
            ClosureRequest.case_id.in_(case_ids),
        ),
        (Referral, [Referral.facts_text, Referral.outcome_note], Referral.case_id.in_(case_ids)),
        (
            PriorityChange,
            [PriorityChange.reason],
            or_(
                PriorityChange.report_id.in_(report_ids),
                PriorityChange.teacher_report_id.in_(teacher_ids),
            ),
        ),
    ]


def _report_ids(case_ids) -> Select:
    return select(Case.report_id).where(Case.id.in_(case_ids)).correlate(None)


def _messages(case_ids):
    return Message.report_id.in_(_report_ids(case_ids))


def _attachments(case_ids):
    return Attachment.report_id.in_(_report_ids(case_ids))


def _count(*conditions) -> int:
    return db.session.scalar(select(func.count()).where(*conditions)) or 0


def count_removable(case_ids) -> PurgeResult:
    """What purging the cases ``case_ids`` (a list or a query of ids) would remove; SQL counts
    (an empty text is stored empty, so ``!= ""`` works on the encrypted columns)."""
    texts = sum(
        _count(condition, column != "")
        for _model, columns, condition in _texts(case_ids)
        for column in columns
    )
    return PurgeResult(
        cases=_count(Case.id.in_(case_ids)),
        messages=_count(_messages(case_ids), Message.body != ""),
        texts=texts,
        files=_count(_attachments(case_ids)),
    )


def _purge_batch(case_ids: list[int], now: datetime, days: int) -> tuple[PurgeResult, list[str]]:
    result = count_removable(case_ids)
    per_case_messages = dict(
        db.session.execute(
            select(Case.id, func.count(Message.id))
            .join(Message, Message.report_id == Case.report_id)
            .where(Case.id.in_(case_ids), Message.body != "")
            .group_by(Case.id)
        ).all()
    )
    files = db.session.execute(
        select(Case.id, Attachment.storage_key)
        .join(Attachment, Attachment.report_id == Case.report_id)
        .where(Case.id.in_(case_ids))
    ).all()
    for case in db.session.scalars(
        select(Case).options(load_only(Case.id, Case.school_id)).where(Case.id.in_(case_ids))
    ):
        audit.record(
            "case.purge",
            case,
            actor_kind="system",
            days=days,
            messages=per_case_messages.get(case.id, 0),
            files=sum(1 for owner, _key in files if owner == case.id),
        )
    for model, columns, condition in _texts(case_ids):
        values = {column.key: "" for column in columns}
        if model is Case:
            values.update(purged_at=now, version=Case.version + 1)
        db.session.execute(
            update(model).where(condition).values(values),
            execution_options={"synchronize_session": False},
        )
    db.session.execute(
        update(Message).where(_messages(case_ids)).values(body=""),
        execution_options={"synchronize_session": False},
    )
    db.session.execute(
        delete(Attachment).where(_attachments(case_ids)),
        execution_options={"synchronize_session": False},
    )
    return result, [key for _owner, key in files]


def orphan_files(now: datetime) -> list[str]:
    """Stored files older than a day that no attachment names."""
    old = [
        key
        for key, path in uploads.stored_keys()
        if path.stat().st_mtime < (now - ORPHAN_AGE).timestamp()
    ]
    orphans = []
    for start in range(0, len(old), 500):
        chunk = old[start : start + 500]
        named = set(
            db.session.scalars(
                select(Attachment.storage_key).where(Attachment.storage_key.in_(chunk))
            )
        )
        orphans.extend(key for key in chunk if key not in named)
    return orphans


def purge_closed_cases(
    now: datetime | None = None,
    days: int | None = None,
    dry_run: bool = False,
    batch_size: int = 200,
) -> PurgeResult:
    """Purge the closed cases whose retention period is over (see the module's description)."""
    now = now or utcnow()
    days = days if days is not None else retention_days()
    if dry_run:
        result = count_removable(due_cases(now, days))
        result.orphan_files = len(orphan_files(now))
        return result
    total = PurgeResult()
    while ids := list(db.session.scalars(due_cases(now, days).order_by(Case.id).limit(batch_size))):
        result, keys = _purge_batch(ids, now, days)
        db.session.commit()
        for key in keys:  # after the commit: a failed batch keeps its files
            uploads.delete_bytes(key)
        total.add(result)
    orphans = orphan_files(now)
    for key in orphans:
        uploads.delete_bytes(key)
    total.orphan_files = len(orphans)
    if total.cases or total.orphan_files:
        audit.record("retention.purge", actor_kind="system", days=days, **asdict(total))
        db.session.commit()
    return total
