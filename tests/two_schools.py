"""Two schools in different regions, each with a full set of objects, for the security tests.

``build_world()`` makes school A (Astana, KZ-71) and school B (Almaty, KZ-75), each with its
staff, a partner of its police, a class, reports, cases, actions, people, referrals (sent and
draft), a closure waiting for approval, a teacher's report, a lesson plan and a delivery, a
survey wave and a certificate. Every text a person wrote carries a distinctive marker
(``B-STORY-…``) so that a test can check that it never appears where it must not.

``fresh(kind, side)`` makes one more object of a kind that a request may consume (a person to
remove, a draft to delete, a plan, a delivery, a wave to close, a report to open), so that a
request that changes something never breaks the next one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import func, select

from core.model_types import utcnow
from extensions import db
from incidents.cases import case_steps, state_machine
from incidents.cases.enums import (
    ActionKind,
    CaseState,
    Outcome,
    PersonKind,
    PersonRole,
    RiskLevel,
    Screening,
)
from incidents.cases.models import Case
from incidents.intake import uploads
from incidents.intake.models import (
    Attachment,
    AuthorKind,
    Message,
    Perpetrator,
    Place,
    ViolenceForm,
    WhenHappened,
)
from incidents.referrals import services as referrals
from incidents.teacher.named_report import file_teacher_report
from school.models import AuthorizedBody, BodyKind, Classroom, Role, School, User
from tests import factories
from tests.incidents.factories import png_bytes
from tests.incidents.factories import report as student_report

REGIONS = {"A": "KZ-71", "B": "KZ-75"}
ANONYMOUS = "anonymous"


@dataclass
class Side:
    """One school and the ids of its objects (ids only: objects expire between requests)."""

    name: str
    ids: dict[str, int | str] = field(default_factory=dict)
    # What happened, in the words of the child, the teacher or the counselor: only a counselor
    # of the school reads it.
    narrative: dict[str, str] = field(default_factory=dict)
    # What a child wrote in a report the duty desk holds alone: only a desk officer of the
    # school's region reads it (not the school's counselor).
    desk_narrative: dict[str, str] = field(default_factory=dict)
    # Other case data (aliases, referral facts and numbers, closing notes, case labels).
    case_data: dict[str, str] = field(default_factory=dict)
    # The school's directory and work: its name, staff, bodies, lesson reflections (the
    # platform administrator sees them, for every school).
    directory: dict[str, str] = field(default_factory=dict)
    users: dict[Role, int] = field(default_factory=dict)

    def __getitem__(self, kind: str) -> int | str:
        return self.ids[kind]

    def __repr__(self) -> str:
        return f"Side({self.name})"

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(repr(self))


def marker(side: str, what: str) -> str:
    """A text that appears nowhere else: ``B-STORY-Q7X``."""
    return f"{side}-{what}-Q7X"


def _body(side: str, kind: BodyKind, region_id: int) -> AuthorizedBody:
    body = AuthorizedBody(
        kind=kind,
        region_id=region_id,
        name_kk=marker(side, f"BODY-{kind.value}"),
        name_ru=marker(side, f"BODY-{kind.value}"),
        name_en=marker(side, f"BODY-{kind.value}"),
        phone="102",
        address="—",
    )
    db.session.add(body)
    db.session.commit()
    return body


def _user(side: str, role: Role, school=None, **fields):
    name = marker(side, f"NAME-{role.value}{fields.pop('suffix', '')}")
    return factories.user(
        role, school, full_name=name, email=f"{name.lower()}@example.kz", locale="en", **fields
    )


def build_side(side: str) -> Side:
    now = utcnow()
    made = Side(side)
    region = factories.region(REGIONS[side])
    school = factories.school(marker(side, "SCHOOL"), region_code=REGIONS[side])
    made.ids.update(school=school.id, school_code=school.code, region=region.id)
    police = _body(side, BodyKind.police, region.id)
    for kind in (BodyKind.guardianship, BodyKind.education, BodyKind.health):
        _body(side, kind, region.id)
    counselor = _user(side, Role.counselor, school)
    director = _user(side, Role.school_admin, school)
    teacher = _user(side, Role.teacher, school)
    target = _user(side, Role.teacher, school, suffix="-2")
    partner = _user(side, Role.partner, body_=police)
    analyst = _user(side, Role.analyst, region_=region)
    desk_officer = _user(side, Role.desk_officer, region_=region)
    made.users = {
        Role.counselor: counselor.id,
        Role.school_admin: director.id,
        Role.teacher: teacher.id,
        Role.partner: partner.id,
        Role.analyst: analyst.id,
        Role.desk_officer: desk_officer.id,
    }
    made.ids.update(user=target.id, body=police.id)
    classroom = factories.classroom(school, grade=7, letter="Б", homeroom_teacher=teacher)
    classroom.teachers = [teacher]
    db.session.commit()
    made.ids["classroom"] = classroom.id

    # A student's report, triaged into a case that is in progress, with everything a case has.
    story = marker(side, "STORY")
    report, receipt = student_report(
        school, description=story, forms=[ViolenceForm.sexual], grade_band="5-9"
    )
    case = state_machine.open_case(report, by=counselor, now=now)
    state_machine.triage(
        case,
        by=counselor,
        screening=Screening.peer_violence,
        risk=RiskLevel.medium,
        counselor=counselor,
        injury=False,
        now=now,
    )
    case.narrative = marker(side, "NARRATIVE")
    person = case_steps.add_person(
        case, by=counselor, role=PersonRole.victim, kind=PersonKind.student, classroom=classroom
    )
    person.alias = marker(side, "ALIAS")
    action = case_steps.plan_action(
        case, by=counselor, kind=ActionKind.talk_victim, due_on=now.date(), now=now
    )
    action.note = marker(side, "ACTIONNOTE")
    case_steps.send_message(case, by=counselor, body=marker(side, "STAFFMSG"), now=now)
    db.session.add(
        Message(report=report, author_kind=AuthorKind.reporter, body=marker(side, "CHILDMSG"))
    )
    # A picture the student sent with the report.
    picture = png_bytes()
    attachment = Attachment(
        report=report,
        content_type="image/png",
        size=len(picture),
        storage_key=uploads.save_bytes(picture),
    )
    db.session.add(attachment)
    sent = next(r for r in case.referrals if r.body_kind == BodyKind.police)
    sent.body = police
    sent.facts_text = marker(side, "FACTS")
    state_machine.send_referral(sent, by=counselor, reference_number=marker(side, "REFNO"), now=now)
    db.session.commit()
    made.ids.update(
        report_with_case=report.id,
        receipt=receipt,
        case=case.id,
        case_label=case.label,
        person=person.id,
        action=action.id,
        # A legal duty of the case (the guardianship body, for sexual violence).
        duty=case.duties[0].id,
        referral=sent.id,
        sent_referral=sent.id,
        attachment=attachment.id,
    )

    # A serious case whose closure waits for the director's approval.
    serious, _code = student_report(school, description=marker(side, "STORY2"))
    serious_case = state_machine.open_case(serious, by=counselor, now=now)
    state_machine.triage(
        serious_case,
        by=counselor,
        screening=Screening.bullying,
        risk=RiskLevel.high,
        counselor=counselor,
        injury=False,
        now=now,
    )
    case_steps.plan_action(
        serious_case, by=counselor, kind=ActionKind.talk_victim, due_on=now.date(), now=now
    )
    state_machine.move(serious_case, CaseState.in_progress, by=counselor, now=now)
    closure = state_machine.close(
        serious_case,
        by=counselor,
        outcome=Outcome.resolved,
        note=marker(side, "CLOSING"),
        now=now,
    )
    db.session.commit()
    made.ids.update(closure=closure.id, case_label2=serious_case.label)

    made.ids["report"] = fresh_report(made)
    made.ids["desk_report"] = fresh_desk_report(made)
    made.ids["teacher_report"] = fresh_teacher_report(made)
    made.ids["certificate_code"] = _certificate(made)
    made.narrative = {
        key: marker(side, key)
        for key in ("STORY", "STORY2", "STORY3", "NARRATIVE", "ACTIONNOTE", "STAFFMSG", "CHILDMSG")
    }
    made.narrative["TRSTORY"] = marker(side, "TRSTORY")
    # A report about the school's staff: the regional duty desk reads it, the school does not.
    made.desk_narrative = {"DESKSTORY": marker(side, "DESKSTORY")}
    made.case_data = {key: marker(side, key) for key in ("ALIAS", "FACTS", "REFNO", "CLOSING")}
    made.case_data.update(case=str(made["case_label"]), case2=str(made["case_label2"]))
    made.directory = {
        "school": marker(side, "SCHOOL"),
        **{f"name-{role}": marker(side, f"NAME-{role.value}") for role in made.users},
        "police": marker(side, "BODY-police"),
        "reflection": marker(side, "REFLECTION"),
    }
    return made


def fresh_report(side: Side) -> int:
    school = db.session.get(School, side["school"])
    report, _code = student_report(school, description=marker(side.name, "STORY3"))
    return report.id


def fresh_desk_report(side: Side) -> int:
    """A report naming a teacher: routed to the region's duty desk alone."""
    school = db.session.get(School, side["school"])
    report, _code = student_report(
        school, perpetrator=Perpetrator.school_staff, description=marker(side.name, "DESKSTORY")
    )
    return report.id


