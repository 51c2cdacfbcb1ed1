"""Synthetic schools, reports (with forms, places, perpetrators, priorities and first-response
times), and the cases and referrals that follow them when the response tables exist.

One file though over 400 lines: the schools, their reports and the cases that follow share one
random stream and one plan of schools, and read in the order they are made.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Table, func, select

from core.model_types import utcnow
from extensions import db
from incidents.cases.deadlines import response_targets
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
from incidents.intake.priority import compute_priority
from insights.synthetic.base import (
    BATCH,
    Made,
    Progress,
    bump_sequence,
    insert_rows,
    next_id,
    weighted,
    write,
)
from school import services
from school.models import GradeBand, Region, School

# Schools of a country of 7,500 by region (ISO code): rough orders of magnitude of Kazakhstan's
# general-education schools (Almaty ~700, Astana ~300), not official counts. Every report count
# is generated in the same country, so that growth is measured with the schools fixed.
COUNTRY_SCHOOLS = 7500
REGION_SCHOOLS = {
    "KZ-10": 330, "KZ-11": 420, "KZ-15": 390, "KZ-19": 520, "KZ-23": 190,
    "KZ-27": 340, "KZ-31": 440, "KZ-33": 280, "KZ-35": 400, "KZ-39": 380,
    "KZ-43": 290, "KZ-47": 160, "KZ-55": 330, "KZ-59": 350, "KZ-61": 1000,
    "KZ-62": 70, "KZ-63": 330, "KZ-71": 300, "KZ-75": 700, "KZ-79": 280,
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


# --- schools -----------------------------------------------------------------------------------


def region_counts(count: int) -> dict[str, int]:
    """``count`` schools shared among the regions in the country's proportions (largest
    remainder, so that the counts add up exactly)."""
    total = sum(REGION_SCHOOLS.values())
    exact = {code: count * n / total for code, n in REGION_SCHOOLS.items()}
    counts = {code: int(x) for code, x in exact.items()}
    short = count - sum(counts.values())
    for code in sorted(exact, key=lambda c: counts[c] - exact[c])[:short]:
        counts[code] += 1
    return counts


def region_plan(count: int, regions: dict[str, int], rng: random.Random) -> list[int]:
    """The region id of each of ``count`` new schools, shuffled."""
    plan = [regions[code] for code, n in region_counts(count).items() for _ in range(n)]
    rng.shuffle(plan)
    return plan


def make_schools(count: int, rng: random.Random) -> list[tuple[int, int, float]]:
    """``count`` synthetic schools; returns (school id, region id, response speed factor)."""
    services.load_regions()
    regions = {r.iso_code: r.id for r in db.session.scalars(select(Region))}
    region_of = region_plan(count, regions, rng)
    first = next_id(School)
    existing = db.session.scalar(select(func.count(School.id)).where(School.code.like("zz%")))
    now = utcnow()
    rows = []
    for offset in range(count):
        number = existing + offset + 1
        rows.append(
            {
                "id": first + offset,
                "region_id": region_of[offset],
                "name": f"№ {number} мектеп (synthetic)",
                "code": f"zz{number:07d}",
                "languages": rng.choice(["kk", "kk,ru", "ru", "kk,ru"]),
                "address": "",
                "phone": "",
                "created_at": now,
            }
        )
    insert_rows(School.__table__, iter(rows))
    bump_sequence(School.__table__)
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
    median = response_targets()[Priority(priority)].total_seconds() / 3600 * 0.6 * speed
    return max(0.05, rng.lognormvariate(math.log(median), 0.9))


def report_rows(
    count: int,
    schools: list[tuple[int, int, float]],
    rng: random.Random,
    now: datetime,
    months: int = 24,
) -> Iterator[tuple[dict, list[dict]]]:
    """(report row, its form rows), ``count`` times."""
    first = next_id(Report)
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
    pick_form = weighted(rng, FORM_WEIGHTS)
    pick_place = weighted(rng, PLACE_WEIGHTS)
    pick_perp = weighted(rng, PERPETRATOR_WEIGHTS)
    frequencies = list(Frequency)
    victims = list(Victim)
    bands = [GradeBand.primary, GradeBand.middle, GradeBand.middle, GradeBand.senior]
    bands = [band.value for band in bands] + [None]
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
    """Reports in batches: each batch of reports, then its forms, then its cases and referrals."""
    made = Made()
    has_cases = _casework_tables()
    bodies = _bodies() if has_cases else {}
    region_of = {school_id: region_id for school_id, region_id, _speed in schools}
    reports: list[dict] = []
    forms: list[dict] = []

    def flush() -> None:
        write(Report.__table__, reports)
        write(ReportViolenceForm.__table__, forms)
        made.reports += len(reports)
        made.forms += len(forms)
        if has_cases:
            chosen = [row for row in reports if rng.random() < case_share]
            cases, referrals = _case_rows(chosen, rng, now)
            for referral in referrals:
                if referral["sent_at"] is not None:
                    region = region_of[referral["school_id"]]
                    referral["body_id"] = bodies[(region, referral["body_kind"])]
            made.cases += insert_rows(_cases_table(), iter(cases))
            made.referrals += insert_rows(_referrals_table(), iter(referrals))
        if progress:
            progress(len(reports))
        reports.clear()
        forms.clear()

    for row, report_forms in report_rows(count, schools, rng, now):
        reports.append(row)
        forms.extend(report_forms)
        if len(reports) >= BATCH:
            flush()
    if reports:
        flush()
    bump_sequence(Report.__table__)
    if has_cases:
        bump_sequence(_cases_table())
        bump_sequence(_referrals_table())
    return made


# --- cases and referrals (when the response tables exist) ---------------------------------------


def _casework_tables() -> bool:
    return "cases" in db.metadata.tables and "referrals" in db.metadata.tables


def _cases_table() -> Table:
    return db.metadata.tables["cases"]


def _referrals_table() -> Table:
    return db.metadata.tables["referrals"]


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
    from incidents.cases.enums import CaseState, Outcome, ReferralStatus

    next_case = (db.session.scalar(select(func.max(_cases_table().c.id))) or 0) + 1
    next_referral = (db.session.scalar(select(func.max(_referrals_table().c.id))) or 0) + 1
    outcomes = weighted(
        rng,
        {
            Outcome.resolved: 70,
            Outcome.unfounded: 14,
            Outcome.transferred: 10,
            Outcome.duplicate: 6,
        },
    )
    kinds = weighted(
        rng, {"police": 40, "guardianship": 25, "health": 15, "social": 12, "education": 8}
    )
    cases, referrals = [], []
    for report in reports:
        case_id = next_case
        next_case += 1
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
            referral_id = next_referral
            next_referral += 1
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
