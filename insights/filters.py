"""What a dashboard looks at: the period, the place (country, region, school) and a form of
violence, checked against what the user may see."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from flask import abort
from sqlalchemy import select

from core.clock import local_zone
from core.model_types import utcnow
from extensions import db
from incidents.intake.models import ViolenceForm
from school.access import region_scope, school_scope
from school.models import Reach, Region, School, User

DEFAULT_MONTHS = 12
MAX_MONTHS = 60
# The dates a period may name: the calendar's own ends (0001-01-01, 9999-12-31) cannot be turned
# into instants of the local day, and nothing the programme counts lies outside these.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)


class Level:
    """Where the dashboard stands, and what its breakdown table lists."""

    country = "country"  # by region
    region = "region"  # by school
    school = "school"  # no breakdown


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    region_id: int | None = None
    school_id: int | None = None
    form: ViolenceForm | None = None

    def utc_range(self) -> tuple[datetime, datetime]:
        """The period as UTC instants: from local midnight of ``start`` to after ``end``."""
        zone = local_zone()
        begin = datetime.combine(self.start, time(), zone).astimezone(UTC)
        finish = datetime.combine(self.end + timedelta(days=1), time(), zone).astimezone(UTC)
        return begin, finish

    def months(self) -> list[str]:
        """Every 'YYYY-MM' of the period, so that empty months show as 0."""
        keys, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            keys.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return keys

    @property
    def level(self) -> str:
        if self.school_id is not None:
            return Level.school
        if self.region_id is not None:
            return Level.region
        return Level.country

    def query_args(self) -> dict[str, str]:
        args = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.region_id is not None:
            args["region"] = str(self.region_id)
        if self.school_id is not None:
            args["school"] = str(self.school_id)
        if self.form is not None:
            args["form"] = self.form.value
        return args


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last twelve whole months and this one so far."""
    today = today or utcnow().astimezone(local_zone()).date()
    year, month = today.year - 1, today.month + 1
    if month == 13:
        year, month = year + 1, 1
    return date(year, month, 1), today


def _parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _parse_id(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and len(text) <= 9 else None


def from_args(args, user: User) -> tuple[Filters, list[str]]:
    """Filters from the query string, fitted to the user's scope; returns the problems found.

    A region or school outside the user's scope is a 404 (as if it did not exist).
    """
    problems: list[str] = []
    default_start, default_end = default_period()
    start = _parse_date(args.get("start"))
    end = _parse_date(args.get("end"))
    if args.get("start") and start is None or args.get("end") and end is None:
        problems.append("date")
    if any(day is not None and not FIRST_DAY <= day <= LAST_DAY for day in (start, end)):
        problems.append("range")
        start = end = None
    start, end = start or default_start, end or default_end
    if end < start:
        problems.append("order")
        start, end = default_start, default_end
    if (end - start).days > MAX_MONTHS * 31:
        problems.append("long")
        start = end - timedelta(days=MAX_MONTHS * 31)
    form = None
    if args.get("form"):
        try:
            form = ViolenceForm(args["form"])
        except ValueError:
            problems.append("form")
    filters = Filters(start, end, form=form)
    if user.role.is_school_role:
        # A school sees itself, whatever the address says.
        return replace(filters, school_id=user.school_id), problems
    region_id = _parse_id(args.get("region"))
    school_id = _parse_id(args.get("school"))
    if user.role.reach is Reach.region and user.region_id is not None:
        if region_id not in (None, user.region_id):
            abort(404)
        region_id = user.region_id
    if region_id is not None and (
        db.session.scalar(
            select(Region.id).where(Region.id == region_id, region_scope(user, Region.id))
        )
        is None
    ):
        abort(404)
    if school_id is not None:
        school_region = db.session.scalar(
            select(School.region_id).where(School.id == school_id, school_scope(user, School.id))
        )
        if school_region is None or (region_id is not None and school_region != region_id):
            abort(404)
        region_id = school_region
    return replace(filters, region_id=region_id, school_id=school_id), problems
