"""What a student tells: the report, its forms of violence, messages and attachments.

The report carries nothing about the device or the person: no address, no user agent, no account.
The receipt code is kept only as a slow keyed hash (see ``incidents.intake.receipts``).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.crypto import EncryptedText
from core.model_types import TitledEnum, UTCDateTime, str_enum, utcnow
from extensions import db
from school.models import GradeBand, School, User


class ViolenceForm(TitledEnum):
    """Every form is violence; the platform names all of them."""

    physical = "physical"
    psychological = "psychological"
    verbal = "verbal"
    bullying = "bullying"
    cyberbullying = "cyberbullying"
    sexual = "sexual"
    exclusion = "exclusion"
    belongings = "belongings"
    adult_at_school = "adult_at_school"
    home = "home"
    other = "other"


ViolenceForm.TITLES = {
    ViolenceForm.physical: _l("Physical violence"),
    ViolenceForm.psychological: _l("Psychological violence"),
    ViolenceForm.verbal: _l("Verbal abuse"),
    ViolenceForm.bullying: _l("Bullying"),
    ViolenceForm.cyberbullying: _l("Cyberbullying"),
    ViolenceForm.sexual: _l("Sexual violence"),
    ViolenceForm.exclusion: _l("Exclusion and discrimination"),
    ViolenceForm.belongings: _l("Damage or theft of belongings"),
    ViolenceForm.adult_at_school: _l("Violence or humiliating punishment by an adult at school"),
    ViolenceForm.home: _l("Violence or neglect at home"),
    ViolenceForm.other: _l("Something else"),
}


class Victim(TitledEnum):
    me = "me"
    other_student = "other_student"
    unsaid = "unsaid"


Victim.TITLES = {
    Victim.me: _l("The reporter"),
    Victim.other_student: _l("Another student"),
    Victim.unsaid: _l("Not said"),
}


class Perpetrator(TitledEnum):
    students = "students"
    school_staff = "school_staff"
    family = "family"
    other_adult = "other_adult"
    unknown = "unknown"

    @property
    def is_adult(self) -> bool:
        return self in (Perpetrator.school_staff, Perpetrator.family, Perpetrator.other_adult)


Perpetrator.TITLES = {
    Perpetrator.students: _l("Student(s)"),
    Perpetrator.school_staff: _l("Teacher or other school staff"),
    Perpetrator.family: _l("Family member"),
    Perpetrator.other_adult: _l("Other adult"),
    Perpetrator.unknown: _l("Unknown"),
}


class Place(TitledEnum):
    classroom = "classroom"
    corridor = "corridor"
    yard = "yard"
    toilet = "toilet"
    canteen = "canteen"
    way_to_school = "way_to_school"
    online = "online"
    home = "home"
    elsewhere = "elsewhere"


Place.TITLES = {
    Place.classroom: _l("Classroom"),
    Place.corridor: _l("Corridor"),
    Place.yard: _l("School yard"),
    Place.toilet: _l("Toilet"),
    Place.canteen: _l("Canteen"),
    Place.way_to_school: _l("On the way to or from school"),
    Place.online: _l("Online"),
    Place.home: _l("At home"),  # not "Home": that msgid is the menu link
    Place.elsewhere: _l("Somewhere else"),
}


class Frequency(TitledEnum):
    once = "once"
    few_times = "few_times"
    daily = "daily"


Frequency.TITLES = {
    Frequency.once: _l("Once"),
    Frequency.few_times: _l("A few times"),
    Frequency.daily: _l("Every day or almost"),
}


class WhenHappened(TitledEnum):
    today = "today"
    this_week = "this_week"
    earlier = "earlier"


WhenHappened.TITLES = {
    WhenHappened.today: _l("Today"),
    WhenHappened.this_week: _l("This week"),
    WhenHappened.earlier: _l("Earlier"),
}


class Priority(TitledEnum):
    critical = "critical"
    high = "high"
    normal = "normal"
    low = "low"

    @property
    def rank(self) -> int:
        """0 is the most urgent; used for ordering."""
        return list(Priority).index(self)


Priority.TITLES = {
    Priority.critical: _l("Critical"),
    Priority.high: _l("High"),
    Priority.normal: _l("Normal"),
    Priority.low: _l("Low"),
}


class Holder(TitledEnum):
    """Who holds a report (``incidents.desk.routing`` decides at submission): the school's
    counselors, the regional duty desk (the school neither sees it nor is told), or both."""

    school = "school"
    desk = "desk"
    both = "both"


Holder.TITLES = {
    Holder.school: _l("The school"),
    Holder.desk: _l("The duty desk"),
    Holder.both: _l("The school and the duty desk"),
}


class AuthorKind(TitledEnum):
    reporter = "reporter"
    staff = "staff"


AuthorKind.TITLES = {
    AuthorKind.reporter: _l("Student"),
    AuthorKind.staff: _l("School psychologist"),
}


class Report(db.Model):
    """An anonymous report from a student (victim or witness)."""

    __tablename__ = "reports"
    __table_args__ = (
        # On PostgreSQL with what a regional dashboard reads of each report: an index-only scan.
        Index(
            "ix_reports_school_created",
            "school_id",
            "created_at",
            postgresql_include=["priority", "first_response_at"],
        ),
        # The escalation runner's candidates, every minute: the reports nobody has answered yet
        # (few, whatever the number of reports), in the order it takes them (issue 16).
        Index(
            "ix_reports_unanswered",
            "created_at",
            "id",
            postgresql_include=["priority", "routing"],
            postgresql_where=text("first_response_at IS NULL"),
            sqlite_where=text("first_response_at IS NULL"),
        ),
        # The duty desk's reports: its inbox by region (school) and the schools' pages, which
        # leave out what the desk holds alone, read them here, not from every report.
        Index(
            "ix_reports_desk_held",
            "routing",
            "school_id",
            "id",
            postgresql_include=["priority", "first_response_at", "created_at"],
            postgresql_where=text("routing <> 'school'"),
            sqlite_where=text("routing <> 'school'"),
        ),
        CheckConstraint(f"grade_band IS NULL OR {GradeBand.sql_check('grade_band')}", name="band"),
        # A student in danger may skip the details, and their report is always critical.
        CheckConstraint(
            "is_danger_now OR (place IS NOT NULL AND frequency IS NOT NULL AND happened IS NOT NULL)",
            name="details_unless_danger",
        ),
        CheckConstraint("NOT is_danger_now OR priority = 'critical'", name="danger_is_critical"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    # What staff see instead of a name: random, derived from nothing about the person.
    label: Mapped[str] = mapped_column(String(16), unique=True)
    # Keyed slow hash of the receipt code (never the code); unique so it can be looked up.
    receipt_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    is_danger_now: Mapped[bool] = mapped_column(default=False)
    victim: Mapped[Victim] = mapped_column(str_enum(Victim, "victim"))
    perpetrator: Mapped[Perpetrator] = mapped_column(str_enum(Perpetrator, "perpetrator"))
    # Place, frequency and time may be left out only when the student is in danger now.
    place: Mapped[Place | None] = mapped_column(str_enum(Place, "place"))
    frequency: Mapped[Frequency | None] = mapped_column(str_enum(Frequency, "frequency"))
    happened: Mapped[WhenHappened | None] = mapped_column(str_enum(WhenHappened, "happened"))
    grade_band: Mapped[str | None] = mapped_column(String(5))
    description: Mapped[str] = mapped_column(EncryptedText("reports.description"), default="")
    priority: Mapped[Priority] = mapped_column(str_enum(Priority, "priority"))
    # Who reads it: the school, the regional duty desk, or both (``incidents.desk.routing``).
    routing: Mapped[Holder] = mapped_column(
        str_enum(Holder, "routing"), default=Holder.school, server_default="school", index=True
    )
    # Set by staff work (response workflow): the first reply or triage, for response-time figures.
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Whether it arrived within the school's working hours (``incidents.desk.hours``), for the
    # response times by day and night; None for the reports made before it was kept.
    arrived_in_hours: Mapped[bool | None] = mapped_column()
    # The reporter's last visit with the code, stored already cut to the hour.
    last_reporter_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language of the pages the child wrote in ("kk", "ru", "en"): the counselor answers in
    # it. None for the reports made before it was kept.
    locale: Mapped[str | None] = mapped_column(String(5))
    # Random token of the form page the report came from: a resent form is not a second report.
    submission_token: Mapped[str | None] = mapped_column(String(32), unique=True)

    school: Mapped[School] = relationship()
    forms: Mapped[list[ReportViolenceForm]] = relationship(
        back_populates="report", cascade="all, delete-orphan"
    )
    messages: Mapped[list[Message]] = relationship(
        back_populates="report", order_by="Message.created_at", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="report", cascade="all, delete-orphan"
    )

    @property
    def violence_forms(self) -> list[ViolenceForm]:
        return [row.form for row in self.forms]


class ReportViolenceForm(db.Model):
    """One form of violence named in a report (several may apply); a row each, for statistics."""

    __tablename__ = "report_forms"

    report_id: Mapped[int] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    form: Mapped[ViolenceForm] = mapped_column(
        str_enum(ViolenceForm, "violence_form"), primary_key=True
    )

    report: Mapped[Report] = relationship(back_populates="forms")


class Message(db.Model):
    """A message between the anonymous reporter and the school psychologist."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    author_kind: Mapped[AuthorKind] = mapped_column(str_enum(AuthorKind, "author_kind"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(EncryptedText("messages.body"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    report: Mapped[Report] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(back_populates="message")


FILE_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "application/pdf": "pdf",
}


class Attachment(db.Model):
    """An image or PDF the reporter added, cleaned on arrival (``incidents.intake.uploads``)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    # The type checked from the content ("image/jpeg", "image/png", "application/pdf", ...).
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    # The file store's name for it (random), never the uploaded file name.
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="attachments")
    # The reporter's message the file came with (None: it came with the report itself).
    message: Mapped[Message | None] = relationship(back_populates="attachments")

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def extension(self) -> str:
        return FILE_EXTENSIONS.get(self.content_type, "bin")
