"""Synthetic survey waves with plausible answers (baseline worse than follow-up) and lesson
deliveries in the surveyed classes."""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from extensions import db
from insights.models import SurveyAnswer, SurveyResponse, SurveyVersion, SurveyWave, WaveKind
from insights.questionnaire import questionnaire
from insights.surveys import recount
from insights.synthetic.base import Made, Progress, bump_sequence, insert_rows, next_id
from school.models import Classroom, Role, User, grade_band

# --- surveys -----------------------------------------------------------------------------------

# Chance that an answer on the frequency scale is at "2-3 times a month" or more, by wave.
VICTIM_RATE = {WaveKind.baseline: 0.24, WaveKind.follow_up: 0.17}
PERPETRATOR_RATE = {WaveKind.baseline: 0.10, WaveKind.follow_up: 0.07}
YES_RATE = {
    ("would_tell", WaveKind.baseline): 0.5,
    ("would_tell", WaveKind.follow_up): 0.66,
    ("knows_report", WaveKind.baseline): 0.42,
    ("knows_report", WaveKind.follow_up): 0.76,
}


def _frequency(rng: random.Random, rate: float) -> int:
    if rng.random() < rate:
        return rng.choices((2, 3, 4), weights=(5, 3, 2))[0]
    return rng.choices((0, 1), weights=(6, 3))[0]


def survey_answers(
    version: SurveyVersion, kind: WaveKind, rng: random.Random, shift: float = 1.0
) -> dict[str, int]:
    """One plausible response: some skipped questions, forms in line with the overall answer."""
    victim_rate = VICTIM_RATE[kind] * shift
    perp_rate = PERPETRATOR_RATE[kind] * shift
    answers: dict[str, int] = {}
    victim = _frequency(rng, victim_rate)
    perpetrator = _frequency(rng, perp_rate)
    for item in questionnaire().items_in(version):
        if rng.random() < 0.03:
            continue  # skipped
        if item == "victim":
            answers[item] = victim
        elif item.startswith("v_"):
            answers[item] = _frequency(rng, 0.45 if victim >= 2 else 0.03)
        elif item == "perpetrator":
            answers[item] = perpetrator
        elif item.startswith("p_"):
            answers[item] = _frequency(rng, 0.4 if perpetrator >= 2 else 0.02)
        elif item == "by_students":
            if victim >= 1 and rng.random() < 0.9:
                answers[item] = 1
        elif item == "by_adults":
            if victim >= 1 and rng.random() < 0.12:
                answers[item] = 1
        elif item == "feel_safe":
            good = 0.78 if kind == WaveKind.follow_up else 0.7
            answers[item] = rng.choices(
                (0, 1, 2, 3, 4),
                weights=(2, 4, 100 * (1 - good) - 6, 100 * good * 0.5, 100 * good * 0.5),
            )[0]
        elif item in ("would_tell", "knows_report"):
            yes = YES_RATE[(item, kind)]
            answers[item] = rng.choices((0, 1, 2), weights=(1 - yes, 0.35, yes))[0]
    return answers


