"""The tables of the escalation chains: each school's ordered contacts and working
hours, and the steps taken for a report (``incidents.desk.escalation``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.model_types import UTCDateTime
from extensions import db
from school.models import User

# A contact is told again, or the next one is, after this many minutes without acknowledging.
DEFAULT_WINDOW_MINUTES = 15
MAX_WINDOW_MINUTES = 240
# Monday to Friday, 08:00 to 18:00 in the region's time zone, until the school sets its own.
DEFAULT_WEEKDAYS = "1,2,3,4,5"
DEFAULT_OPENS = 8 * 60
DEFAULT_CLOSES = 18 * 60


class SchoolContact(db.Model):
    """One person of a school's escalation chain (a psychologist, the deputy, the director), in
    order; ``night`` says they may be told outside working hours too."""

    __tablename__ = "school_contacts"
    __table_args__ = (
        UniqueConstraint("school_id", "position", name="uq_school_contacts_position"),
        UniqueConstraint("school_id", "user_id", name="uq_school_contacts_person"),
        CheckConstraint(f"window_minutes BETWEEN 1 AND {MAX_WINDOW_MINUTES}", name="window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    window_minutes: Mapped[int] = mapped_column(Integer, default=DEFAULT_WINDOW_MINUTES)
    night: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship()


class SchoolHours(db.Model):
    """A school's working hours in its region's time zone: ISO weekdays (1 = Monday) and the
    minutes of the day it opens and closes."""

    __tablename__ = "school_hours"
    __table_args__ = (
        CheckConstraint("opens_minute >= 0 AND opens_minute < closes_minute", name="span"),
        CheckConstraint("closes_minute <= 1440", name="day"),
    )

    school_id: Mapped[int] = mapped_column(
        ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True
    )
    weekdays: Mapped[str] = mapped_column(String(16), default=DEFAULT_WEEKDAYS)
    opens_minute: Mapped[int] = mapped_column(Integer, default=DEFAULT_OPENS)
    closes_minute: Mapped[int] = mapped_column(Integer, default=DEFAULT_CLOSES)

    @property
    def weekday_list(self) -> list[int]:
        return [int(day) for day in self.weekdays.split(",") if day]


class EscalationStep(db.Model):
    """One step of a report's chain: a contact told (``user_id``) or, last, the duty desk (no
    user). ``(report_id, step)`` is unique: of two runners taking the same step, one keeps it."""

    __tablename__ = "escalation_steps"
    __table_args__ = (UniqueConstraint("report_id", "step", name="uq_escalation_steps_step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    # None: the step handed the report to the duty desk.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    position: Mapped[int | None] = mapped_column(Integer)
    window_minutes: Mapped[int | None] = mapped_column(Integer)
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    @property
    def is_desk(self) -> bool:
        return self.user_id is None and self.position is None


class EscalationCutoff(db.Model):
    """The first deploy's cut-off (one row, written by migration 0021): the chain takes up only
    the reports received at or after ``since``, so switching escalation on does not hand the desk
    every old report nobody answered. No row (an installation made without migrations, which has
    no old reports): no cut-off."""

    __tablename__ = "escalation_cutoff"
    __table_args__ = (CheckConstraint("id = 1", name="single"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
