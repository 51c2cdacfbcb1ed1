"""Small factory helpers that build the data a test needs, committed."""

from __future__ import annotations

import itertools

import pyotp
from sqlalchemy import select

from extensions import db
from school import services
from school.models import AuthorizedBody, BodyKind, Classroom, Region, Role, School, User

_seq = itertools.count(1)
PASSWORD = "correct horse battery"


def region(iso_code: str = "KZ-71") -> Region:
    found = db.session.scalar(select(Region).where(Region.iso_code == iso_code))
    if found:
        return found
    services.load_regions()
    return db.session.scalar(select(Region).where(Region.iso_code == iso_code))


def school(name: str | None = None, region_code: str = "KZ-71", **fields) -> School:
    n = next(_seq)
    made = services.create_school(
        region=region(region_code),
        name=name or f"School {n}",
        languages=fields.pop("languages", ["kk", "ru"]),
        **fields,
    )
    db.session.commit()
    return made


def body(kind: BodyKind = BodyKind.police, region_code: str = "KZ-71") -> AuthorizedBody:
    made = AuthorizedBody(
        kind=kind, region=region(region_code), name_kk="Орган", name_ru="Орган", name_en="Body"
    )
    db.session.add(made)
    db.session.commit()
    return made


TWO_FACTOR_ROLES = {
    Role.admin,
    Role.school_admin,
    Role.counselor,
    Role.partner,
    Role.analyst,
    Role.desk_officer,
}


def user(role: Role = Role.counselor, school_=None, **fields) -> User:
    """A staff account; roles that must use two-factor log-in come with an authenticator set up
    (the ``login`` fixture answers with a code)."""
    n = next(_seq)
    if role.is_school_role and school_ is None:
        school_ = school()
    made = services.create_user(
        email=fields.pop("email", f"user{n}@example.kz"),
        full_name=fields.pop("full_name", f"User {n}"),
        role=role,
        password=fields.pop("password", PASSWORD),
        school=school_,
        region=fields.pop("region_", None),
        body=fields.pop("body_", None) or (body() if role == Role.partner else None),
        locale=fields.pop("locale", None),
    )
    if role in TWO_FACTOR_ROLES:
        made.totp_secret = pyotp.random_base32()
    for key, value in fields.items():
        setattr(made, key, value)
    db.session.commit()
    return made


def classroom(school_: School, grade: int = 6, letter: str = "А", **fields) -> Classroom:
    made = Classroom(school=school_, grade=grade, letter=letter, **fields)
    db.session.add(made)
    db.session.commit()
    return made
