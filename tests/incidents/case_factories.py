"""Factory helpers for the response workflow: a school with its staff and bodies, cases in a
given state, built through the same services the pages use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from flask_babel import force_locale

from core.model_types import utcnow
from extensions import db
from incidents.cases import case_steps, state_machine
from incidents.cases.enums import ActionKind, CaseState, Outcome, RiskLevel, Screening
from incidents.cases.models import Case, ReferralRule
from incidents.intake.models import ViolenceForm
from incidents.referrals import services as referrals
from school.models import AuthorizedBody, BodyKind, Role, School, User
from tests import factories
from tests.incidents.factories import report as student_report

KAZAKH_LETTERS = "әғқңөұүһі"


@pytest.fixture(autouse=True)
def english_messages(app):
    """Refusals raised outside a request are worded in English for the assertions (the pages
    choose their language per request, as always)."""
    with force_locale("en"):
        yield


@dataclass
class Staff:
    school: School
    counselor: User
    admin: User
    teacher: User
    police: AuthorizedBody
    guardianship: AuthorizedBody
    education: AuthorizedBody
    health: AuthorizedBody


def body(kind: BodyKind, school: School, name_kk: str, name_ru: str) -> AuthorizedBody:
    made = AuthorizedBody(
        kind=kind,
        region_id=school.region_id,
        name_kk=name_kk,
        name_ru=name_ru,
        name_en=kind.value,
        phone="102",
        address="Астана",
    )
    db.session.add(made)
    db.session.commit()
    return made


def staffed_school(name: str = "Ақбота мектебі", region_code: str = "KZ-71") -> Staff:
    """A school with a counselor, an administrator, a teacher, its region's bodies and the rules."""
    school = factories.school(
        name, region_code=region_code, address="Астана, Қабанбай батыр 10", phone="+7 7172 11 22 33"
    )
    staff = Staff(
        school=school,
        counselor=factories.user(Role.counselor, school, full_name="Гүлнар Әбдіқызы", locale="en"),
        admin=factories.user(Role.school_admin, school, full_name="Серік Директоров", locale="en"),
        teacher=factories.user(Role.teacher, school, full_name="Айгерім Мұғалімова", locale="en"),
        police=body(
            BodyKind.police, school, "Ювеналдық полиция бөлімі", "Отдел ювенальной полиции"
        ),
        guardianship=body(
            BodyKind.guardianship,
            school,
            "Қорғаншылық және қамқоршылық органы",
            "Орган опеки и попечительства",
        ),
        education=body(BodyKind.education, school, "Білім басқармасы", "Управление образования"),
        health=body(BodyKind.health, school, "Қалалық емхана", "Городская поликлиника"),
    )
    if not db.session.scalar(db.select(db.func.count()).select_from(ReferralRule)):
        referrals.load_rules()
    return staff


def new_case(staff: Staff, when: datetime | None = None, **report_fields) -> Case:
    made, _code = student_report(staff.school, **report_fields)
    if when is not None:
        made.created_at = when
    case = state_machine.open_case(made, by=staff.counselor, now=when or utcnow())
    db.session.commit()
    return case


def triaged_case(
    staff: Staff,
    *,
    screening: Screening = Screening.bullying,
    risk: RiskLevel = RiskLevel.medium,
    injury: bool = False,
    now: datetime | None = None,
    **report_fields,
) -> Case:
    now = now or utcnow()
    case = new_case(staff, when=now, **report_fields)
    state_machine.triage(
        case,
        by=staff.counselor,
        screening=screening,
        risk=risk,
        counselor=staff.counselor,
        injury=injury,
        now=now,
    )
    db.session.commit()
    return case


def close_low_risk(case: Case, staff: Staff, note: str) -> Case:
    """Triage ``case`` as a low-risk peer conflict, do its actions and close it as resolved (no
    approval needed at low risk); the caller commits."""
    state_machine.triage(
        case,
        by=staff.counselor,
        screening=Screening.peer_conflict,
        risk=RiskLevel.low,
        counselor=staff.counselor,
        injury=False,
        now=utcnow(),
    )
    for action in case.actions:
        case_steps.complete_action(action, by=staff.counselor, now=utcnow())
    state_machine.close(case, by=staff.counselor, outcome=Outcome.resolved, note=note, now=utcnow())
    return case


def case_in_progress(staff: Staff, **fields) -> Case:
    now = fields.pop("now", None) or utcnow()
    case = triaged_case(staff, now=now, **fields)
    case_steps.plan_action(
        case, by=staff.counselor, kind=ActionKind.talk_victim, due_on=now.date(), now=now
    )
    state_machine.move(case, CaseState.in_progress, by=staff.counselor, now=now)
    db.session.commit()
    return case


def sexual_violence_report() -> dict:
    return {"forms": [ViolenceForm.sexual], "description": "Жоғары сынып оқушысы маған тиісті."}


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