def fresh_teacher_report(side: Side) -> int:
    teacher = db.session.get(User, side.users[Role.teacher])
    made = file_teacher_report(
        teacher,
        forms=[ViolenceForm.physical],
        perpetrator=Perpetrator.students,
        place=Place.yard,
        happened=WhenHappened.today,
        classroom=db.session.get(Classroom, side["classroom"]),
        is_danger_now=False,
        description=marker(side.name, "TRSTORY"),
    )
    db.session.commit()
    return made.id


def _certificate(side: Side) -> str:
    from curriculum.course import new_code
    from curriculum.models import Certificate

    code = new_code()
    teacher = db.session.get(User, side.users[Role.teacher])
    db.session.add(
        Certificate(
            user_id=teacher.id,
            school_id=teacher.school_id,
            full_name=teacher.full_name,
            issued_on=date(2026, 9, 1),
            code=code,
        )
    )
    db.session.commit()
    return code


def fresh(kind: str, side: Side) -> int:
    """A new object of ``kind`` for a request that may consume it; returns its id."""
    from curriculum import services as lessons
    from curriculum.models import Lesson, LessonPlan
    from insights import surveys
    from insights.models import SurveyWave, WaveKind

    now = utcnow()
    counselor = db.session.get(User, side.users[Role.counselor])
    teacher = db.session.get(User, side.users[Role.teacher])
    classroom = db.session.get(Classroom, side["classroom"])
    case = db.session.get(Case, side["case"])
    if kind == "person":
        made = case_steps.add_person(
            case, by=counselor, role=PersonRole.witness, kind=PersonKind.student
        )
    elif kind == "draft_referral":
        body = db.session.get(AuthorizedBody, side["body"])
        made = referrals.new_referral(case, by=counselor, kind=BodyKind.police, body=body, now=now)
    elif kind in ("plan", "delivery"):
        lesson = db.session.scalar(
            db.select(Lesson)
            .where(Lesson.band == classroom.grade_band)
            .order_by(Lesson.position.desc())
        )
        if kind == "plan":
            existing = db.session.scalar(
                db.select(LessonPlan).where(
                    LessonPlan.classroom_id == classroom.id, LessonPlan.lesson_id == lesson.id
                )
            )
            made = existing or lessons.plan_lesson(
                classroom, lesson, date.today() + timedelta(days=7), teacher
            )
        else:
            made = lessons.log_delivery(
                classroom=classroom,
                lesson=lesson,
                teacher=teacher,
                delivered_on=date(2026, 1, 15),
                language=classroom.language,
                minutes_used=lesson.duration,
                students_present=20,
                steps_done=[0],
                reflection=marker(side.name, "REFLECTION"),
            )
    elif kind == "wave":
        for wave in db.session.scalars(
            db.select(SurveyWave).where(
                SurveyWave.classroom_id == classroom.id,
                SurveyWave.kind == WaveKind.follow_up,
                SurveyWave.closed_at.is_(None),
            )
        ):
            surveys.close_wave(wave)
        made = surveys.open_wave(classroom, WaveKind.follow_up, 3, teacher)
    elif kind in ("new_case", "case", "closed_case"):
        report, _code = student_report(
            db.session.get(School, side["school"]), description=marker(side.name, "STORY3")
        )
        made = state_machine.open_case(report, by=counselor, now=now)
        if kind == "new_case":
            db.session.commit()
            return made.id
        state_machine.triage(
            made,
            by=counselor,
            screening=Screening.bullying,
            risk=RiskLevel.medium,
            counselor=counselor,
            injury=False,
            now=now,
        )
        case_steps.plan_action(
            made, by=counselor, kind=ActionKind.talk_victim, due_on=now.date(), now=now
        )
        state_machine.move(made, CaseState.in_progress, by=counselor, now=now)
        if kind == "closed_case":
            state_machine.close(made, by=counselor, outcome=Outcome.resolved, note="—", now=now)
    elif kind == "action":
        made = case_steps.plan_action(
            case, by=counselor, kind=ActionKind.talk_parents, due_on=now.date(), now=now
        )
    elif kind == "pending_counselor":
        from school import services

        director = db.session.get(User, side.users[Role.school_admin])
        n = db.session.scalar(select(func.count(User.id)))
        name = marker(side.name, f"NAME-pending-{n}")
        with current_app.test_request_context():  # the notice to the others has a link
            made = services.create_user(
                email=f"{name.lower()}@example.kz",
                full_name=name,
                role=Role.counselor,
                password=factories.PASSWORD,
                school=director.school,
                by=director,
            )
    elif kind == "report":
        return fresh_report(side)
    elif kind == "teacher_report":
        return fresh_teacher_report(side)
    elif kind == "desk_report":
        return fresh_desk_report(side)
    else:
        raise KeyError(kind)
    db.session.commit()
    return made.id


