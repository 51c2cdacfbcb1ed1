"""The directory's rules: accounts, passwords, schools, classes, regions."""

from __future__ import annotations

import csv
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from core import audit
from extensions import db
from school.models import (
    AuthorizedBody,
    Classroom,
    Region,
    Role,
    School,
    User,
    new_school_code,
)

REGIONS_CSV = Path(__file__).parent / "data" / "regions.csv"
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so both paths take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def verify_hash(stored: str, secret: str) -> bool:
    try:
        return _hasher.verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None; the caller shows one generic message.

    Failures are counted per account and client (``school.lockout``); a locked client is refused
    even with the right password, and the answer looks the same whether the e-mail exists, the
    password is wrong or the client is locked out. The caller commits.
    """
    from school import lockout

    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    good = verify_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user is None:
        return None
    if not lockout.may_try(user):
        return None
    if not good:
        lockout.record_failure(user)
        return None
    if not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def check_password(user: User, password: str) -> bool:
    return verify_hash(user.password_hash, password)


def set_password(user: User, password: str) -> None:
    """Set a new password and end every other session of the account."""
    user.password_hash = hash_password(password)
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
) -> User:
    user = User(
        email=normalize_email(email),
        full_name=full_name.strip(),
        role=role,
        school=school if role.is_school_role else None,
        region=region if role == Role.analyst else None,
        body=body if role == Role.partner else None,
        password_hash=hash_password(password),
        locale=locale,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", user, school_id=user.school_id, role=role.value)
    return user


def update_user(user: User, **changes) -> None:
    changed = sorted(key for key, value in changes.items() if getattr(user, key) != value)
    for key in changed:
        setattr(user, key, changes[key])
    if "active" in changed and not user.active:
        user.end_sessions()
    if changed:
        audit.record("user.update", user, school_id=user.school_id, fields=changed)


def reset_password(user: User) -> str:
    password = temporary_password()
    set_password(user, password)
    audit.record("user.reset_password", user, school_id=user.school_id)
    return password


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
