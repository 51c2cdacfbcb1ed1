"""Demo cases for the demo school: the reports of the reporting demo, taken up by the demo
counselor and left in different states (in progress, referred, monitoring), plus a teacher's
report waiting in the inbox. Idempotent: nothing is added once the demo school has a case."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import exists, select

from core.clock import local_today
from core.model_types import utcnow
from extensions import db
from incidents.cases import case_steps, state_machine
from incidents.cases.enums import (
    ActionKind,
    CaseState,
    PersonKind,
    PersonRole,
    ReferralStatus,
    RiskLevel,
    Screening,
)
from incidents.cases.models import Case
from incidents.intake.models import Perpetrator, Place, Report, ViolenceForm, WhenHappened
from incidents.referrals import services as referrals
from incidents.teacher.named_report import file_teacher_report
from school.cli import DEMO_SCHOOL_CODE
from school.models import Role, School, User

# (screening, risk, final state) for the demo school's reports, oldest first.
PLANS = [
    (Screening.bullying, RiskLevel.medium, CaseState.in_progress),
    (Screening.bullying, RiskLevel.medium, CaseState.monitoring),
    (Screening.staff_violence, RiskLevel.high, CaseState.referred),
]


def seed_demo_cases() -> None:
    school = db.session.scalar(select(School).where(School.code == DEMO_SCHOOL_CODE))
    if school is None:
        return
    referrals.load_rules()
    if db.session.scalar(select(exists().where(Case.school_id == school.id))):
        return
    counselor = db.session.scalar(
        select(User).where(User.school_id == school.id, User.role == Role.counselor)
    )
    teacher = db.session.scalar(
        select(User).where(User.school_id == school.id, User.role == Role.teacher)
    )
    if counselor is None:
        return
    now = utcnow()
    reports = db.session.scalars(
        select(Report).where(Report.school_id == school.id).order_by(Report.created_at, Report.id)
    ).all()
    for report, (screening, risk, final) in zip(reports, PLANS, strict=False):
        _work_on(report, counselor, screening, risk, final, now)
    if teacher is not None:
        file_teacher_report(
            teacher,
            forms=[ViolenceForm.home, ViolenceForm.physical],
            perpetrator=Perpetrator.family,
            place=Place.home,
            happened=WhenHappened.this_week,
            classroom=school.classrooms[0] if school.classrooms else None,
            is_danger_now=False,
            description="Оқушының қолында көгерген іздер бар. Сұрағанымда, үйде әкесі "
            "ұрғанын айтты. Мектеп медбикесіне көрсеттім.",
        )
    db.session.commit()


def _work_on(report, counselor, screening, risk, final, now) -> None:
    case = state_machine.open_case(report, by=counselor, now=now)
    state_machine.triage(
        case,
        by=counselor,
        screening=screening,
        risk=risk,
        counselor=counselor,
        injury=False,
        now=now,
    )
    classroom = report.school.classrooms[1] if len(report.school.classrooms) > 1 else None
    victim = case_steps.add_person(
        case, by=counselor, role=PersonRole.victim, kind=PersonKind.student, classroom=classroom
    )
    talk = case_steps.plan_action(
        case,
        by=counselor,
        kind=ActionKind.talk_victim,
        due_on=local_today(now),
        now=now,
        person=victim,
    )
    case_steps.plan_action(
        case,
        by=counselor,
        kind=ActionKind.safety_plan,
        due_on=local_today(now) + timedelta(days=2),
        now=now,
    )
    state_machine.move(case, CaseState.in_progress, by=counselor, now=now)
    case_steps.complete_action(talk, by=counselor, now=now, note="Бала сөйлесуге келді.")
    if final == CaseState.referred:
        for referral in case.referrals:
            if referral.status == ReferralStatus.draft and referral.body is not None:
                state_machine.send_referral(
                    referral, by=counselor, reference_number="01-12/45", now=now
                )
        for action in referrals.undone_required_actions(case):
            case_steps.complete_action(action, by=counselor, now=now)
        state_machine.move(case, CaseState.referred, by=counselor, now=now)
    if final == CaseState.monitoring:
        state_machine.move(case, CaseState.monitoring, by=counselor, now=now)
