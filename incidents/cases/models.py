"""What the school does with a report: the case, its steps, the people, the actions (the
referrals' tables in ``referral_models``, the duties' in ``duty_models``, both importable here).

The state machine itself lives in ``incidents.cases.state_machine``; the referral rules and letters in
``incidents.referrals.services``. The narrative (``Case.narrative``, action notes) is for counselors only.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from core.crypto import EncryptedText
from core.model_types import UTCDateTime, str_enum, utcnow
from extensions import db
from incidents.cases.enums import (
    ActionKind,
    CaseState,
    ClosureDecision,
    Outcome,
    PersonKind,
    PersonRole,
    RiskLevel,
    Screening,
)
from incidents.intake.models import Perpetrator, Place, Priority, Report, ViolenceForm, WhenHappened
from school.models import Classroom, School, User


def new_case_label() -> str:
    """A pseudonymous label for a case opened from a teacher's report (no student report)."""
    alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
    return "T-" + "".join(secrets.choice(alphabet) for _ in range(6))


# --- the teacher's named report ---------------------------------------------------------------


class TeacherReport(db.Model):
    """What a teacher saw or heard, filed under their name (mandatory reporting)."""

    __tablename__ = "teacher_reports"
    __table_args__ = (Index("ix_teacher_reports_school_created", "school_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    is_danger_now: Mapped[bool] = mapped_column(default=False)
    perpetrator: Mapped[Perpetrator] = mapped_column(str_enum(Perpetrator, "perpetrator"))
    place: Mapped[Place] = mapped_column(str_enum(Place, "place"))
    happened: Mapped[WhenHappened] = mapped_column(str_enum(WhenHappened, "happened"))
    classroom_id: Mapped[int | None] = mapped_column(ForeignKey("classrooms.id"))
    # What was seen or heard, the child's own words, what the teacher did: for counselors only.
    description: Mapped[str] = mapped_column(EncryptedText("teacher_reports.description"))
    priority: Mapped[Priority] = mapped_column(str_enum(Priority, "priority"))
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    school: Mapped[School] = relationship()
    author: Mapped[User] = relationship()
    classroom: Mapped[Classroom | None] = relationship()
    forms: Mapped[list[TeacherReportForm]] = relationship(
        back_populates="teacher_report", cascade="all, delete-orphan"
    )

    @property
    def violence_forms(self) -> list[ViolenceForm]:
        return [row.form for row in self.forms]


class TeacherReportForm(db.Model):
    __tablename__ = "teacher_report_forms"

    teacher_report_id: Mapped[int] = mapped_column(
        ForeignKey("teacher_reports.id", ondelete="CASCADE"), primary_key=True
    )
    form: Mapped[ViolenceForm] = mapped_column(
        str_enum(ViolenceForm, "violence_form"), primary_key=True
    )

    teacher_report: Mapped[TeacherReport] = relationship(back_populates="forms")


class PriorityChange(db.Model):
    """A counselor raised or lowered the computed priority, and said why."""

    __tablename__ = "priority_changes"
    __table_args__ = (
        CheckConstraint("(report_id IS NULL) <> (teacher_report_id IS NULL)", name="one_source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    teacher_report_id: Mapped[int | None] = mapped_column(
        ForeignKey("teacher_reports.id", ondelete="CASCADE"), index=True
    )
    from_priority: Mapped[Priority] = mapped_column(str_enum(Priority, "from_priority"))
    to_priority: Mapped[Priority] = mapped_column(str_enum(Priority, "to_priority"))
    reason: Mapped[str] = mapped_column(EncryptedText("priority_changes.reason"))
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    by: Mapped[User] = relationship()


# --- the case ---------------------------------------------------------------------------------


class Case(db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint("(report_id IS NULL) <> (teacher_report_id IS NULL)", name="one_source"),
        # The database itself refuses a closed case without an outcome.
        CheckConstraint("state <> 'closed' OR outcome IS NOT NULL", name="closed_has_outcome"),
        Index("ix_cases_school_state", "school_id", "state"),
        # The open cases per school (the caseload of the programme evidence page):
        # read from the index alone, not from a scan of every case ever opened.
        Index(
            "ix_cases_open_school",
            "school_id",
            "id",
            postgresql_where=text("state <> 'closed'"),
            sqlite_where=text("state <> 'closed'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"), unique=True)
    teacher_report_id: Mapped[int | None] = mapped_column(
        ForeignKey("teacher_reports.id"), unique=True
    )
    label: Mapped[str] = mapped_column(String(16), unique=True)
    state: Mapped[CaseState] = mapped_column(
        str_enum(CaseState, "case_state"), default=CaseState.new
    )
    counselor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    screening: Mapped[Screening | None] = mapped_column(str_enum(Screening, "screening"))
    risk: Mapped[RiskLevel | None] = mapped_column(str_enum(RiskLevel, "risk_level"))
    # A physical injury was seen or reported: a fact the referral rules look at.
    injury: Mapped[bool] = mapped_column(default=False)
    narrative: Mapped[str] = mapped_column(EncryptedText("cases.narrative"), default="")
    outcome: Mapped[Outcome | None] = mapped_column(str_enum(Outcome, "case_outcome"))
    closing_note: Mapped[str] = mapped_column(EncryptedText("cases.closing_note"), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the retention rule emptied its texts (``incidents.cases.retention``); statistics stay.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optimistic locking: every UPDATE checks and bumps it, so a stale save fails.
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    school: Mapped[School] = relationship()
    report: Mapped[Report | None] = relationship(backref=backref("case", uselist=False))
    teacher_report: Mapped[TeacherReport | None] = relationship(
        backref=backref("case", uselist=False)
    )
    counselor: Mapped[User | None] = relationship()
    transitions: Mapped[list[CaseTransition]] = relationship(
        back_populates="case", order_by="CaseTransition.id", cascade="all, delete-orphan"
    )
    people: Mapped[list[InvolvedPerson]] = relationship(
        back_populates="case", order_by="InvolvedPerson.id", cascade="all, delete-orphan"
    )
    duties: Mapped[list[CaseDuty]] = relationship(
        back_populates="case",
        order_by="(CaseDuty.due_at, CaseDuty.id)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    actions: Mapped[list[Action]] = relationship(
        back_populates="case",
        order_by="(Action.done_at.is_not(None), Action.due_on, Action.id)",
        cascade="all, delete-orphan",
    )
    referrals: Mapped[list[Referral]] = relationship(
        back_populates="case", order_by="Referral.id", cascade="all, delete-orphan"
    )
    closure_requests: Mapped[list[ClosureRequest]] = relationship(
        back_populates="case", order_by="ClosureRequest.id", cascade="all, delete-orphan"
    )

    @property
    def source(self) -> Report | TeacherReport:
        return self.report if self.report is not None else self.teacher_report

    @property
    def priority(self) -> Priority:
        return self.source.priority

    @property
    def violence_forms(self) -> list[ViolenceForm]:
        return self.source.violence_forms

    @property
    def perpetrator(self) -> Perpetrator:
        return self.source.perpetrator

    @property
    def pending_closure(self) -> ClosureRequest | None:
        return next(
            (r for r in self.closure_requests if r.decision == ClosureDecision.pending), None
        )


class CaseTransition(db.Model):
    """One step of the state machine: who moved the case, from where to where, when."""

    __tablename__ = "case_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[CaseState | None] = mapped_column(str_enum(CaseState, "from_state"))
    to_state: Mapped[CaseState] = mapped_column(str_enum(CaseState, "to_state"))
    outcome: Mapped[Outcome | None] = mapped_column(str_enum(Outcome, "case_outcome"))
    # The reason for a reopening; short and factual.
    note: Mapped[str] = mapped_column(EncryptedText("case_transitions.note"), default="")
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The school administrator who approved the closure of a high or critical case.
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="transitions")
    by: Mapped[User | None] = relationship(foreign_keys=[by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])


class InvolvedPerson(db.Model):
    """Someone the case is about, with the minimum needed: a role, a class, a short alias."""

    __tablename__ = "case_people"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    role: Mapped[PersonRole] = mapped_column(str_enum(PersonRole, "person_role"))
    kind: Mapped[PersonKind] = mapped_column(str_enum(PersonKind, "person_kind"))
    classroom_id: Mapped[int | None] = mapped_column(ForeignKey("classrooms.id"))
    alias: Mapped[str] = mapped_column(EncryptedText("case_people.alias"), default="")

    case: Mapped[Case] = relationship(back_populates="people")
    classroom: Mapped[Classroom | None] = relationship()

    def __str__(self) -> str:
        parts = [self.role.title]
        if self.alias:
            parts.append(self.alias)
        if self.classroom is not None:
            parts.append(self.classroom.label)
        return " · ".join(parts)


class Action(db.Model):
    """A step of the help plan, with a due date and a done mark."""

    __tablename__ = "case_actions"
    __table_args__ = (Index("ix_case_actions_open_due", "due_on", "done_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ActionKind] = mapped_column(str_enum(ActionKind, "action_kind"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("case_people.id", ondelete="SET NULL"))
    referral_id: Mapped[int | None] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), unique=True
    )
    # A lesson of the curriculum for a class intervention (its slug), when there is one.
    lesson_slug: Mapped[str | None] = mapped_column(String(80))
    due_on: Mapped[date] = mapped_column(Date)
    # Required by a referral rule: the case cannot close while it is not done.
    required: Mapped[bool] = mapped_column(default=False)
    # The keys of every rule that requires it, comma-separated (as ``Referral.rule_keys``).
    rule_key: Mapped[str | None] = mapped_column(String(300))
    # What was done and agreed: for counselors only.
    note: Mapped[str] = mapped_column(EncryptedText("case_actions.note"), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[Case] = relationship(back_populates="actions")
    person: Mapped[InvolvedPerson | None] = relationship()
    referral: Mapped[Referral | None] = relationship(back_populates="action")
    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id])

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class ClosureRequest(db.Model):
    """Closing a high or critical case waits for the school administrator's decision."""

    __tablename__ = "closure_requests"
    __table_args__ = (
        # At most one request waits per case.
        Index(
            "uq_closure_requests_pending",
            "case_id",
            unique=True,
            sqlite_where=text("decision = 'pending'"),
            postgresql_where=text("decision = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    outcome: Mapped[Outcome] = mapped_column(str_enum(Outcome, "case_outcome"))
    # The counselor's closing note: shown to the approving administrator.
    note: Mapped[str] = mapped_column(EncryptedText("closure_requests.note"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decision: Mapped[ClosureDecision] = mapped_column(
        str_enum(ClosureDecision, "closure_decision"), default=ClosureDecision.pending
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(
        EncryptedText("closure_requests.decision_note"), default=""
    )

    case: Mapped[Case] = relationship(back_populates="closure_requests")
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class OverdueNotice(db.Model):
    """The school administrator was told once that this item is overdue (idempotent notices)."""

    __tablename__ = "overdue_notices"
    __table_args__ = (UniqueConstraint("kind", "object_id", name="uq_overdue_notices_object"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    # "report", "teacher_report" or "referral".
    kind: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[int]
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Imported here so that every user of the models has the duties' and referrals' tables too.
from incidents.cases.duty_models import CaseDuty  # noqa: E402, F401
from incidents.cases.referral_models import Referral, ReferralRule  # noqa: E402, F401