@dataclass
class World:
    own: Side  # school A: the users logged in belong to it
    other: Side  # school B, in another region
    globals: dict[str, str | int]  # values that belong to no school (lesson slugs, a rule...)
    admin_id: int

    def __repr__(self) -> str:
        return "World(A, B)"

    def _repr_pretty_(self, printer, cycle) -> None:  # Hypothesis prints examples with it
        printer.text(repr(self))

    def user_id(self, role: str) -> int:
        return self.admin_id if role == "admin" else self.own.users[Role(role)]


def build_world() -> World:
    """Content, the referral rules, both schools and a platform administrator; the lesson plan,
    delivery and wave that the GET pages show are made here too."""
    from curriculum.models import CourseModule, InfoPage, Lesson, PageKind
    from incidents.cases.models import ReferralRule
    from insights import surveys
    from insights.models import WaveKind
    from tests.curriculum.factories import load_real_content

    load_real_content()
    referrals.load_rules()
    db.session.commit()
    sides = build_side("A"), build_side("B")
    for side in sides:
        side.ids["plan"] = fresh("plan", side)
        side.ids["delivery"] = fresh("delivery", side)
        classroom = db.session.get(Classroom, side["classroom"])
        teacher = db.session.get(User, side.users[Role.teacher])
        side.ids["wave"] = surveys.open_wave(classroom, WaveKind.baseline, 5, teacher).id
        db.session.commit()
    admin = factories.user(Role.admin, full_name="Platform Admin Q7X", locale="en")
    first = {
        "lesson": db.session.scalar(
            select(Lesson.slug).where(Lesson.band == "5-9").order_by(Lesson.position)
        ),
        "module": db.session.scalar(select(CourseModule.slug).order_by(CourseModule.position)),
        "page": db.session.scalar(select(InfoPage.slug).where(InfoPage.kind == PageKind.awareness)),
        "leaflet": db.session.scalar(
            select(InfoPage.slug).where(InfoPage.kind == PageKind.leaflet)
        ),
        "rule": db.session.scalar(select(ReferralRule.id).order_by(ReferralRule.id)),
        "lang": "en",
    }
    db.session.commit()
    return World(*sides, first, admin.id)


