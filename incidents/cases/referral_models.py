"""A case's referrals to the authorized bodies, and the rules table that says which are required.
What happens to them (sending, letters, answers) is ``incidents.referrals``'s business."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.crypto import EncryptedText
from core.model_types import UTCDateTime, str_enum, utcnow
from extensions import db
from incidents.cases.enums import (
    Disposition,
    ReferralStatus,
    ReferralTarget,
    Screening,
)
from incidents.intake.models import Perpetrator, ViolenceForm
from school.models import AuthorizedBody, BodyKind, School, User

if TYPE_CHECKING:
    from incidents.cases.models import Action, Case


class Referral(db.Model):
    """A referral of the case to an authorized body; partners see only the ones sent to them."""

    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_body_status", "body_id", "status"),
        Index("ix_referrals_school_status", "school_id", "status"),
        CheckConstraint("status = 'draft' OR body_id IS NOT NULL", name="sent_has_body"),
        CheckConstraint("language IN ('kk', 'ru')", name="letter_language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    body_kind: Mapped[BodyKind] = mapped_column(str_enum(BodyKind, "body_kind"))
    body_id: Mapped[int | None] = mapped_column(ForeignKey("authorized_bodies.id"))
    # Required by the rules (the case cannot close before it is sent), and by when.
    required: Mapped[bool] = mapped_column(default=False)
    rule_keys: Mapped[str] = mapped_column(String(300), default="")
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[ReferralStatus] = mapped_column(
        str_enum(ReferralStatus, "referral_status"), default=ReferralStatus.draft
    )
    language: Mapped[str] = mapped_column(String(2), default="kk")
    # The facts the counselor chose to include in the letter (minimum necessary).
    facts_included: Mapped[str] = mapped_column(String(200), default="")
    facts_text: Mapped[str] = mapped_column(EncryptedText("referrals.facts_text"), default="")
    # The school's outgoing number, and the body's own registration number.
    reference_number: Mapped[str] = mapped_column(String(40), default="")
    body_reference: Mapped[str] = mapped_column(String(60), default="")
    outcome_note: Mapped[str] = mapped_column(EncryptedText("referrals.outcome_note"), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The body's answer and by when it is due (``incidents.referrals.answers``).
    answer_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disposition: Mapped[Disposition | None] = mapped_column(
        str_enum(Disposition, "referral_disposition")
    )
    disposition_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="referrals")
    school: Mapped[School] = relationship()
    body: Mapped[AuthorizedBody | None] = relationship()
    sent_by: Mapped[User | None] = relationship(foreign_keys=[sent_by_id])
    action: Mapped[Action | None] = relationship(back_populates="referral", uselist=False)

    @property
    def facts(self) -> list[str]:
        return [key for key in self.facts_included.split(",") if key]


class ReferralRule(db.Model):
    """One line of the rules table: when these facts hold, this target must be told in time."""

    __tablename__ = "referral_rules"
    __table_args__ = (
        CheckConstraint(
            "screening IS NOT NULL OR form IS NOT NULL OR perpetrator IS NOT NULL"
            " OR injury IS NOT NULL",
            name="has_condition",
        ),
        CheckConstraint("within_hours BETWEEN 0 AND 720", name="hours_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    screening: Mapped[Screening | None] = mapped_column(str_enum(Screening, "screening"))
    form: Mapped[ViolenceForm | None] = mapped_column(str_enum(ViolenceForm, "violence_form"))
    perpetrator: Mapped[Perpetrator | None] = mapped_column(str_enum(Perpetrator, "perpetrator"))
    injury: Mapped[bool | None]
    target: Mapped[ReferralTarget] = mapped_column(str_enum(ReferralTarget, "referral_target"))
    within_hours: Mapped[int]
    # Why the rule exists, for the administrator who edits the table (not shown to partners).
    note: Mapped[str] = mapped_column(String(300), default="")
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when an administrator saves the rule: loading the shipped table leaves it alone.
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
