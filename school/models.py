"""The directory: regions, schools, classes, authorized bodies and staff accounts."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.crypto import EncryptedText
from core.i18n import current_locale, localized
from core.model_types import TitledEnum, UTCDateTime, str_enum, utcnow
from extensions import db
from school.roles import (  # noqa: F401 - the roles are part of the directory's vocabulary
    AFTER_CONFIRMATION,
    CONFIRMED_ROLES,
    REGIONAL_ROLES,
    SCHOOL_ROLES,
    Permission,
    Reach,
    Role,
    role_may,
)


class BodyKind(TitledEnum):
    police = "police"
    guardianship = "guardianship"
    health = "health"
    education = "education"
    ombudsman = "ombudsman"
    social = "social"


BODY_KIND_TITLES = {
    BodyKind.police: _l("Police (juvenile affairs)"),
    BodyKind.guardianship: _l("Guardianship and trusteeship body"),
    BodyKind.health: _l("Health services"),
    BodyKind.education: _l("Education department"),
    BodyKind.ombudsman: _l("Commissioner for children's rights"),
    BodyKind.social: _l("Social protection services"),
}
BodyKind.TITLES = BODY_KIND_TITLES


class Region(db.Model):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    iso_code: Mapped[str] = mapped_column(String(8), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # region | city
    name_kk: Mapped[str] = mapped_column(String(120))
    name_ru: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))

    schools: Mapped[list[School]] = relationship(back_populates="region")

    @property
    def name(self) -> str:
        return localized(self)

    def __str__(self) -> str:
        return self.name


def new_school_code() -> str:
    # No 0/o/1/l/i: the code is typed by children from a poster.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(6))


class School(db.Model):
    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    # The name in Kazakh, and in Russian where the school has one ("" where not): a child finds
    # the school by either, and reads the one of the interface's language (``local_name``).
    name: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200), default="")
    # Short public code used in the students' report link /r/<code> and on the QR poster.
    code: Mapped[str] = mapped_column(String(16), unique=True, default=new_school_code)
    # Comma-separated language codes of instruction, e.g. "kk,ru".
    languages: Mapped[str] = mapped_column(String(16), default="kk")
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    region: Mapped[Region] = relationship(back_populates="schools")
    classrooms: Mapped[list[Classroom]] = relationship(
        back_populates="school", order_by="(Classroom.grade, Classroom.letter)"
    )

    @property
    def language_list(self) -> list[str]:
        return [code for code in self.languages.split(",") if code]

    @property
    def local_name(self) -> str:
        """The name a reader of the current language knows the school by."""
        return self.name_ru if self.name_ru and current_locale() == "ru" else self.name

    def __str__(self) -> str:
        return self.name


class_teachers = Table(
    "class_teachers",
    db.metadata,
    Column("classroom_id", ForeignKey("classrooms.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Classroom(db.Model):
    __tablename__ = "classrooms"
    __table_args__ = (
        UniqueConstraint("school_id", "grade", "letter", name="uq_classrooms_school_grade_letter"),
        CheckConstraint("grade BETWEEN 1 AND 11", name="grade_range"),
        CheckConstraint("students BETWEEN 0 AND 60", name="students_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    grade: Mapped[int]
    letter: Mapped[str] = mapped_column(String(4))
    language: Mapped[str] = mapped_column(String(2), default="kk")
    homeroom_teacher_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Students on the class list, as the school records it (None: not entered, never zero). The
    # programme's figures per 100 students and per counselor count these (insights.kpis).
    students: Mapped[int | None]

    school: Mapped[School] = relationship(back_populates="classrooms")
    homeroom_teacher: Mapped[User | None] = relationship(foreign_keys=[homeroom_teacher_id])
    teachers: Mapped[list[User]] = relationship(
        secondary=class_teachers, back_populates="classrooms"
    )

    @property
    def label(self) -> str:
        return f"{self.grade}{self.letter}"

    @property
    def grade_band(self) -> GradeBand:
        return grade_band(self.grade)

    def is_taught_by(self, user: User) -> bool:
        """The user is the class's homeroom teacher or one of its teachers."""
        return user.id == self.homeroom_teacher_id or any(t.id == user.id for t in self.teachers)

    def __str__(self) -> str:
        return self.label


class GradeBand(enum.StrEnum):
    """The curriculum's grade bands; stored and shown by value ("5-9")."""

    primary = "1-4"
    middle = "5-9"
    senior = "10-11"

    @property
    def last_grade(self) -> int:
        return int(self.value.split("-")[1])

    @classmethod
    def sql_check(cls, column: str) -> str:
        """The CHECK constraint's text: ``column IN ('1-4', '5-9', '10-11')``."""
        return f"{column} IN ({', '.join(repr(band.value) for band in cls)})"


