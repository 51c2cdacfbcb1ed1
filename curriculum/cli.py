"""``flask --app app curriculum check|load`` and the curriculum's part of ``seed-demo``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from core.clock import local_today
from curriculum import services
from curriculum.content import CONTENT_ROOT, ContentError, Library, load_library
from curriculum.loader import load_content
from curriculum.models import Delivery
from extensions import db
from school.access import taught_classrooms
from school.models import Classroom, User

curriculum_cli = AppGroup("curriculum", help="Lessons, the staff course and public pages.")


def content_root() -> Path:
    return Path(current_app.config.get("CURRICULUM_CONTENT_DIR") or CONTENT_ROOT)


def checked_library() -> Library:
    try:
        return load_library(content_root())
    except ContentError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(
            f"{len(error.problems)} problem(s) in the content files"
        ) from None


@curriculum_cli.command("check")
def check_command() -> None:
    """Check every content file; print each problem with its file and field."""
    library = checked_library()
    click.echo(
        f"OK: {len(library.lessons)} lessons, {len(library.modules)} course modules, "
        f"{len(library.leaflets)} leaflets, {len(library.pages)} public pages"
    )


@curriculum_cli.command("load")
def load_command() -> None:
    """Check the content files and store them (idempotent: unchanged files are left alone)."""
    library = checked_library()
    with click.progressbar(length=len(library), label="Loading content") as bar:
        report = load_content(library, progress=lambda: bar.update(1))
    db.session.commit()
    for line in report.lines():
        click.echo(line)


@curriculum_cli.command("withdraw-certificate")
@click.argument("code")
@click.option("--reason", required=True, help="Why (kept in the audit log).")
def withdraw_certificate_command(code: str, reason: str) -> None:
    """Withdraw a staff course certificate (given in error, or to the wrong person): its check
    page says so from then on. Recorded in the audit log with the reason."""
    from core import audit
    from core.model_types import utcnow
    from curriculum import course

    certificate = course.find_certificate(code)
    if certificate is None:
        raise click.ClickException("No certificate has this code.")
    if certificate.revoked_at is not None:
        raise click.ClickException("This certificate was withdrawn already.")
    reason = reason.strip()
    if not reason:
        raise click.ClickException("Say why (--reason).")
    certificate.revoked_at = utcnow()
    audit.record(
        "certificate.withdraw",
        certificate,
        actor_kind="system",
        school_id=certificate.school_id,
        reason=reason,
    )
    db.session.commit()
    click.echo(f"Withdrawn: the certificate of {certificate.full_name}.")


def seed_demo() -> None:
    """Load the content and log two lessons for the demo teacher's Russian-medium 6th grade."""
    load_content(load_library(content_root()))
    teacher = db.session.scalar(select(User).where(User.email == "teacher@demo.qamqor.kz"))
    if teacher is None:
        db.session.commit()
        return
    classes = db.session.scalars(
        taught_classrooms(teacher).order_by(Classroom.grade, Classroom.language.desc())
    ).all()
    sixth = next((c for c in classes if c.grade == 6), None)
    already = sixth and db.session.scalar(
        select(Delivery.id).where(Delivery.classroom_id == sixth.id).limit(1)
    )
    if sixth is None or already:
        db.session.commit()
        return
    lessons = list(db.session.execute(services.library(sixth.language, sixth.grade_band)).scalars())
    today = local_today()
    # One lesson given in full, one cut short: the demo shows what fidelity looks like.
    for weeks, lesson, cut in ((3, lessons[0], 0), (2, lessons[1], 1)):
        services.log_delivery(
            classroom=sixth,
            lesson=lesson,
            teacher=teacher,
            delivered_on=today - timedelta(weeks=weeks),
            language=sixth.language,
            minutes_used=lesson.duration - 10 * cut,
            students_present=24,
            steps_done=list(range(lesson.step_count - cut)),
        )
    services.plan_lesson(sixth, lessons[2], today + timedelta(days=7), teacher)
    db.session.commit()
    click.echo(f"curriculum: content loaded, 2 lessons logged for class {sixth.label}")


def init_app(app) -> None:
    from school.cli import register_demo_seeder

    app.cli.add_command(curriculum_cli)
    register_demo_seeder(app, seed_demo)