@contextmanager
def module_app(database_url: str, instance: Path) -> Iterator[Flask]:
    """An app for a whole test module (as the ``app`` fixture, but shared); the tables are
    emptied afterwards."""
    from app import create_app
    from tests.conftest import RequestClient, _clean

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "RECEIPT_DELAY_UNIT": 0.0,
            "INSTANCE_PATH": str(instance),
        }
    )
    app.test_client_class = RequestClient
    try:
        with app.app_context():
            yield app
    finally:
        _clean(app)


class Clients:
    """A test client per role, logged in as the world's user of that role in school A (the
    session is set as Flask-Login keeps it: the log-in itself is tested elsewhere)."""

    def __init__(self, app: Flask, world: World, language: str = "en") -> None:
        self.app, self.world, self.language = app, world, language
        self.kept: dict[str, object] = {}

    def make(self, role: str):
        client = self.app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = self.language
        if role != ANONYMOUS:
            with client.session_transaction() as session:
                session["_user_id"] = self._session_id(role)
                session["_fresh"] = True
        return client

    def _session_id(self, role: str) -> str | None:
        if role == ANONYMOUS:
            return None
        session_id = db.session.get(User, self.world.user_id(role)).get_id()
        db.session.rollback()
        return session_id

    def __getitem__(self, role: str):
        # A log-out ends every session of the account: a kept client is then made anew.
        session_id = self._session_id(role)
        if role not in self.kept or self.kept[role][0] != session_id:
            self.kept[role] = (session_id, self.make(role))
        return self.kept[role][1]


# Read-only content: counted, not hashed (large texts).
COUNTED_ONLY = frozenset(
    {"lessons", "lesson_texts", "course_modules", "module_texts", "info_pages", "info_page_texts"}
)


def fingerprint(tables: Iterable[str] | None = None) -> str:
    """The rows of these tables (default: all; content tables by their count), as one hash."""
    wanted = set(tables) if tables is not None else None
    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        if wanted is not None and table.name not in wanted:
            continue
        digest.update(table.name.encode())
        if table.name in COUNTED_ONLY:
            count = db.session.scalar(select(func.count()).select_from(table))
            digest.update(str(count).encode())
            continue
        for row in sorted(repr(tuple(row)) for row in db.session.execute(select(table))):
            digest.update(row.encode())
    db.session.rollback()  # end the read: the next request's writes must be seen
    return digest.hexdigest()