def grade_band(grade: int) -> GradeBand:
    """The band of a grade (1 to 11)."""
    return next((band for band in GradeBand if grade <= band.last_grade), GradeBand.senior)


class AuthorizedBody(db.Model):
    """An authorized body that receives referrals: juvenile police, guardianship, health, ..."""

    __tablename__ = "authorized_bodies"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[BodyKind] = mapped_column(str_enum(BodyKind, "body_kind"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    name_kk: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(String(300), default="")

    region: Mapped[Region | None] = relationship()

    @property
    def name(self) -> str:
        return localized(self)

    def __str__(self) -> str:
        return self.name


class User(UserMixin, db.Model):
    """A staff account. Students never have accounts."""

    __tablename__ = "users"
    __table_args__ = (
        # The scope is part of the row: a school role belongs to a school, a partner to a body,
        # an analyst or a desk officer to a region or (no region) the whole country, an admin to nothing.
        CheckConstraint(
            "(role IN ('school_admin', 'counselor', 'teacher') AND school_id IS NOT NULL"
            " AND body_id IS NULL)"
            " OR (role = 'partner' AND body_id IS NOT NULL AND school_id IS NULL)"
            " OR (role IN ('analyst', 'desk_officer') AND school_id IS NULL AND body_id IS NULL)"
            " OR (role = 'admin' AND school_id IS NULL AND body_id IS NULL AND region_id IS NULL)",
            name="scope_matches_role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    body_id: Mapped[int | None] = mapped_column(ForeignKey("authorized_bodies.id"))
    password_hash: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(2))
    active: Mapped[bool] = mapped_column(default=True)
    # Changing it (password change, deactivation) ends every session of the account.
    session_nonce: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # (Log-in failures are counted outside the database: see school.lockout.)
    # Two-factor log-in (TOTP): the shared secret once the person has confirmed it.
    # The authenticator's shared secret, encrypted at rest like the case texts (a copy of the
    # database alone does not let anyone make codes).
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText("users.totp_secret"))
    # The last accepted time step, so that one code cannot be used twice.
    totp_last_step: Mapped[int | None]
    # When the account first linked an authenticator; kept when its owner turns two-factor
    # log-in off, cleared by an administrator's reset. While it is empty, an account that must
    # use two factors may link one right after its password (school.login_flow).
    two_factor_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when someone else issued the password (a new account, a reset): it must be changed
    # before any other staff page opens (``school.views.require_own_password``).
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # A counselor reads the cases of their school, and a platform administrator manages the
    # platform, only once a second person has confirmed the account (``incidents.scopes.case_scope``,
    # ``school.services.may_confirm``): who gave the role (None: the operator's commands), and
    # who confirmed it and when (None: waiting for confirmation).
    case_access_granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    case_access_confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    case_access_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    school: Mapped[School | None] = relationship()
    region: Mapped[Region | None] = relationship()
    body: Mapped[AuthorizedBody | None] = relationship()
    case_access_granted_by: Mapped[User | None] = relationship(
        foreign_keys=[case_access_granted_by_id], remote_side=[id]
    )
    case_access_confirmed_by: Mapped[User | None] = relationship(
        foreign_keys=[case_access_confirmed_by_id], remote_side=[id]
    )
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )
    classrooms: Mapped[list[Classroom]] = relationship(
        secondary=class_teachers, back_populates="teachers"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"

    def end_sessions(self) -> None:
        self.session_nonce = secrets.token_hex(16)

    def has_role(self, *roles: Role) -> bool:
        return self.role.is_one_of(*roles)

    def can(self, permission: Permission | str) -> bool:
        """What the user may do (``school.roles.GRANTS``); reading cases and children's words
        waits for a second person's confirmation of the account."""
        permission = Permission(permission)
        if permission in AFTER_CONFIRMATION and self.awaits_confirmation:
            return False
        return role_may(self.role, permission)

    @property
    def sees_whole_country(self) -> bool:
        """Every region's rows: the platform administrator, and a regional role with no region."""
        reach = self.role.reach
        return reach is Reach.platform or (reach is Reach.region and self.region_id is None)

    @property
    def awaits_confirmation(self) -> bool:
        """A counselor whose reading of cases, or a platform administrator whose account, no
        second person has confirmed yet (``CONFIRMED_ROLES``)."""
        return self.role.needs_confirmation and self.case_access_confirmed_at is None

    @property
    def has_two_factor(self) -> bool:
        return self.totp_secret is not None

    def __str__(self) -> str:
        return self.full_name


class RecoveryCode(db.Model):
    """A single-use code for when the authenticator is lost; only its hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="recovery_codes")
