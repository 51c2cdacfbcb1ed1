"""Demo reports for the demo school: a few reports, two of them with a reply and an answer.

Idempotent: nothing is added when the demo school already has reports. The receipt codes are
printed once, when they are made, so that the student side can be tried with them.
"""

from __future__ import annotations

import click
from sqlalchemy import exists, select

from core.model_types import utcnow
from extensions import db
from incidents.intake import receipts
from incidents.intake.models import (
    AuthorKind,
    Frequency,
    Message,
    Perpetrator,
    Place,
    Report,
    Victim,
    ViolenceForm,
    WhenHappened,
)
from incidents.intake.reporting import ReportInput, add_reporter_message, submit_report
from school.cli import DEMO_SCHOOL_CODE
from school.models import GradeBand, Role, School, User

SAMPLES = [
    (
        ReportInput(
            victim=Victim.me,
            perpetrator=Perpetrator.students,
            forms=[ViolenceForm.bullying, ViolenceForm.verbal],
            place=Place.corridor,
            frequency=Frequency.daily,
            happened=WhenHappened.today,
            grade_band=GradeBand.middle.value,
            description="Сыныптағы екі бала күнде мені мазақтайды, атымды бұрмалап айтады. "
            "Бүгін үзілісте сөмкемді лақтырып жіберді.",
        ),
        "Сәлем! Жазғаныңа рақмет, сен дұрыс істедің. Ертең бірінші үзілісте "
        "психолог кабинетіне келе аласың ба? Сені қорғау үшін қажет болса ғана басқа "
        "ересектерге айтамын, оны да алдымен саған айтамын.",
        "Иә, келемін. Рақмет.",
    ),
    (
        ReportInput(
            victim=Victim.other_student,
            perpetrator=Perpetrator.students,
            forms=[ViolenceForm.cyberbullying],
            place=Place.online,
            frequency=Frequency.few_times,
            happened=WhenHappened.this_week,
            grade_band=GradeBand.senior.value,
            description="В классном чате выкладывают обидные картинки про одну девочку "
            "и пишут гадости. Она уже не приходит в школу.",
        ),
        "Спасибо, что написал(а). Ты поступил(а) правильно. Можешь сказать, в каком "
        "классе это происходит? Мы поговорим с классом, не называя тебя.",
        "Это 10 «А». Только пожалуйста не говорите, что это я.",
    ),
    (
        ReportInput(
            victim=Victim.me,
            perpetrator=Perpetrator.school_staff,
            forms=[ViolenceForm.adult_at_school, ViolenceForm.psychological],
            place=Place.classroom,
            frequency=Frequency.few_times,
            happened=WhenHappened.this_week,
            grade_band=GradeBand.middle.value,
            description="Мұғалім бүкіл сыныптың алдында менің дәптерімді көрсетіп, "
            "мені ақымақ деп атады.",
        ),
        None,
        None,
    ),
    (
        ReportInput(
            victim=Victim.unsaid,
            perpetrator=Perpetrator.unknown,
            is_danger_now=True,
            description="",
        ),
        None,
        None,
    ),
]


def seed_reports() -> None:
    school = db.session.scalar(select(School).where(School.code == DEMO_SCHOOL_CODE))
    if school is None or db.session.scalar(select(exists().where(Report.school_id == school.id))):
        return
    counselor = db.session.scalar(
        select(User).where(User.school_id == school.id, User.role == Role.counselor).limit(1)
    )
    for data, reply, answer in SAMPLES:
        report, code, _notices = submit_report(school, data)  # sent by `mail send`
        click.echo(
            f"Demo report {report.label} ({report.priority.value}): "
            f"receipt {receipts.format_code(code)}"
        )
        if reply and counselor is not None:
            db.session.add(
                Message(
                    report=report,
                    author_kind=AuthorKind.staff,
                    author=counselor,
                    body=reply,
                )
            )
            report.first_response_at = utcnow()
            db.session.commit()
            add_reporter_message(report, answer)