def make_survey(
    school_ids: list[tuple[int, int, float]],
    rng: random.Random,
    now: datetime,
    progress: Progress | None = None,
) -> Made:
    """Two classes per school (grades 4 and 7), each with a baseline and a follow-up wave."""
    made = Made()
    class_first = next_id(Classroom)
    wave_first = next_id(SurveyWave)
    response_next = next_id(SurveyResponse)
    classes, waves, responses, answers = [], [], [], []
    for index, (school_id, _region, _speed) in enumerate(school_ids):
        shift = rng.uniform(0.6, 1.5)
        for slot, (grade, letter) in enumerate(((4, "А"), (7, "Б"))):
            class_id = class_first + index * 2 + slot
            classes.append(
                {
                    "id": class_id,
                    "school_id": school_id,
                    "grade": grade,
                    "letter": letter,
                    "language": rng.choice(("kk", "ru")),
                }
            )
            version = SurveyVersion.for_grade(grade)
            for kind, days_ago in ((WaveKind.baseline, 240), (WaveKind.follow_up, 40)):
                wave_id = wave_first + len(waves)
                opened = now - timedelta(days=days_ago + rng.uniform(0, 20))
                waves.append(
                    {
                        "id": wave_id,
                        "school_id": school_id,
                        "classroom_id": class_id,
                        "kind": kind.value,
                        "version": version.value,
                        "grade": grade,
                        "codes_issued": 28,
                        "code_seed": secrets.token_hex(16),
                        "code_span": 28,
                        "opened_by_id": None,
                        "opened_at": opened,
                        "closes_at": opened + timedelta(days=14),
                        "closed_at": opened + timedelta(days=14),
                    }
                )
                for _ in range(rng.randint(16, 28)):
                    responses.append({"id": response_next, "wave_id": wave_id})
                    for item, value in survey_answers(version, kind, rng, shift).items():
                        answers.append({"response_id": response_next, "item": item, "value": value})
                    response_next += 1
    made.waves = len(waves)
    insert_rows(Classroom.__table__, iter(classes))
    insert_rows(SurveyWave.__table__, iter(waves))
    made.responses = insert_rows(SurveyResponse.__table__, iter(responses))
    made.answers = insert_rows(SurveyAnswer.__table__, iter(answers), progress)
    for table in (Classroom.__table__, SurveyWave.__table__, SurveyResponse.__table__):
        bump_sequence(table)
    recount([w["id"] for w in waves])
    made.deliveries = _make_deliveries(classes, rng, now)
    return made


def _make_deliveries(classes: list[dict], rng: random.Random, now: datetime) -> int:
    """Lessons given in the survey classes, when the curriculum tables and lessons exist."""
    if "lesson_deliveries" not in db.metadata.tables:
        return 0
    from curriculum.models import Delivery, Lesson

    lessons: dict[str, list[tuple[int, int, int]]] = {}
    for lesson in db.session.scalars(select(Lesson).where(Lesson.retired.is_(False))):
        lessons.setdefault(lesson.band, []).append((lesson.id, lesson.duration, lesson.step_count))
    if not lessons:
        return 0
    # One synthetic teacher per school gives the lessons (an account nobody can log in to).
    teacher_first = next_id(User)
    teachers: dict[int, int] = {}
    users = []
    for row in classes:
        if row["school_id"] not in teachers:
            teachers[row["school_id"]] = teacher_first + len(users)
            users.append(
                {
                    "id": teachers[row["school_id"]],
                    "email": f"teacher-{row['school_id']}@synthetic.invalid",
                    "full_name": "Synthetic teacher",
                    "role": Role.teacher.value,
                    "school_id": row["school_id"],
                    "password_hash": "!",
                    "active": False,
                    "session_nonce": secrets.token_hex(16),
                    "created_at": now,
                }
            )
    insert_rows(User.__table__, iter(users))
    bump_sequence(User.__table__)
    deliveries = []
    for row in classes:
        band = grade_band(row["grade"]).value
        available = lessons.get(band, [])
        given = rng.randint(0, len(available))
        for lesson_id, duration, steps in rng.sample(available, given):
            done = rng.randint(max(1, steps - 2), steps)
            deliveries.append(
                {
                    "school_id": row["school_id"],
                    "classroom_id": row["id"],
                    "lesson_id": lesson_id,
                    "teacher_id": teachers[row["school_id"]],
                    "delivered_on": (now - timedelta(days=rng.uniform(30, 200))).date(),
                    "language": row["language"],
                    "minutes_used": duration + rng.randint(-10, 5),
                    "students_present": rng.randint(15, 28),
                    "steps_done": list(range(done)),
                    "steps_done_count": done,
                    "steps_total": steps,
                    "reflection": "",
                    "created_at": now,
                }
            )
    return insert_rows(Delivery.__table__, iter(deliveries))
