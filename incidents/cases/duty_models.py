"""A legal duty on a case as a clock: what the law (or the national model) asks of the
school for this case, by when, and how it was met. The rules that create duties are data
(``incidents/cases/data/duty_rules.csv``, read by ``incidents.cases.duties``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.crypto import EncryptedText
from core.model_types import UTCDateTime, str_enum, utcnow
from extensions import db
from incidents.cases.enums import DutyMet
from school.models import User


class CaseDuty(db.Model):
    __tablename__ = "case_duties"
    __table_args__ = (
        UniqueConstraint("case_id", "kind", name="uq_case_duties_kind"),
        # The overdue lists and the home page's counts: open duties of a school by due time.
        Index("ix_case_duties_school_due", "school_id", "met_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    # The rule's key in the shipped table (one duty of a kind per case).
    kind: Mapped[str] = mapped_column(String(60))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    met_how: Mapped[DutyMet | None] = mapped_column(str_enum(DutyMet, "duty_met"))
    met_note: Mapped[str] = mapped_column(EncryptedText("case_duties.met_note"), default="")
    met_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    case = relationship("Case", back_populates="duties")
    met_by: Mapped[User | None] = relationship()

    @property
    def is_met(self) -> bool:
        return self.met_at is not None
