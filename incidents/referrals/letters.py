"""The documents of a case: the referral letter (in the body's language, Kazakh or Russian) and
the case summary for the counselor's file; both through ``core.pdf``."""

from __future__ import annotations

from sqlalchemy import select

from core.model_types import utcnow
from core.pdf import render_pdf
from extensions import db
from incidents.cases.case_steps import priority_history
from incidents.cases.enums import PersonRole
from incidents.cases.models import Case, Referral
from incidents.referrals.services import FACT_CHOICES
from school.models import Role, School, User


def director_of(school: School) -> User | None:
    return db.session.scalar(
        select(User)
        .where(User.school_id == school.id, User.role == Role.school_admin, User.active.is_(True))
        .order_by(User.id)
        .limit(1)
    )


def victim_class(case: Case) -> str:
    person = next(
        (p for p in case.people if p.role == PersonRole.victim and p.classroom is not None), None
    )
    if person is not None:
        return person.classroom.label
    if case.teacher_report is not None and case.teacher_report.classroom is not None:
        return case.teacher_report.classroom.label
    grade_band = getattr(case.report, "grade_band", None)
    return grade_band or ""


def render_letter(referral: Referral) -> bytes:
    """The referral letter, in the referral's language (Kazakh or Russian)."""
    case = referral.case
    return render_pdf(
        "incidents/pdf/referral_letter.html",
        locale=referral.language,
        referral=referral,
        case=case,
        school=case.school,
        body=referral.body,
        facts=referral.facts,
        fact_titles=FACT_CHOICES,
        victim_class=victim_class(case),
        director=director_of(case.school),
        counselor=case.counselor or referral.sent_by,
        issued_on=(referral.sent_at or utcnow()),
    )


def render_summary(case: Case, *, locale: str) -> bytes:
    """The case summary for the counselor's file (it includes the narrative)."""
    return render_pdf(
        "incidents/pdf/case_summary.html",
        locale=locale,
        case=case,
        school=case.school,
        priorities=priority_history(case),
        victim_class=victim_class(case),
        generated_at=utcnow(),
    )
