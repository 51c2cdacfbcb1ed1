"""The rules of lessons in classes: the library query, planning, logging a delivery, progress.

Progress and coverage are computed by the database (GROUP BY), one query for any number of
classes, so that a school's or a region's page costs the same as a class's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, case, distinct, func, select
from sqlalchemy.sql import Select

from core import audit
from curriculum.content import BANDS
from curriculum.models import Delivery, Lesson, LessonPlan, LessonText, Theme
from extensions import db
from school.models import Classroom, GradeBand, User


class DeliveryRefused(ValueError):
    """The lesson does not fit the class (another grade band, a retired lesson, unknown steps)."""


def band_of(grade: ColumnElement) -> ColumnElement[str]:
    """SQL for ``school.models.grade_band``: the curriculum band of a grade column."""
    *lower, last = GradeBand
    return case(*((grade <= band.last_grade, band.value) for band in lower), else_=last.value)


def band_rank(band: ColumnElement) -> ColumnElement[int]:
    return case({value: rank for rank, value in enumerate(BANDS)}, value=band, else_=99)


# --- the library ------------------------------------------------------------------------------


def library(
    locale: str, band: str | None = None, theme: Theme | None = None, query: str = ""
) -> Select:
    """Lessons in offer with their text in ``locale``, ordered by band and place in the band."""
    stmt = (
        select(Lesson, LessonText)
        .join(LessonText, and_(LessonText.lesson_id == Lesson.id, LessonText.locale == locale))
        .where(Lesson.retired.is_(False))
        .order_by(band_rank(Lesson.band), Lesson.position)
    )
    if band:
        stmt = stmt.where(Lesson.band == band)
    if theme:
        stmt = stmt.where(Lesson.theme == theme)
    if query:
        stmt = stmt.where(LessonText.search.contains(query.casefold(), autoescape=True))
    return stmt


def lesson_by_slug(slug: str) -> Lesson | None:
    return db.session.scalar(select(Lesson).where(Lesson.slug == slug, Lesson.retired.is_(False)))


# --- planning and delivery --------------------------------------------------------------------


def check_fits(classroom: Classroom, lesson: Lesson) -> None:
    if lesson.retired or lesson.band != classroom.grade_band:
        raise DeliveryRefused(lesson.slug)


def plan_lesson(classroom: Classroom, lesson: Lesson, planned_for: date, user: User) -> LessonPlan:
    """Plan (or move) a lesson for a class; one plan per lesson and class."""
    check_fits(classroom, lesson)
    plan = db.session.scalar(
        select(LessonPlan).where(
            LessonPlan.classroom_id == classroom.id, LessonPlan.lesson_id == lesson.id
        )
    )
    if plan is None:
        plan = LessonPlan(
            school_id=classroom.school_id,
            classroom_id=classroom.id,
            lesson_id=lesson.id,
            planned_for=planned_for,
            planned_by_id=user.id,
        )
        db.session.add(plan)
    else:
        plan.planned_for, plan.planned_by_id = planned_for, user.id
    db.session.flush()
    audit.record(
        "lesson.plan",
        plan,
        school_id=classroom.school_id,
        classroom_id=classroom.id,
        lesson=lesson.slug,
        planned_for=planned_for.isoformat(),
    )
    return plan


def unplan_lesson(plan: LessonPlan) -> None:
    audit.record(
        "lesson.unplan",
        plan,
        school_id=plan.school_id,
        classroom_id=plan.classroom_id,
        lesson_id=plan.lesson_id,
    )
    db.session.delete(plan)


def log_delivery(
    *,
    classroom: Classroom,
    lesson: Lesson,
    teacher: User,
    delivered_on: date,
    language: str,
    minutes_used: int,
    students_present: int,
    steps_done: list[int],
    reflection: str = "",
) -> Delivery:
    """Record a lesson given to a class. The caller has checked that the teacher teaches it."""
    check_fits(classroom, lesson)
    steps = sorted(set(steps_done))
    if any(not 0 <= step < lesson.step_count for step in steps):
        raise DeliveryRefused(lesson.slug)
    delivery = Delivery(
        school_id=classroom.school_id,
        classroom_id=classroom.id,
        lesson_id=lesson.id,
        teacher_id=teacher.id,
        delivered_on=delivered_on,
        language=language,
        minutes_used=minutes_used,
        students_present=students_present,
        steps_done=steps,
        steps_done_count=len(steps),
        steps_total=lesson.step_count,
        reflection=reflection.strip(),
    )
    db.session.add(delivery)
    # The lesson is given: its plan for the class is fulfilled and leaves the list of plans.
    plan = db.session.scalar(
        select(LessonPlan).where(
            LessonPlan.classroom_id == classroom.id, LessonPlan.lesson_id == lesson.id
        )
    )
    if plan is not None:
        db.session.delete(plan)
    db.session.flush()
    # Facts only: the reflection is the teacher's text and stays out of the log.
    audit.record(
        "lesson.deliver",
        delivery,
        school_id=classroom.school_id,
        classroom_id=classroom.id,
        lesson=lesson.slug,
        minutes_used=minutes_used,
        steps_done=len(steps),
        steps_total=lesson.step_count,
        plan_fulfilled=plan is not None,
    )
    return delivery


def delete_delivery(delivery: Delivery) -> None:
    audit.record(
        "lesson.delivery_delete",
        delivery,
        school_id=delivery.school_id,
        classroom_id=delivery.classroom_id,
        lesson_id=delivery.lesson_id,
    )
    db.session.delete(delivery)


# --- progress and coverage --------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """A class's progress through its band's lessons (or a sum of classes')."""

    lessons: int  # lessons in the band
    delivered: int  # distinct band lessons given at least once
    deliveries: int
    minutes_used: int
    minutes_designed: int
    steps_done: int
    steps_total: int

    @property
    def share(self) -> float:
        return self.delivered / self.lessons if self.lessons else 0.0

    @property
    def fidelity(self) -> float | None:
        return self.steps_done / self.steps_total if self.steps_total else None

    @property
    def minutes_share(self) -> float | None:
        return self.minutes_used / self.minutes_designed if self.minutes_designed else None


@dataclass(frozen=True)
class ClassProgress(Progress):
    classroom_id: int = 0
    grade: int = 0
    letter: str = ""
    last_on: date | None = None
    last_title: str | None = None

    @property
    def label(self) -> str:
        return f"{self.grade}{self.letter}"


def _progress_statement(where: ColumnElement[bool], locale: str | None) -> Select:
    band = band_of(Classroom.grade)
    totals = (
        select(Lesson.band.label("band"), func.count(Lesson.id).label("lessons"))
        .where(Lesson.retired.is_(False))
        .group_by(Lesson.band)
        .subquery()
    )
    # The last lesson by the (classroom, date) index first, then its title: one row each.
    last_lesson = (
        select(Delivery.lesson_id)
        .where(Delivery.classroom_id == Classroom.id)
        .order_by(Delivery.delivered_on.desc(), Delivery.id.desc())
        .limit(1)
        .correlate(Classroom)
        .scalar_subquery()
    )
    last_title = (
        select(LessonText.title)
        .where(LessonText.lesson_id == last_lesson, LessonText.locale == locale)
        .scalar_subquery()
    )
    in_band = and_(Lesson.band == band, Lesson.retired.is_(False))
    return (
        select(
            Classroom.id.label("classroom_id"),
            Classroom.grade.label("grade"),
            Classroom.letter.label("letter"),
            func.coalesce(totals.c.lessons, 0).label("lessons"),
            func.count(distinct(case((in_band, Delivery.lesson_id)))).label("delivered"),
            func.count(Delivery.id).label("deliveries"),
            func.coalesce(func.sum(Delivery.minutes_used), 0).label("minutes_used"),
            func.coalesce(func.sum(Lesson.duration), 0).label("minutes_designed"),
            func.coalesce(func.sum(Delivery.steps_done_count), 0).label("steps_done"),
            func.coalesce(func.sum(Delivery.steps_total), 0).label("steps_total"),
            func.max(Delivery.delivered_on).label("last_on"),
            *([last_title.label("last_title")] if locale else []),
        )
        .select_from(Classroom)
        .outerjoin(Delivery, Delivery.classroom_id == Classroom.id)
        .outerjoin(Lesson, Lesson.id == Delivery.lesson_id)
        .outerjoin(totals, totals.c.band == band)
        .where(where)
        .group_by(Classroom.id, Classroom.grade, Classroom.letter, totals.c.lessons)
    )


def progress_statement(where: ColumnElement[bool]) -> Select:
    """One row per class matching ``where``: lessons of its band, distinct band lessons given,
    lessons given, minutes used and designed, steps done and planned (for SQL on top of it)."""
    return _progress_statement(where, None)


def class_progress(where: ColumnElement[bool], locale: str) -> list[ClassProgress]:
    """Progress of every class matching ``where`` (e.g. one school, or the classes a user
    teaches), by grade and letter; the last lesson's title in ``locale``."""
    stmt = _progress_statement(where, locale).order_by(Classroom.grade, Classroom.letter)
    return [ClassProgress(**row._mapping) for row in db.session.execute(stmt)]


@dataclass(frozen=True)
class Coverage(Progress):
    classes: int = 0
    classes_started: int = 0  # classes with at least one lesson given


def coverage(where: ColumnElement[bool]) -> Coverage:
    """The sum over the classes matching ``where``, aggregated by the database as well."""
    per_class = _progress_statement(where, None).subquery()
    row = db.session.execute(
        select(
            func.count().label("classes"),
            func.coalesce(func.sum(case((per_class.c.deliveries > 0, 1), else_=0)), 0).label(
                "classes_started"
            ),
            *(
                func.coalesce(func.sum(per_class.c[name]), 0).label(name)
                for name in (
                    "lessons",
                    "delivered",
                    "deliveries",
                    "minutes_used",
                    "minutes_designed",
                    "steps_done",
                    "steps_total",
                )
            ),
        )
    ).one()
    return Coverage(**{key: int(value) for key, value in row._mapping.items()})


@dataclass(frozen=True)
class LessonStatus:
    lesson: Lesson
    title: str
    planned_for: date | None
    deliveries: int
    last_on: date | None


def class_lessons(classroom: Classroom, locale: str) -> list[LessonStatus]:
    """The lessons of the class's band with their plan date and how often they were given."""
    stmt = (
        select(
            Lesson,
            LessonText.title,
            LessonPlan.planned_for,
            func.count(Delivery.id),
            func.max(Delivery.delivered_on),
        )
        .join(LessonText, and_(LessonText.lesson_id == Lesson.id, LessonText.locale == locale))
        .outerjoin(
            LessonPlan,
            and_(LessonPlan.lesson_id == Lesson.id, LessonPlan.classroom_id == classroom.id),
        )
        .outerjoin(
            Delivery, and_(Delivery.lesson_id == Lesson.id, Delivery.classroom_id == classroom.id)
        )
        .where(Lesson.band == classroom.grade_band, Lesson.retired.is_(False))
        .group_by(Lesson.id, LessonText.title, LessonPlan.planned_for)
        .order_by(Lesson.position)
    )
    return [LessonStatus(*row) for row in db.session.execute(stmt)]


def class_deliveries(classroom: Classroom, locale: str, limit: int = 50) -> list:
    """The latest deliveries of a class, newest first, with the lesson title in ``locale``."""
    stmt = (
        select(Delivery, LessonText.title)
        .join(
            LessonText,
            and_(LessonText.lesson_id == Delivery.lesson_id, LessonText.locale == locale),
        )
        .where(Delivery.classroom_id == classroom.id)
        .order_by(Delivery.delivered_on.desc(), Delivery.id.desc())
        .limit(limit)
    )
    return list(db.session.execute(stmt))
