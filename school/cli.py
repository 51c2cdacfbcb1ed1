"""Commands: load the regions, seed the demo."""

from __future__ import annotations

from collections.abc import Callable

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from extensions import db
from school import services
from school.models import AuthorizedBody, BodyKind, Classroom, Region, Role, School, User

DEMO_PASSWORD = "qamqor-demo-2026"  # noqa: S105 - printed to the operator; demo data only
DEMO_SCHOOL_CODE = "demo01"
DEMO_REGION = "KZ-71"  # Astana


def register_demo_seeder(app: Flask, seeder: Callable[[], None]) -> None:
    """Packages add their own demo data (lessons, reports, surveys) to ``seed-demo``."""
    app.extensions.setdefault("qamqor_demo_seeders", []).append(seeder)


@click.command("load-regions")
@with_appcontext
def load_regions_command() -> None:
    """Load Kazakhstan's 20 regions and cities (idempotent)."""
    added, updated = services.load_regions()
    click.echo(f"regions: {added} added, {updated} updated")


DEMO_ACCOUNTS = [
    ("admin@demo.qamqor.kz", "Әлия Платформова", Role.admin),
    ("director@demo.qamqor.kz", "Серік Директоров", Role.school_admin),
    ("psychologist@demo.qamqor.kz", "Гүлнар Психологова", Role.counselor),
    ("teacher@demo.qamqor.kz", "Айгерім Мұғалімова", Role.teacher),
    ("analyst@demo.qamqor.kz", "Марат Талдаушиев", Role.analyst),
    ("police@demo.qamqor.kz", "Ержан Полицейский", Role.partner),
    ("desk@demo.qamqor.kz", "Динара Кезекшиева", Role.desk_officer),
]


def seed_directory() -> dict[str, str]:
    """The demo school, classes, bodies and one account per role; returns the logins."""
    services.load_regions()
    region = db.session.scalar(select(Region).where(Region.iso_code == DEMO_REGION))
    school = db.session.scalar(select(School).where(School.code == DEMO_SCHOOL_CODE))
    if school is None:
        school = School(
            region=region,
            name="№ 1 мектеп-гимназия (демо)",
            name_ru="Школа-гимназия № 1 (демо)",
            code=DEMO_SCHOOL_CODE,
            languages="kk,ru",
            address="Астана, Бейбітшілік көшесі, 1",
            phone="+7 7172 00 00 00",
        )
        db.session.add(school)
    bodies = {
        BodyKind.police: ("Ювеналдық полиция бөлімі", "Отдел ювенальной полиции"),
        BodyKind.guardianship: (
            "Қорғаншылық және қамқоршылық органы",
            "Орган опеки и попечительства",
        ),
        BodyKind.health: ("Қалалық емхана", "Городская поликлиника"),
        BodyKind.education: ("Білім басқармасы", "Управление образования"),
    }
    existing = {
        body.kind: body
        for body in db.session.scalars(
            select(AuthorizedBody).where(AuthorizedBody.region_id == region.id)
        )
    }
    for kind, (name_kk, name_ru) in bodies.items():
        if kind not in existing:
            existing[kind] = AuthorizedBody(
                kind=kind, region=region, name_kk=name_kk, name_ru=name_ru, name_en=kind.title
            )
            db.session.add(existing[kind])
    db.session.flush()
    logins = {}
    for email, name, role in DEMO_ACCOUNTS:
        if not services.email_taken(email):
            services.create_user(
                email=email,
                full_name=name,
                role=role,
                password=DEMO_PASSWORD,
                school=school,
                region=region,
                body=existing[BodyKind.police],
                locale="kk",
            )
        logins[role.value] = email
    db.session.flush()
    teacher = db.session.scalar(select(User).where(User.email == "teacher@demo.qamqor.kz"))
    for grade, letter, language in [
        (3, "А", "kk"),
        (6, "Ә", "kk"),
        (6, "Б", "ru"),
        (10, "А", "ru"),
    ]:
        if not services.classroom_exists(school, grade, letter):
            db.session.add(
                Classroom(
                    school=school,
                    grade=grade,
                    letter=letter,
                    language=language,
                    homeroom_teacher=teacher,
                    teachers=[teacher],
                )
            )
    db.session.commit()
    return logins


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Create the regions, a demo school with classes and one account per role (idempotent)."""
    from flask_migrate import upgrade

    upgrade()
    logins = seed_directory()
    for seeder in current_app.extensions.get("qamqor_demo_seeders", []):
        seeder()
    click.echo(f"Demo school: code {DEMO_SCHOOL_CODE}")
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for role, email in logins.items():
        click.echo(f"  {role:<13} {email}")


def init_app(app: Flask) -> None:
    app.cli.add_command(load_regions_command)
    app.cli.add_command(seed_demo_command)
