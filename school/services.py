"""The directory's rules: accounts, passwords, schools, classes, regions."""

from __future__ import annotations

import csv
import secrets
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select

from core import audit
from core.model_types import utcnow
from extensions import db
from school.models import (
    AuthorizedBody,
    Classroom,
    Permission,
    Region,
    Role,
    School,
    User,
    new_school_code,
)
from school.passwords import dummy_hash, hash_password, needs_rehash, verify_hash

REGIONS_CSV = Path(__file__).parent / "data" / "regions.csv"


def normalize_email(email: str) -> str:
    return email.strip().lower()


def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None; the caller shows one generic message.

    Failures are counted per account and client (``school.lockout``); a locked client is refused
    even with the right password, and the answer looks the same whether the e-mail exists, the
    password is wrong or the client is locked out. The caller commits.
    """
    from school import lockout

    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    good = verify_hash(user.password_hash if user else dummy_hash(), password)
    if user is None:
        return None
    if not lockout.may_try(user):
        return None
    if not good:
        lockout.record_failure(user)
        return None
    if not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def check_password(user: User, password: str) -> bool:
    return verify_hash(user.password_hash, password)


def set_password(user: User, password: str) -> None:
    """Set a new password (the person's own: nothing more to change) and end every other
    session of the account."""
    user.password_hash = hash_password(password)
    user.must_change_password = False
    user.end_sessions()


def temporary_password() -> str:
    """A password a person can type from a note: four groups of four characters."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def email_taken(email: str, except_id: int | None = None) -> bool:
    stmt = select(User.id).where(User.email == normalize_email(email))
    if except_id is not None:
        stmt = stmt.where(User.id != except_id)
    return db.session.scalar(stmt) is not None


def create_user(
    *,
    email: str,
    full_name: str,
    role: Role,
    password: str,
    school: School | None = None,
    region: Region | None = None,
    body: AuthorizedBody | None = None,
    locale: str | None = None,
    by: User | None = None,
) -> User:
    """A new account. ``by``: the person who creates it in the app; then ``password`` is a
    temporary one they saw (it must be changed at the first log-in) and a counselor or platform
    administrator account waits for a second person's confirmation. Without ``by`` (the operator's commands, the
    demo) the account is ready as it is."""
    user = User(
        email=normalize_email(email),
        full_name=full_name.strip(),
        role=role,
        school=school if role.is_school_role else None,
        region=region if role.is_regional else None,
        body=body if role.is_body_role else None,
        password_hash=hash_password(password),
        locale=locale,
        must_change_password=by is not None,
        case_access_confirmed_at=None if by is not None else utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", user, school_id=user.school_id, role=role.value)
    if by is not None and role.needs_confirmation:
        grant_case_access(user, by=by, reason="created")
    return user


# What makes a counselor's reading of cases (or a platform administrator's account) wait for
# confirmation again: someone else may now be the person behind the account (or the account
# reads another school's cases).
REGRANTING_FIELDS = {"role", "school_id", "email"}


def update_user(user: User, by: User | None = None, **changes) -> None:
    changed = sorted(key for key, value in changes.items() if getattr(user, key) != value)
    for key in changed:
        setattr(user, key, changes[key])
    if "active" in changed and not user.active:
        user.end_sessions()
    if changed:
        audit.record("user.update", user, school_id=user.school_id, fields=changed)
    if by is not None and user.role.needs_confirmation and REGRANTING_FIELDS & set(changed):
        reason = "role" if "role" in changed else "school" if "school_id" in changed else "email"
        grant_case_access(user, by=by, reason=reason)


def reset_password(user: User, by: User | None = None) -> str:
    """A temporary password for ``user``, shown to ``by``: it must be changed at the next
    log-in, and a counselor's reading of cases (or an administrator's account) waits for
    confirmation again (``by`` saw it)."""
    password = temporary_password()
    set_password(user, password)
    user.must_change_password = True
    audit.record("user.reset_password", user, school_id=user.school_id)
    if by is not None and by.id != user.id and user.role.needs_confirmation:
        grant_case_access(user, by=by, reason="password")
    return password


# --- who reads the cases: a second person confirms every counselor and platform administrator --


def grant_case_access(user: User, *, by: User, reason: str) -> None:
    """``user`` is a counselor or a platform administrator now (again, or of another school, or
    someone else may hold the account): their reading of cases, or their managing of the
    platform, waits for confirmation by a second person. Audited with the role and the school,
    and announced to the school's other counselors and to the platform administrators. The
    caller commits, then ``core.mail.deliver``s."""
    user.case_access_granted_by_id = by.id
    user.case_access_confirmed_by_id = None
    user.case_access_confirmed_at = None
    audit.record(
        "user.case_access_granted",
        user,
        school_id=user.school_id,
        role=user.role.value,
        by=by.id,
        reason=reason,
    )
    announce_case_access(user, by)


def case_access_witnesses(user: User) -> list[User]:
    """Who is told that ``user`` may read cases: the school's other active counselors and the
    platform administrators."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.active.is_(True),
                User.id != user.id,
                or_(
                    User.role == Role.admin,
                    and_(User.role == Role.counselor, User.school_id == user.school_id),
                ),
            )
            .order_by(User.id)
        )
    )


def announce_case_access(user: User, by: User) -> None:
    from core.mail import queue_for
    from core.public_url import external_url

    link = external_url("school.confirmations")
    school = user.school.name if user.school else ""

    def compose() -> tuple[str, str]:
        if user.can(Permission.manage_platform):
            return _("Qamqor: a new platform administrator account"), _(
                "%(by)s has made %(name)s (%(email)s) a platform administrator. This account"
                " will create accounts, give roles and confirm new accounts once another"
                " platform administrator confirms it.\n\n"
                "If you do not know this person or did not expect this, do not confirm it. The"
                " list of accounts to confirm:\n%(link)s",
                by=by.full_name,
                name=user.full_name,
                email=user.email,
                link=link,
            )
        subject = _("Qamqor: a new school psychologist account at %(school)s", school=school)
        body = _(
            "%(by)s has made %(name)s (%(email)s) a school psychologist of %(school)s. This"
            " account will read what children reported at this school once another school"
            " psychologist of the school or a platform administrator confirms it.\n\n"
            "If you do not know this person or did not expect this, do not confirm it and tell"
            " the platform administrator. The list of accounts to confirm:\n%(link)s",
            by=by.full_name,
            name=user.full_name,
            email=user.email,
            school=school,
            link=link,
        )
        return subject, body

    queue_for(case_access_witnesses(user), compose)


def may_confirm(actor: User, user: User) -> bool:
    """A second person confirms a counselor: another confirmed counselor of the same school, or
    a confirmed platform administrator; and a platform administrator: another confirmed
    platform administrator. Never the account itself nor whoever gave it the role; an account
    waiting for confirmation confirms nobody (else one administrator could make a second
    administrator account and confirm with it)."""
    if not user.awaits_confirmation or actor.id in (user.id, user.case_access_granted_by_id):
        return False
    if actor.awaits_confirmation:
        return False
    if actor.id in controllers(user.case_access_granted_by_id):
        return False  # e.g. an administrator who made the school administrator who made it
    if user.can(Permission.manage_platform) or actor.can(Permission.manage_platform):
        return actor.can(Permission.manage_platform)
    return actor.can(Permission.confirm_accounts) and actor.school_id == user.school_id


# What put an account in someone's hands: they made it, gave it a password, or changed its role,
# school or address (``update_user``'s audit entry lists the fields it changed).
CONTROL_ACTIONS = ("user.create", "user.reset_password")
CONTROL_FIELDS = ("email", "role", "school_id")


def controllers(user_id: int | None, depth: int = 20) -> set[int]:
    """Everyone who, in the app, could have taken the account ``user_id`` in hand, and whoever
    could have taken theirs, up the chain (read from the audit log; the operator's commands act
    as nobody). A confirmer must not be among them for the account that granted the role: else
    one administrator makes a school administrator for themselves, makes a counselor with it
    and confirms that counselor."""
    from core.audit import AuditEntry

    seen: set[int] = set()
    wave = {user_id} if user_id is not None else set()
    for _level in range(depth):
        if not wave:
            break
        seen |= wave
        field_changed = or_(*(AuditEntry.detail.contains(f'"{f}"') for f in CONTROL_FIELDS))
        actors = db.session.scalars(
            select(AuditEntry.actor_id)
            .where(
                AuditEntry.object_type == "User",
                AuditEntry.object_id.in_(wave),
                AuditEntry.actor_id.is_not(None),
                or_(
                    AuditEntry.action.in_(CONTROL_ACTIONS),
                    and_(AuditEntry.action == "user.update", field_changed),
                ),
            )
            .distinct()
        )
        wave = set(actors) - seen
    seen.discard(user_id)
    return seen | ({user_id} if user_id is not None else set())


def confirm_case_access(user: User, *, by: User) -> None:
    """The caller checked ``may_confirm``; it commits."""
    user.case_access_confirmed_by_id = by.id
    user.case_access_confirmed_at = utcnow()
    audit.record(
        "user.case_access_confirmed",
        user,
        school_id=user.school_id,
        role=user.role.value,
        by=by.id,
    )


def school_code_taken(code: str) -> bool:
    return db.session.scalar(select(School.id).where(School.code == code)) is not None


def create_school(*, region: Region, name: str, languages: list[str], **fields) -> School:
    code = new_school_code()
    while school_code_taken(code):
        code = new_school_code()
    school = School(
        region=region, name=name.strip(), code=code, languages=",".join(languages), **fields
    )
    db.session.add(school)
    db.session.flush()
    audit.record("school.create", school, school_id=school.id)
    return school


def classroom_exists(school: School, grade: int, letter: str, except_id: int | None = None) -> bool:
    stmt = select(Classroom.id).where(
        Classroom.school_id == school.id,
        Classroom.grade == grade,
        func.upper(Classroom.letter) == letter.upper(),
    )
    if except_id is not None:
        stmt = stmt.where(Classroom.id != except_id)
    return db.session.scalar(stmt) is not None


def load_regions(path: Path = REGIONS_CSV) -> tuple[int, int]:
    """Insert or update the 20 first-level divisions; returns (added, updated)."""
    added = updated = 0
    existing = {region.iso_code: region for region in db.session.scalars(select(Region))}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            fields = {
                "kind": row["kind"],
                "name_kk": row["name_kk"],
                "name_ru": row["name_ru"],
                "name_en": row["name_en"],
            }
            region = existing.get(row["iso_code"])
            if region is None:
                db.session.add(Region(iso_code=row["iso_code"], **fields))
                added += 1
            elif any(getattr(region, key) != value for key, value in fields.items()):
                for key, value in fields.items():
                    setattr(region, key, value)
                updated += 1
    db.session.commit()
    return added, updated
