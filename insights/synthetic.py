"""Synthetic data at scale, so that dashboards show something real and benchmarks can run.

Schools across the 20 regions (weighted roughly by the number of pupils), reports over the last
two years (fewer in the summer holidays, more as the program spreads), with forms, places,
perpetrators, priorities from the platform's own rule and first-response times; cases,
referrals and lesson deliveries when those tables exist; survey waves with answers, baseline
worse than follow-up. Rows go in with bulk ``insert()`` of ~10,000 dicts at a time, and ids are
assigned here, so that a million reports is a matter of minutes on PostgreSQL.

Everything it makes is marked: schools are named "… (synthetic)" with codes starting "zz", and
reports carry no text at all.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Table, func, insert, select, text

from extensions import db
from incidents.models import (
    Frequency,
    Perpetrator,
    Place,
    Report,
    ReportViolenceForm,
    Victim,
    ViolenceForm,
    WhenHappened,
)
from incidents.priority import compute_priority
from insights.models import SurveyAnswer, SurveyResponse, SurveyVersion, SurveyWave, WaveKind
from insights.questionnaire import questionnaire
from school import services
from school.models import Classroom, Region, Role, School, User, utcnow

BATCH = 10_000

# Rough share of the country's pupils by region (ISO code), for where the schools are.
REGION_WEIGHTS = {
    "KZ-10": 3.0, "KZ-11": 3.8, "KZ-15": 5.0, "KZ-19": 8.0, "KZ-23": 4.2,
    "KZ-27": 3.4, "KZ-31": 6.0, "KZ-33": 3.8, "KZ-35": 6.0, "KZ-39": 4.0,
    "KZ-43": 4.6, "KZ-47": 4.8, "KZ-55": 3.6, "KZ-59": 2.4, "KZ-61": 12.0,
    "KZ-62": 1.0, "KZ-63": 3.6, "KZ-71": 7.0, "KZ-75": 10.0, "KZ-79": 7.4,
}  # fmt: skip
FORM_WEIGHTS = {
    ViolenceForm.verbal: 24, ViolenceForm.bullying: 19, ViolenceForm.physical: 17,
    ViolenceForm.psychological: 9, ViolenceForm.cyberbullying: 9, ViolenceForm.exclusion: 7,
    ViolenceForm.belongings: 5, ViolenceForm.adult_at_school: 4, ViolenceForm.home: 3,
    ViolenceForm.sexual: 1.5, ViolenceForm.other: 1.5,
}  # fmt: skip
PLACE_WEIGHTS = {
    Place.classroom: 24, Place.corridor: 22, Place.yard: 14, Place.toilet: 7, Place.canteen: 6,
    Place.way_to_school: 9, Place.online: 10, Place.home: 4, Place.elsewhere: 4,
}  # fmt: skip
PERPETRATOR_WEIGHTS = {
    Perpetrator.students: 78, Perpetrator.school_staff: 6, Perpetrator.family: 5,
    Perpetrator.other_adult: 3, Perpetrator.unknown: 8,
}  # fmt: skip
# Reports by calendar month (school year high, summer holidays low).
SEASON = {1: 0.9, 2: 1.05, 3: 1.0, 4: 1.1, 5: 0.95, 6: 0.35, 7: 0.2, 8: 0.3,
          9: 1.1, 10: 1.2, 11: 1.15, 12: 0.95}  # fmt: skip
TARGET_HOURS = {"critical": 1, "high": 4, "normal": 24, "low": 72}


@dataclass
class Made:
    schools: int = 0
    reports: int = 0
    forms: int = 0
    cases: int = 0
    referrals: int = 0
    waves: int = 0
    responses: int = 0
    answers: int = 0
    deliveries: int = 0


Progress = Callable[[int], None]


def _next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def _bump_sequence(table: Table) -> None:
    """Ids were given explicitly: move PostgreSQL's sequence past them."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"  # noqa: S608 - our table
                f" (SELECT COALESCE(MAX(id), 1) FROM {table.name}))"
            )
        )


def _insert(table: Table, rows: Iterator[dict], progress: Progress | None = None) -> int:
    batch, total = [], 0
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            db.session.execute(insert(table), batch)
            total += len(batch)
            if progress:
                progress(len(batch))
            batch = []
    if batch:
        db.session.execute(insert(table), batch)
        total += len(batch)
        if progress:
            progress(len(batch))
    return total


