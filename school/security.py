"""Staff log-in security: password rules and two-factor codes (lock-out: ``school.lockout``)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

import pyotp
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, update
from sqlalchemy.orm.attributes import set_committed_value

from core.model_types import utcnow
from extensions import db
from school.models import RecoveryCode, Role, User
from school.passwords import hash_password, verify_hash

MIN_PASSWORD = 10
RECOVERY_CODES = 10


@cache
def common_passwords() -> frozenset[str]:
    path = Path(__file__).parent / "data" / "common_passwords.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str, email: str) -> str | None:
    """Why this password may not be used, in the user's language; None when it is fine."""
    if len(password) < MIN_PASSWORD:
        return _("The password must have at least %(min)d characters.", min=MIN_PASSWORD)
    lowered = password.strip().lower()
    local = email.split("@")[0].lower()
    if lowered == email.lower() or (len(local) >= 4 and local in lowered):
        return _("The password must not be your e-mail.")
    common = common_passwords()
    if lowered in common or lowered.rstrip("0123456789!") in common or len(set(lowered)) < 4:
        return _("This password is too common. Please choose another one.")
    return None


# --- two-factor codes ---------------------------------------------------------------------------


def two_factor_required(user: User) -> bool:
    roles = current_app.config["TWO_FACTOR_ROLES"]
    if isinstance(roles, str):
        roles = [role.strip() for role in roles.split(",") if role.strip()]
    return user.has_role(*(Role(role) for role in roles))


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name="Qamqor")


def check_totp(secret: str, code: str, last_step: int | None, now: datetime | None = None):
    """The accepted time step, or None. One step of clock drift either way; no replays."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    moment = now or utcnow()
    for drift in (0, -1, 1):
        at = moment + timedelta(seconds=drift * totp.interval)
        step = totp.timecode(at)
        if (last_step is None or step > last_step) and secrets.compare_digest(totp.at(at), code):
            return step
    return None


def _claim(model, ident: int, unclaimed, **values) -> bool:
    """Write ``values`` to one row only while ``unclaimed`` still holds in the database: two
    workers checking the same code at once both read it unused, but only one update finds it
    so (the other waits for the row, then matches nothing)."""
    statement = (
        update(model)
        .where(model.id == ident, unclaimed)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(statement).rowcount == 1


def verify_second_factor(user: User, code: str, now: datetime | None = None) -> bool:
    """A TOTP code, or an unused recovery code (spent on use); each accepted once, also when
    two requests bring it at the same moment."""
    step = check_totp(user.totp_secret or "", code, user.totp_last_step, now)
    if step is not None:
        earlier = or_(User.totp_last_step.is_(None), User.totp_last_step < step)
        if not _claim(User, user.id, earlier, totp_last_step=step):
            return False
        set_committed_value(user, "totp_last_step", step)
        return True
    cleaned = code.strip().lower()
    if len(cleaned) < 9:
        return False
    for recovery in user.recovery_codes:
        if recovery.used_at is None and verify_hash(recovery.code_hash, cleaned):
            used_at = utcnow()
            if not _claim(
                RecoveryCode, recovery.id, RecoveryCode.used_at.is_(None), used_at=used_at
            ):
                return False
            set_committed_value(recovery, "used_at", used_at)
            return True
    return False


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes; the plain codes are shown once and never stored."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = []
    for _i in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(alphabet) for _j in range(8))
        codes.append(f"{raw[:4]}-{raw[4:]}")
    user.recovery_codes = [RecoveryCode(code_hash=hash_password(code)) for code in codes]
    return codes


def enable_two_factor(user: User, secret: str, step: int) -> list[str]:
    """Link this authenticator (replacing any other) and make new recovery codes."""
    user.totp_secret = secret
    user.totp_last_step = step
    if user.two_factor_enrolled_at is None:
        user.two_factor_enrolled_at = utcnow()
    return new_recovery_codes(user)


def disable_two_factor(user: User) -> None:
    """The owner turns it off (only where it is not required): the account keeps the mark of
    having had one, so that it cannot link another after a password alone."""
    user.totp_secret = None
    user.totp_last_step = None
    user.recovery_codes = []


def reset_two_factor(user: User) -> None:
    """An administrator's reset (a lost phone): no authenticator, no recovery codes, every
    session ended; the next log-in links a new authenticator after the password."""
    disable_two_factor(user)
    user.two_factor_enrolled_at = None
    user.end_sessions()
