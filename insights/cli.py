"""Commands: ``flask --app app insights generate --reports N`` and the demo surveys."""

from __future__ import annotations

import random
from datetime import timedelta

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import insert, select

from core.model_types import utcnow
from extensions import db
from insights import rollup, synthetic
from insights.models import (
    SurveyAnswer,
    SurveyResponse,
    SurveyVersion,
    SurveyWave,
    WaveKind,
)
from insights.surveys import recount
from school.cli import DEMO_SCHOOL_CODE
from school.models import Classroom, School

insights_cli = AppGroup("insights", help="Statistics and surveys.")


@insights_cli.command("generate")
@click.option("--reports", default=10_000, show_default=True, help="Reports to make.")
@click.option(
    "--schools",
    type=int,
    default=None,
    help="Schools (default: a country of 7,500, whatever the number of reports).",
)
@click.option(
    "--survey-share",
    default=0.1,
    show_default=True,
    help="Share of the new schools whose classes answer the survey.",
)
@click.option("--seed", type=int, default=None, help="Random seed, for repeatable data.")
def generate_command(reports: int, schools: int | None, survey_share: float, seed) -> None:
    """Add synthetic schools, reports, cases, referrals, deliveries and survey answers."""
    total = reports + int((schools or synthetic.COUNTRY_SCHOOLS) * survey_share * 2 * 2 * 22 * 20)
    with click.progressbar(length=total, label="Writing rows") as bar:
        made = synthetic.generate(
            reports, schools=schools, survey_share=survey_share, seed=seed, progress=bar.update
        )
    click.echo(
        f"schools {made.schools}, reports {made.reports} ({made.forms} forms), "
        f"cases {made.cases}, referrals {made.referrals}, survey waves {made.waves} "
        f"({made.responses} answers), lesson deliveries {made.deliveries}"
    )


@insights_cli.command("refresh-stats")
@click.option("--full", is_flag=True, help="Rebuild every month, not only those that changed.")
def refresh_stats_command(full: bool) -> None:
    """Rebuild the monthly totals of the months that changed since the last run (run it
    nightly); ``--full`` rebuilds every month since the first report."""
    months = rollup.refresh() if full else rollup.refresh_changed()
    db.session.commit()
    click.echo(f"monthly totals rebuilt for {len(months)} months")


@insights_cli.command("recount-surveys")
def recount_command() -> None:
    """Rebuild every wave's answer totals from the stored answers."""
    recount()
    db.session.commit()
    click.echo("survey totals rebuilt")


def seed_demo_surveys() -> None:
    """A baseline and a follow-up wave with answers for the demo school's classes (idempotent)."""
    school = db.session.scalar(select(School).where(School.code == DEMO_SCHOOL_CODE))
    if school is None:
        return
    if db.session.scalar(select(SurveyWave.id).where(SurveyWave.school_id == school.id)):
        return
    rng = random.Random(2026)  # noqa: S311 - demo answers, not secrets
    now = utcnow()
    classes = db.session.scalars(
        select(Classroom).where(Classroom.school_id == school.id, Classroom.grade >= 3)
    ).all()
    for classroom in classes:
        version = SurveyVersion.for_grade(classroom.grade)
        for kind, days_ago in ((WaveKind.baseline, 150), (WaveKind.follow_up, 10)):
            opened = now - timedelta(days=days_ago)
            wave = SurveyWave(
                school_id=school.id,
                classroom_id=classroom.id,
                kind=kind,
                version=version,
                grade=classroom.grade,
                codes_issued=26,
                code_seed="demo",
                code_span=0,
                opened_at=opened,
                closes_at=opened + timedelta(days=7),
                closed_at=opened + timedelta(days=7),
            )
            db.session.add(wave)
            db.session.flush()
            for _ in range(rng.randint(20, 26)):
                response = SurveyResponse(wave_id=wave.id)
                db.session.add(response)
                db.session.flush()
                rows = [
                    {"response_id": response.id, "item": item, "value": value}
                    for item, value in synthetic.survey_answers(version, kind, rng).items()
                ]
                if rows:
                    db.session.execute(insert(SurveyAnswer), rows)
    recount(
        [
            w.id
            for w in db.session.scalars(select(SurveyWave).where(SurveyWave.school_id == school.id))
        ]
    )
    db.session.commit()


def init_app(app: Flask) -> None:
    app.cli.add_command(insights_cli)
