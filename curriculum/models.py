"""Lessons, their delivery in classes, the staff course and its certificates, public pages.

The texts come from the content files (see ``curriculum.content``) and are stored by the loader;
deliveries, quiz attempts and certificates point at stable rows that a content update never
deletes (a lesson whose file is removed is only marked retired).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.model_types import TitledEnum, UTCDateTime, str_enum, utcnow
from extensions import db
from school.models import Classroom, GradeBand, User


class Theme(TitledEnum):
    feelings = "feelings"
    empathy = "empathy"
    communication = "communication"
    conflict = "conflict"
    assertiveness = "assertiveness"
    forms_of_violence = "forms_of_violence"
    bystanders = "bystanders"
    help_seeking = "help_seeking"
    online_safety = "online_safety"
    coping = "coping"
    diversity = "diversity"


THEME_TITLES = {
    Theme.feelings: _l("Naming feelings"),
    Theme.empathy: _l("Empathy"),
    Theme.communication: _l("Respectful communication"),
    Theme.conflict: _l("Solving conflicts without violence"),
    Theme.assertiveness: _l("Saying no and standing up for yourself"),
    Theme.forms_of_violence: _l("What violence is"),
    Theme.bystanders: _l("Bystanders who help"),
    Theme.help_seeking: _l("Whom to tell and how"),
    Theme.online_safety: _l("Online safety"),
    Theme.coping: _l("Calming down and coping with stress"),
    Theme.diversity: _l("Respect for difference"),
}
Theme.TITLES = THEME_TITLES

BAND_TITLES = {
    GradeBand.primary: _l("Grades 1–4"),
    GradeBand.middle: _l("Grades 5–9"),
    GradeBand.senior: _l("Grades 10–11"),
}


class Lesson(db.Model):
    __tablename__ = "lessons"
    __table_args__ = (
        CheckConstraint(GradeBand.sql_check("band"), name="band"),
        CheckConstraint("duration BETWEEN 40 AND 45", name="duration"),
        Index("ix_lessons_band_position", "band", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    band: Mapped[str] = mapped_column(String(8))
    theme: Mapped[Theme] = mapped_column(str_enum(Theme, "lesson_theme"))
    position: Mapped[int]  # the lesson's place in its band
    duration: Mapped[int]  # designed minutes
    step_count: Mapped[int]
    # Sha-256 of the file's data: the loader rewrites a lesson only when its file changed.
    digest: Mapped[str] = mapped_column(String(64))
    # The file was removed: kept for the deliveries that point at it, no longer offered.
    retired: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    texts: Mapped[list[LessonText]] = relationship(
        back_populates="lesson", cascade="all, delete-orphan"
    )

    @property
    def band_title(self) -> str:
        return str(BAND_TITLES[self.band])

    def text(self, locale: str) -> LessonText:
        return next(t for t in self.texts if t.locale == locale)


class LessonText(db.Model):
    """One language of a lesson; the list columns are kept apart for filtering and search."""

    __tablename__ = "lesson_texts"
    __table_args__ = (
        UniqueConstraint("lesson_id", "locale", name="uq_lesson_texts_lesson_locale"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(2))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    # Title and summary case-folded in Python: SQLite's lower() knows only ASCII letters.
    search: Mapped[str] = mapped_column(Text, default="")
    # objectives, materials, questions, disclosure_note, handout_title, handout, steps
    body: Mapped[dict[str, Any]] = mapped_column(JSON)

    lesson: Mapped[Lesson] = relationship(back_populates="texts")


class LessonPlan(db.Model):
    """A lesson a teacher means to give a class on a date."""

    __tablename__ = "lesson_plans"
    __table_args__ = (
        UniqueConstraint("classroom_id", "lesson_id", name="uq_lesson_plans_classroom_lesson"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    classroom_id: Mapped[int] = mapped_column(ForeignKey("classrooms.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"))
    planned_for: Mapped[date] = mapped_column(Date)
    planned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    classroom: Mapped[Classroom] = relationship()
    lesson: Mapped[Lesson] = relationship()
    planned_by: Mapped[User] = relationship()


class Delivery(db.Model):
    """A lesson given to a class, as the teacher logged it: the record of fidelity."""

    __tablename__ = "lesson_deliveries"
    __table_args__ = (
        CheckConstraint("minutes_used BETWEEN 1 AND 240", name="minutes_used"),
        CheckConstraint("students_present BETWEEN 0 AND 60", name="students_present"),
        CheckConstraint("steps_done_count BETWEEN 0 AND steps_total", name="steps_done"),
        Index("ix_lesson_deliveries_classroom_date", "classroom_id", "delivered_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    classroom_id: Mapped[int] = mapped_column(ForeignKey("classrooms.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"), index=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    delivered_on: Mapped[date] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(2))
    minutes_used: Mapped[int]
    students_present: Mapped[int]
    # Which steps were done (indexes into the lesson's steps), and the counts for statistics.
    steps_done: Mapped[list[int]] = mapped_column(JSON)
    steps_done_count: Mapped[int]
    steps_total: Mapped[int]
    reflection: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    classroom: Mapped[Classroom] = relationship()
    lesson: Mapped[Lesson] = relationship()
    teacher: Mapped[User] = relationship()


# --- the staff course -------------------------------------------------------------------------


class CourseModule(db.Model):
    __tablename__ = "course_modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int]
    minutes: Mapped[int]
    # The index of the right option of each question (the same in every language).
    answers: Mapped[list[int]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    retired: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    texts: Mapped[list[ModuleText]] = relationship(
        back_populates="module", cascade="all, delete-orphan"
    )

    def text(self, locale: str) -> ModuleText:
        return next(t for t in self.texts if t.locale == locale)


class ModuleText(db.Model):
    __tablename__ = "course_module_texts"
    __table_args__ = (
        UniqueConstraint("module_id", "locale", name="uq_course_module_texts_module_locale"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("course_modules.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(2))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    reading: Mapped[str] = mapped_column(Text)
    # [{text, options[], explain}]
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)

    module: Mapped[CourseModule] = relationship(back_populates="texts")


class QuizAttempt(db.Model):
    __tablename__ = "quiz_attempts"
    __table_args__ = (
        CheckConstraint("correct BETWEEN 0 AND total", name="correct"),
        Index("ix_quiz_attempts_user_module", "user_id", "module_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("course_modules.id"))
    # The option chosen for each question, by the question's and option's place in the file.
    answers: Mapped[dict[str, int]] = mapped_column(JSON)
    correct: Mapped[int]
    total: Mapped[int]
    score: Mapped[int]  # percent, rounded down
    passed: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
    module: Mapped[CourseModule] = relationship()


class Certificate(db.Model):
    """Proof that a person completed the staff course; checked by anyone with its code."""

    __tablename__ = "course_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    # The name as it was when the course was completed: the PDF and the check page agree.
    full_name: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[date] = mapped_column(Date)
    # 20 random characters (100 bits), shown in groups of four; see ``course.new_code``.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None


# --- leaflets for parents and public awareness pages ------------------------------------------


class PageKind(enum.StrEnum):
    leaflet = "leaflet"
    awareness = "awareness"


class Audience(TitledEnum):
    parents = "parents"
    children = "children"
    public = "public"


AUDIENCE_TITLES = {
    Audience.parents: _l("For parents"),
    Audience.children: _l("For children and teenagers"),
    Audience.public: _l("For everyone"),
}
Audience.TITLES = AUDIENCE_TITLES


class InfoPage(db.Model):
    __tablename__ = "info_pages"
    __table_args__ = (UniqueConstraint("kind", "slug", name="uq_info_pages_kind_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[PageKind] = mapped_column(str_enum(PageKind, "info_page_kind"))
    slug: Mapped[str] = mapped_column(String(80))
    position: Mapped[int]
    audience: Mapped[Audience] = mapped_column(str_enum(Audience, "info_page_audience"))
    digest: Mapped[str] = mapped_column(String(64))
    retired: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    texts: Mapped[list[InfoPageText]] = relationship(
        back_populates="page", cascade="all, delete-orphan"
    )

    def text(self, locale: str) -> InfoPageText:
        return next(t for t in self.texts if t.locale == locale)


class InfoPageText(db.Model):
    __tablename__ = "info_page_texts"
    __table_args__ = (UniqueConstraint("page_id", "locale", name="uq_info_page_texts_page_locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("info_pages.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(2))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)

    page: Mapped[InfoPage] = relationship(back_populates="texts")