def _weighted(rng: random.Random, weights: dict):
    keys = list(weights)
    cumulative = []
    running = 0.0
    for key in keys:
        running += weights[key]
        cumulative.append(running)
    return lambda: rng.choices(keys, cum_weights=cumulative)[0]


# --- schools -----------------------------------------------------------------------------------


def make_schools(count: int, rng: random.Random) -> list[tuple[int, int, float]]:
    """``count`` synthetic schools; returns (school id, region id, response speed factor)."""
    services.load_regions()
    regions = {r.iso_code: r.id for r in db.session.scalars(select(Region))}
    pick_region = _weighted(rng, {regions[c]: w for c, w in REGION_WEIGHTS.items()})
    first = _next_id(School)
    existing = db.session.scalar(select(func.count(School.id)).where(School.code.like("zz%")))
    now = utcnow()
    rows = []
    for offset in range(count):
        number = existing + offset + 1
        rows.append(
            {
                "id": first + offset,
                "region_id": pick_region(),
                "name": f"№ {number} мектеп (synthetic)",
                "code": f"zz{number:07d}",
                "languages": rng.choice(["kk", "kk,ru", "ru", "kk,ru"]),
                "address": "",
                "phone": "",
                "created_at": now,
            }
        )
    _insert(School.__table__, iter(rows))
    _bump_sequence(School.__table__)
    # Some regions answer faster than others; each school varies around its region.
    region_speed = {rid: rng.uniform(0.6, 1.6) for rid in regions.values()}
    return [
        (row["id"], row["region_id"], region_speed[row["region_id"]] * rng.uniform(0.7, 1.4))
        for row in rows
    ]


# --- reports -----------------------------------------------------------------------------------


def _month_weights(start: date, months: int) -> list[tuple[date, float]]:
    """Each month of the span with its weight: the season times a rising trend."""
    result = []
    year, month = start.year, start.month
    for index in range(months):
        trend = 0.6 + 0.8 * index / max(months - 1, 1)
        result.append((date(year, month, 1), SEASON[month] * trend))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


def _response_hours(rng: random.Random, priority: str, speed: float) -> float:
    """Log-normal around ~60% of the target, scaled by how quick the school is."""
    median = TARGET_HOURS[priority] * 0.6 * speed
    return max(0.05, rng.lognormvariate(math.log(median), 0.9))


def report_rows(
    count: int,
    schools: list[tuple[int, int, float]],
    rng: random.Random,
    now: datetime,
    months: int = 24,
) -> Iterator[tuple[dict, list[dict]]]:
    """(report row, its form rows), ``count`` times."""
    first = _next_id(Report)
    start = (now - timedelta(days=months * 30.4)).date().replace(day=1)
    spans = _month_weights(start, months + 1)
    month_keys = [m for m, _w in spans]
    month_cum = []
    running = 0.0
    for _m, weight in spans:
        running += weight
        month_cum.append(running)
    school_weights = [rng.paretovariate(2.5) for _ in schools]
    school_cum = []
    running = 0.0
    for weight in school_weights:
        running += weight
        school_cum.append(running)
    pick_form = _weighted(rng, FORM_WEIGHTS)
    pick_place = _weighted(rng, PLACE_WEIGHTS)
    pick_perp = _weighted(rng, PERPETRATOR_WEIGHTS)
    frequencies = list(Frequency)
    victims = list(Victim)
    bands = ["1-4", "5-9", "5-9", "10-11", None]
    for offset in range(count):
        report_id = first + offset
        school_id, _region, speed = schools[_bisect(school_cum, rng.random() * school_cum[-1])]
        month = month_keys[_bisect(month_cum, rng.random() * month_cum[-1])]
        created = (
            datetime(month.year, month.month, 1, tzinfo=UTC)
            + timedelta(seconds=rng.uniform(0, 28 * 86400))
            + timedelta(hours=rng.choice((3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)))
        )
        if created > now:
            created = now - timedelta(minutes=rng.uniform(1, 60 * 24 * 20))
        forms = {pick_form()}
        if rng.random() < 0.35:
            forms.add(pick_form())
        danger = rng.random() < 0.01
        perpetrator = Perpetrator.school_staff if ViolenceForm.adult_at_school in forms else None
        perpetrator = perpetrator or (
            Perpetrator.family if ViolenceForm.home in forms else pick_perp()
        )
        place = Place.online if ViolenceForm.cyberbullying in forms else pick_place()
        frequency = rng.choice(frequencies)
        priority = compute_priority(
            danger_now=danger, forms=forms, perpetrator=perpetrator, frequency=frequency
        ).value
        first_response = None
        if rng.random() < 0.94:
            answered = created + timedelta(hours=_response_hours(rng, priority, speed))
            if answered <= now:
                first_response = answered
        row = {
            "id": report_id,
            "school_id": school_id,
            "label": secrets.token_hex(8),
            "receipt_hash": "synthetic:" + secrets.token_hex(24),
            "created_at": created,
            "is_danger_now": danger,
            "victim": rng.choice(victims).value,
            "perpetrator": perpetrator.value,
            "place": place.value,
            "frequency": frequency.value,
            "happened": rng.choice(list(WhenHappened)).value,
            "grade_band": rng.choice(bands),
            "description": "",
            "priority": priority,
            "first_response_at": first_response,
        }
        yield row, [{"report_id": report_id, "form": form.value} for form in forms]


