"""Referrals answered by the bodies in time, and the cases reopened after a closure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, func, or_, select

from core.model_types import utcnow
from extensions import db
from incidents.cases.enums import CaseState
from incidents.cases.models import Case, CaseTransition, Referral
from insights.casework import case_figures
from insights.filters import Filters
from insights.kpis.places import in_period, in_place
from insights.sql import hours_between, key_sum
from insights.stats import (
    Tally,
)
from school.access import school_scope
from school.models import BodyKind, User


def referral_answer_days() -> int:
    return current_app.config["REFERRAL_ANSWER_DAYS"]


@dataclass(frozen=True)
class ReferralRow:
    key: str
    label: str
    sent: int
    acknowledged: int
    in_time: int
    due: int  # acknowledged, or sent longer ago than the time allowed


@dataclass(frozen=True)
class Reopened:
    cases: int
    closed: int  # closed at least once
    reopened: int


def referral_answers(
    user: User, filters: Filters, now: datetime | None = None
) -> list[ReferralRow]:
    """Referrals sent in the period, by kind of body: acknowledged, and acknowledged in time."""
    now = now or utcnow()
    days = referral_answer_days()
    waited = hours_between(Referral.sent_at, Referral.acknowledged_at)
    in_time = and_(Referral.acknowledged_at.is_not(None), waited <= days * 24)
    due = or_(Referral.acknowledged_at.is_not(None), Referral.sent_at < now - timedelta(days=days))
    rows = {
        row.kind: row
        for row in db.session.execute(
            select(
                Referral.body_kind.label("kind"),
                func.count().label("sent"),
                func.count(Referral.acknowledged_at).label("acknowledged"),
                func.coalesce(func.sum(case((in_time, 1), else_=0)), 0).label("in_time"),
                func.coalesce(func.sum(case((due, 1), else_=0)), 0).label("due"),
                key_sum(Referral.id).label("sent_key"),
                key_sum(Referral.id, Referral.acknowledged_at.is_not(None)).label("ack_key"),
                key_sum(Referral.id, in_time).label("in_time_key"),
                key_sum(Referral.id, due).label("due_key"),
            )
            .where(
                school_scope(user, Referral.school_id),
                *in_place(Referral.school_id, filters),
                *in_period(Referral.sent_at, filters),
            )
            .group_by(Referral.body_kind)
        )
    }
    result = []
    for kind in BodyKind:
        row = rows.get(kind)
        result.append(
            ReferralRow(
                kind.value,
                kind.title,
                Tally(row.sent, row.sent_key) if row else 0,
                Tally(row.acknowledged, row.ack_key) if row else 0,
                Tally(row.in_time, row.in_time_key) if row else 0,
                Tally(row.due, row.due_key) if row else 0,
            )
        )
    return result


def reopened_cases(user: User, filters: Filters, now: datetime | None = None) -> Reopened:
    """Cases opened in the period: how many were closed at least once, how many reopened.

    The cases opened are the dashboard's count (``insights.casework.case_figures``: the monthly
    totals for whole refreshed months, the rest counted), not a scan of a year of cases; those
    closed once are found from their closing transitions, so the statement reads the cases that
    were closed, not every case of the period."""
    cases = case_figures(user, filters, now).total
    reopened = Case.id.in_(
        select(CaseTransition.case_id).where(
            CaseTransition.from_state == CaseState.closed,
            CaseTransition.to_state != CaseState.closed,
        )
    )
    row = db.session.execute(
        select(
            func.count().label("closed"),
            func.coalesce(func.sum(case((reopened, 1), else_=0)), 0).label("reopened"),
            key_sum(Case.id).label("closed_key"),
            key_sum(Case.id, reopened).label("reopened_key"),
        ).where(
            Case.id.in_(
                select(CaseTransition.case_id).where(CaseTransition.to_state == CaseState.closed)
            ),
            school_scope(user, Case.school_id),
            *in_place(Case.school_id, filters),
            *in_period(Case.created_at, filters),
        )
    ).one()
    return Reopened(
        cases if isinstance(cases, Tally) else Tally(cases),
        Tally(row.closed, row.closed_key),
        Tally(row.reopened, row.reopened_key),
    )
