"""Builders for survey and statistics tests: waves with codes, answered slips, reports."""

from __future__ import annotations

import itertools
import secrets
from datetime import datetime

from extensions import db
from incidents.intake.models import (
    Frequency,
    Perpetrator,
    Place,
    Priority,
    Report,
    ReportViolenceForm,
    Victim,
    ViolenceForm,
    WhenHappened,
)
from insights import surveys
from insights.models import SurveyWave, WaveKind

_seq = itertools.count(1)


def wave(classroom, opener, kind: WaveKind = WaveKind.baseline, students: int = 12):
    """An open wave and its codes, as printed on the slips."""
    made = surveys.open_wave(classroom, kind, students, opener)
    db.session.commit()
    return made, surveys.unspent_codes(made)


def answer(client, code: str, **answers) -> object:
    """A student sends the survey with this code; unnamed questions are skipped."""
    data = {"code": code}
    for item, value in answers.items():
        data[item] = "y" if value is True else str(value)
    return client.post("/s/answers", data=data)


def report(
    school,
    created_at: datetime,
    forms=(ViolenceForm.verbal,),
    *,
    place: Place = Place.classroom,
    perpetrator: Perpetrator = Perpetrator.students,
    priority: Priority = Priority.normal,
    first_response_at: datetime | None = None,
    description: str = "",
) -> Report:
    made = Report(
        school_id=school.id,
        label=f"T{next(_seq):06d}",
        receipt_hash="test:" + secrets.token_hex(16),
        created_at=created_at,
        victim=Victim.me,
        perpetrator=perpetrator,
        place=place,
        frequency=Frequency.few_times,
        happened=WhenHappened.this_week,
        grade_band="5-9",
        description=description,
        priority=priority,
        first_response_at=first_response_at,
    )
    db.session.add(made)
    db.session.flush()
    for form in forms:
        db.session.add(ReportViolenceForm(report_id=made.id, form=form))
    db.session.commit()
    return made


def expire(wave_: SurveyWave, when: datetime) -> None:
    wave_.closes_at = when
    db.session.commit()
