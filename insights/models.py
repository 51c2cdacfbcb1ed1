"""Class climate surveys: waves, single-use codes, anonymous responses and their answers.

Anonymity is built into the tables: a code row is deleted when it is spent, and a response
carries only its wave, so no row links a code (or the child who held it) to answers.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.model_types import TitledEnum, UTCDateTime, str_enum, utcnow
from extensions import db
from incidents.cases.models import Case, Referral
from incidents.intake.models import Report
from school.models import Classroom, School, User


class WaveKind(TitledEnum):
    baseline = "baseline"
    follow_up = "follow_up"

    @property
    def short_title(self) -> str:
        return str(WAVE_KIND_SHORT_TITLES[self])


WAVE_KIND_TITLES = {
    WaveKind.baseline: _l("Baseline (before the program)"),
    WaveKind.follow_up: _l("Follow-up (after the program)"),
}
WaveKind.TITLES = WAVE_KIND_TITLES
WAVE_KIND_SHORT_TITLES = {
    WaveKind.baseline: _l("Baseline"),
    WaveKind.follow_up: _l("Follow-up"),
}


class SurveyVersion(TitledEnum):
    """The questionnaire: the full one for grades 5-11, a shorter one in child words for 3-4."""

    full = "full"
    junior = "junior"

    @classmethod
    def for_grade(cls, grade: int) -> SurveyVersion:
        return cls.junior if grade <= 4 else cls.full


VERSION_TITLES = {
    SurveyVersion.full: _l("Grades 5-11"),
    SurveyVersion.junior: _l("Grades 3-4 (simpler questions)"),
}
SurveyVersion.TITLES = VERSION_TITLES
MIN_SURVEY_GRADE = 3


class SurveyWave(db.Model):
    """One class answering the survey once: a baseline before the program or a follow-up after."""

    __tablename__ = "survey_waves"
    __table_args__ = (
        CheckConstraint("codes_issued BETWEEN 1 AND 60", name="codes_issued_range"),
        CheckConstraint("grade BETWEEN 3 AND 11", name="grade_range"),
        Index("ix_survey_waves_school_kind", "school_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    classroom_id: Mapped[int] = mapped_column(ForeignKey("classrooms.id"), index=True)
    kind: Mapped[WaveKind] = mapped_column(str_enum(WaveKind, "wave_kind"))
    version: Mapped[SurveyVersion] = mapped_column(str_enum(SurveyVersion, "survey_version"))
    # The class's grade when the wave ran (a class moves up a grade every year).
    grade: Mapped[int]
    codes_issued: Mapped[int]
    # Codes are derived from this secret and the app key, so the slips can be printed again
    # while only keyed hashes of the codes are stored.
    code_seed: Mapped[str] = mapped_column(String(32))
    # How many derivation indexes were used (a rare collision with another wave skips one).
    code_span: Mapped[int]
    # Students who have answered (kept with the answers, in the same transaction).
    answered: Mapped[int] = mapped_column(default=0)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    school: Mapped[School] = relationship()
    classroom: Mapped[Classroom] = relationship()
    opened_by: Mapped[User | None] = relationship()

    def is_open(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.closed_at is None and now < self.closes_at


class SurveyCode(db.Model):
    """An unspent code: only its keyed hash. Spending a code deletes the row."""

    __tablename__ = "survey_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(
        ForeignKey("survey_waves.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)


class SurveyResponse(db.Model):
    """One student's answers: the wave and nothing else (no time, no code, no device)."""

    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(
        ForeignKey("survey_waves.id", ondelete="CASCADE"), index=True
    )

    answers: Mapped[list[SurveyAnswer]] = relationship(cascade="all, delete-orphan")


class SurveyTally(db.Model):
    """Running totals of a wave's answers per item: how many answered it, and how many of them
    count towards its share. Results read these (a few rows per wave) instead of every answer;
    ``flask insights recount-surveys`` rebuilds them from the answers."""

    __tablename__ = "survey_tallies"

    wave_id: Mapped[int] = mapped_column(
        ForeignKey("survey_waves.id", ondelete="CASCADE"), primary_key=True
    )
    item: Mapped[str] = mapped_column(String(32), primary_key=True)
    answers: Mapped[int] = mapped_column(default=0)
    positive: Mapped[int] = mapped_column(default=0)


class SurveyAnswer(db.Model):
    """One answered question: the item key from the questionnaire and the chosen option."""

    __tablename__ = "survey_answers"

    response_id: Mapped[int] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), primary_key=True
    )
    item: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(SmallInteger)


# Indexes the national dashboard needs on the reports table (found with bench/dashboards.py):
# its queries read one period of every school's reports, which the reports table's own index
# (school first) cannot serve. On PostgreSQL the index carries the columns the figures group by,
# so the scan never visits the table itself (an index-only scan).
Index(
    "ix_reports_created_at",
    Report.created_at,
    postgresql_include=["id", "school_id", "priority", "place", "perpetrator", "first_response_at"],
)
# Cases and referrals of a period across the country (the national page's slowest queries after
# the reports were rolled up): by creation time, with the columns the figures read.
Index(
    "ix_cases_created_at",
    Case.created_at,
    postgresql_include=["school_id", "state", "outcome", "report_id"],
)
Index(
    "ix_referrals_created_at",
    Referral.created_at,
    postgresql_include=["school_id", "body_kind", "sent_at", "deadline_at", "case_id"],
)