def _bisect(cumulative: list[float], value: float) -> int:
    lo, hi = 0, len(cumulative) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cumulative[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


def make_reports(
    count: int,
    schools: list[tuple[int, int, float]],
    rng: random.Random,
    now: datetime,
    progress: Progress | None = None,
    case_share: float = 0.5,
) -> Made:
    made = Made()
    form_batch: list[dict] = []
    case_rows: list[dict] = []
    has_cases = _casework_tables()
    report_table = Report.__table__

    def reports() -> Iterator[dict]:
        for row, forms in report_rows(count, schools, rng, now):
            form_batch.extend(forms)
            if has_cases and rng.random() < case_share:
                case_rows.append(row)
            yield row
            if len(form_batch) >= BATCH:
                _flush_forms()

    def _flush_forms() -> None:
        db.session.execute(insert(ReportViolenceForm.__table__), form_batch)
        made.forms += len(form_batch)
        form_batch.clear()
        if len(case_rows) >= BATCH:
            _flush_cases()

    bodies = _bodies() if has_cases else {}
    region_of = {school_id: region_id for school_id, region_id, _speed in schools}

    def _flush_cases() -> None:
        cases, referrals = _case_rows(case_rows, rng, now)
        for referral in referrals:
            if referral["sent_at"] is not None:
                referral["body_id"] = bodies[
                    (region_of[referral["school_id"]], referral["body_kind"])
                ]
        made.cases += _insert(_cases_table(), iter(cases))
        made.referrals += _insert(_referrals_table(), iter(referrals))
        case_rows.clear()

    made.reports = _insert(report_table, reports(), progress)
    if form_batch:
        _flush_forms()
    if case_rows:
        _flush_cases()
    _bump_sequence(report_table)
    if has_cases:
        _bump_sequence(_cases_table())
        _bump_sequence(_referrals_table())
    return made


# --- cases and referrals (when the response tables exist) ---------------------------------------


def _casework_tables() -> bool:
    return "cases" in db.metadata.tables and "referrals" in db.metadata.tables


def _cases_table() -> Table:
    return db.metadata.tables["cases"]


def _referrals_table() -> Table:
    return db.metadata.tables["referrals"]


_case_ids: dict[str, int] = {}
REFERRAL_KINDS = ("police", "guardianship", "health", "social", "education")


def _bodies() -> dict[tuple[int, str], int]:
    """An authorized body of each kind in each region (made when the region has none)."""
    from school.models import AuthorizedBody, BodyKind

    found = {
        (b.region_id, b.kind.value): b.id
        for b in db.session.scalars(
            select(AuthorizedBody).where(AuthorizedBody.region_id.is_not(None))
        )
    }
    for region in db.session.scalars(select(Region)):
        for kind in REFERRAL_KINDS:
            if (region.id, kind) not in found:
                body = AuthorizedBody(
                    kind=BodyKind(kind),
                    region_id=region.id,
                    name_kk=f"{region.name_kk}: {kind} (synthetic)",
                    name_ru=f"{region.name_ru}: {kind} (synthetic)",
                    name_en=f"{region.name_en}: {kind} (synthetic)",
                )
                db.session.add(body)
                db.session.flush()
                found[(region.id, kind)] = body.id
    return found


def _case_rows(reports: list[dict], rng: random.Random, now: datetime):
    """A case for each report, closed with an outcome when it is old enough; referrals for the
    serious ones, most sent before their deadline."""
    from incidents.case_enums import CaseState, Outcome, ReferralStatus

    if "case" not in _case_ids:
        _case_ids["case"] = (db.session.scalar(select(func.max(_cases_table().c.id))) or 0) + 1
        _case_ids["referral"] = (
            db.session.scalar(select(func.max(_referrals_table().c.id))) or 0
        ) + 1
    outcomes = _weighted(
        rng,
        {
            Outcome.resolved: 70,
            Outcome.unfounded: 14,
            Outcome.transferred: 10,
            Outcome.duplicate: 6,
        },
    )
    kinds = _weighted(
        rng, {"police": 40, "guardianship": 25, "health": 15, "social": 12, "education": 8}
    )
    cases, referrals = [], []
    for report in reports:
        case_id = _case_ids["case"]
        _case_ids["case"] += 1
        created = report["first_response_at"] or report["created_at"]
        age = now - created
        closed = age > timedelta(days=21) and rng.random() < 0.85
        cases.append(
            {
                "id": case_id,
                "school_id": report["school_id"],
                "report_id": report["id"],
                "teacher_report_id": None,
                "label": "syn-" + secrets.token_hex(6),
                "state": CaseState.closed.value
                if closed
                else rng.choice(
                    [
                        CaseState.triaged.value,
                        CaseState.in_progress.value,
                        CaseState.monitoring.value,
                    ]
                ),
                "injury": False,
                "narrative": "",
                "outcome": outcomes().value if closed else None,
                "closing_note": "",
                "created_at": created,
                "updated_at": created,
                "closed_at": created + timedelta(days=rng.uniform(3, 20)) if closed else None,
                "version": 1,
            }
        )
        if report["priority"] in ("critical", "high") and rng.random() < 0.45:
            referral_id = _case_ids["referral"]
            _case_ids["referral"] += 1
            deadline = created + timedelta(hours=24)
            sent = None
            if rng.random() < 0.9:
                sent = created + timedelta(hours=rng.lognormvariate(math.log(10), 0.9))
                if sent > now:
                    sent = None
            referrals.append(
                {
                    "id": referral_id,
                    "case_id": case_id,
                    "school_id": report["school_id"],
                    "body_kind": kinds(),
                    "body_id": None,
                    "required": True,
                    "rule_keys": "",
                    "deadline_at": deadline,
                    "status": (ReferralStatus.sent if sent else ReferralStatus.draft).value,
                    "language": "kk",
                    "facts_included": "",
                    "facts_text": "",
                    "reference_number": "",
                    "body_reference": "",
                    "outcome_note": "",
                    "created_at": created,
                    "sent_at": sent,
                }
            )
    return cases, referrals


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
    class_first = _next_id(Classroom)
    wave_first = _next_id(SurveyWave)
    response_next = _next_id(SurveyResponse)
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
    _insert(Classroom.__table__, iter(classes))
    _insert(SurveyWave.__table__, iter(waves))
    made.responses = _insert(SurveyResponse.__table__, iter(responses))
    made.answers = _insert(SurveyAnswer.__table__, iter(answers), progress)
    for table in (Classroom.__table__, SurveyWave.__table__, SurveyResponse.__table__):
        _bump_sequence(table)
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
    teacher_first = _next_id(User)
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
    _insert(User.__table__, iter(users))
    _bump_sequence(User.__table__)
    deliveries = []
    for row in classes:
        band = "1-4" if row["grade"] <= 4 else "5-9" if row["grade"] <= 9 else "10-11"
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
    return _insert(Delivery.__table__, iter(deliveries))


def generate(
    reports: int,
    schools: int | None = None,
    survey_share: float = 0.1,
    seed: int | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> Made:
    """Everything at once, committed; ``progress`` is called with the rows just written."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    now = now or utcnow()
    school_count = schools or min(7500, max(20, reports // 130))
    made_schools = make_schools(school_count, rng)
    db.session.flush()
    made = make_reports(reports, made_schools, rng, now, progress)
    made.schools = school_count
    surveyed = [s for s in made_schools if rng.random() < survey_share] or made_schools[:1]
    survey = make_survey(surveyed, rng, now, progress)
    for name in ("waves", "responses", "answers", "deliveries"):
        setattr(made, name, getattr(survey, name))
    db.session.commit()
    return made
