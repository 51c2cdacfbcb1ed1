"""Does it work: victimization and "would tell an adult" before and after the lessons, by how
many lessons the classes had (Newcombe's interval for the change)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, and_, case, cast, distinct, func, or_, select

from curriculum.models import Delivery, Lesson
from curriculum.services import band_of
from extensions import db
from insights.dashboard import format_percent
from insights.filters import Filters
from insights.models import SurveyTally, SurveyWave, WaveKind
from insights.results import wave_conditions
from insights.sql import dialect
from insights.stats import (
    MIN_SURVEY_ANSWERS,
    Change,
    Public,
    Share,
    newcombe,
    wilson,
)
from school.access import school_scope
from school.models import Classroom, User

BEFORE_AFTER_ITEMS = ("victim", "would_tell")


ITEM_TITLES = {
    "victim": _l("Was bullied or hurt (2-3 times a month or more)"),
    "would_tell": _l("Would tell an adult at school"),
}


LESSON_GROUPS = {
    "most": _l("Half or more of their lessons between the surveys"),
    "few": _l("Fewer lessons between the surveys"),
}


@dataclass(frozen=True)
class BeforeAfter:
    """One group of classes (``lessons``: "most" or "few") and one survey item."""

    lessons: str
    item: str
    classes: int
    before: Share | None
    after: Share | None
    change: Change | None

    @property
    def group_title(self) -> str:
        return str(LESSON_GROUPS[self.lessons])

    @property
    def item_title(self) -> str:
        return str(ITEM_TITLES[self.item])


def verdict(row: BeforeAfter, classes: str) -> str:
    """One sentence: what changed, and whether the change is beyond chance."""
    change = row.change
    values = {
        "classes": classes,
        "before": format_percent(change.before.value, "#,##0.0%"),
        "after": format_percent(change.after.value, "#,##0.0%"),
    }
    few = row.lessons == "few"
    if row.item == "victim":
        if change.is_clear and change.value < 0:
            if few:
                return _(
                    "In the classes with fewer lessons between the two surveys (classes:"
                    " %(classes)s), the share of students who said they were bullied fell from"
                    " %(before)s to %(after)s; the fall is larger than chance alone would give.",
                    **values,
                )
            return _(
                "In the classes with half or more of their lessons between the two surveys"
                " (classes: %(classes)s), the share of students who said they were bullied fell"
                " from %(before)s to %(after)s; the fall is larger than chance alone would give.",
                **values,
            )
        if change.is_clear:
            if few:
                return _(
                    "In the classes with fewer lessons between the two surveys (classes:"
                    " %(classes)s), the share of students who said they were bullied rose from"
                    " %(before)s to %(after)s; the rise is larger than chance alone would give.",
                    **values,
                )
            return _(
                "In the classes with half or more of their lessons between the two surveys"
                " (classes: %(classes)s), the share of students who said they were bullied rose"
                " from %(before)s to %(after)s; the rise is larger than chance alone would give.",
                **values,
            )
        if few:
            return _(
                "In the classes with fewer lessons between the two surveys (classes:"
                " %(classes)s), the share of students who said they were bullied went from"
                " %(before)s to %(after)s; this change is within what chance alone could give.",
                **values,
            )
        return _(
            "In the classes with half or more of their lessons between the two surveys (classes:"
            " %(classes)s), the share of students who said they were bullied went from"
            " %(before)s to %(after)s; this change is within what chance alone could give.",
            **values,
        )
    if change.is_clear:
        if few:
            return _(
                "In the classes with fewer lessons between the two surveys (classes:"
                " %(classes)s), the share of students who would tell an adult at school went"
                " from %(before)s to %(after)s; the change is larger than chance alone would"
                " give.",
                **values,
            )
        return _(
            "In the classes with half or more of their lessons between the two surveys (classes:"
            " %(classes)s), the share of students who would tell an adult at school went from"
            " %(before)s to %(after)s; the change is larger than chance alone would give.",
            **values,
        )
    if few:
        return _(
            "In the classes with fewer lessons between the two surveys (classes: %(classes)s),"
            " the share of students who would tell an adult at school went from %(before)s to"
            " %(after)s; this change is within what chance alone could give.",
            **values,
        )
    return _(
        "In the classes with half or more of their lessons between the two surveys (classes:"
        " %(classes)s), the share of students who would tell an adult at school went from"
        " %(before)s to %(after)s; this change is within what chance alone could give.",
        **values,
    )


def _day_of(column):
    """The UTC calendar day of a timestamp column, comparable with a DATE column."""
    if dialect() == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def before_after(user: User, filters: Filters) -> list[BeforeAfter]:
    """Baseline against follow-up, for the classes with lessons between the two and without."""
    waves = wave_conditions(
        user,
        school_id=filters.school_id,
        region_id=filters.region_id,
        start=filters.start,
        end=filters.end,
    )
    latest = func.row_number().over(
        partition_by=SurveyWave.classroom_id,
        order_by=(SurveyWave.opened_at.desc(), SurveyWave.id.desc()),
    )
    follow = (
        select(
            SurveyWave.id.label("wave_id"),
            SurveyWave.classroom_id.label("classroom_id"),
            SurveyWave.opened_at.label("opened_at"),
            latest.label("rn"),
        )
        .where(*waves, SurveyWave.kind == WaveKind.follow_up, SurveyWave.answered > 0)
        .subquery()
    )
    base = (
        select(
            SurveyWave.id.label("wave_id"),
            SurveyWave.classroom_id.label("classroom_id"),
            SurveyWave.opened_at.label("opened_at"),
            latest.label("rn"),
        )
        .join(
            follow,
            and_(
                follow.c.classroom_id == SurveyWave.classroom_id,
                follow.c.rn == 1,
                SurveyWave.opened_at < follow.c.opened_at,
            ),
        )
        .where(
            school_scope(user, SurveyWave.school_id),
            SurveyWave.kind == WaveKind.baseline,
            SurveyWave.answered > 0,
        )
        .subquery()
    )
    band_lessons = (
        select(func.count(Lesson.id))
        .where(Lesson.band == band_of(Classroom.grade), Lesson.retired.is_(False))
        .correlate(Classroom)
        .scalar_subquery()
    )
    between = (
        select(func.count(distinct(Delivery.lesson_id)))
        .where(
            Delivery.classroom_id == base.c.classroom_id,
            Delivery.delivered_on >= _day_of(base.c.opened_at),
            Delivery.delivered_on < _day_of(follow.c.opened_at),
        )
        .correlate(base, follow)
        .scalar_subquery()
    )
    most = case((and_(band_lessons > 0, between * 2 >= band_lessons), "most"), else_="few")
    pairs = (
        select(
            base.c.classroom_id,
            base.c.wave_id.label("before_id"),
            follow.c.wave_id.label("after_id"),
            most.label("lessons"),
        )
        .join(follow, and_(follow.c.classroom_id == base.c.classroom_id, follow.c.rn == 1))
        .join(Classroom, Classroom.id == base.c.classroom_id)
        .where(base.c.rn == 1)
        .subquery()
    )
    classes = {
        row.lessons: Public(row.n)  # classes, not children
        for row in db.session.execute(
            select(pairs.c.lessons, func.count().label("n")).group_by(pairs.c.lessons)
        )
    }
    if not classes:
        return []
    side = case((SurveyTally.wave_id == pairs.c.before_id, "before"), else_="after")
    counts = {
        (row.lessons, row.side, row.item): (int(row.n), int(row.k))
        for row in db.session.execute(
            select(
                pairs.c.lessons,
                side.label("side"),
                SurveyTally.item,
                func.sum(SurveyTally.answers).label("n"),
                func.sum(SurveyTally.positive).label("k"),
            )
            .join(
                SurveyTally,
                or_(
                    SurveyTally.wave_id == pairs.c.before_id,
                    SurveyTally.wave_id == pairs.c.after_id,
                ),
            )
            .where(SurveyTally.item.in_(BEFORE_AFTER_ITEMS))
            .group_by(pairs.c.lessons, side, SurveyTally.item)
        )
    }
    rows = []
    for group in ("most", "few"):
        if group not in classes:
            continue
        for item in BEFORE_AFTER_ITEMS:
            shares = {}
            for name in ("before", "after"):
                n, k = counts.get((group, name, item), (0, 0))
                shares[name] = wilson(k, n) if n >= MIN_SURVEY_ANSWERS else None
            before, after = shares["before"], shares["after"]
            change = newcombe(before, after) if before and after else None
            rows.append(BeforeAfter(group, item, classes[group], before, after, change))
    return rows
