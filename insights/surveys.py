"""Survey waves: opening one for a class, its single-use codes, and taking in the answers.

A code is derived from the wave's secret seed and the app key (so the slips can be printed
again) and stored only as a keyed hash, for look-up. Spending a code deletes its row in the
same transaction that stores the answers; the response keeps the wave and nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.orm import Session

from core import audit
from core.model_types import utcnow
from extensions import db
from insights.models import (
    MIN_SURVEY_GRADE,
    SurveyAnswer,
    SurveyCode,
    SurveyResponse,
    SurveyTally,
    SurveyVersion,
    SurveyWave,
    WaveKind,
)
from insights.questionnaire import questionnaire
from school.models import Classroom, Permission, User

# No 0/O, 1/I/L: the code is typed by a child from a paper slip.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
# A phone keyboard may be in Cyrillic: letters that look the same are read as the Latin ones.
_LOOKALIKES = str.maketrans("АВЕКМНОРСТХУ", "ABEKMHOPCTXY")
MAX_CODES = 60
DEFAULT_DAYS_OPEN = 14


class SurveyError(Exception):
    """A rule of the survey refused the request; ``message`` is for the person."""

    def __init__(self, message: object):
        super().__init__(message)
        self.message = message


def _key() -> bytes:
    return current_app.config["SECRET_KEY"].encode()


def derive_code(seed: str, index: int) -> str:
    digest = hmac.new(_key(), f"survey-code:{seed}:{index}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(CODE_LENGTH):
        number, digit = divmod(number, len(CODE_ALPHABET))
        chars.append(CODE_ALPHABET[digit])
    return "".join(chars)


def hash_code(code: str) -> str:
    return hmac.new(_key(), f"survey-lookup:{code}".encode(), hashlib.sha256).hexdigest()


def normalize_code(text: str) -> str:
    """What the child typed, as the code: case, spaces, dashes and Cyrillic look-alikes ignored."""
    cleaned = (text or "").upper().translate(_LOOKALIKES)
    return "".join(char for char in cleaned if char.isalnum())


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def may_open_wave(user: User, classroom: Classroom) -> bool:
    """A school psychologist of the class's school, or a teacher of that class."""
    if user.school_id != classroom.school_id:
        return False
    if not user.can(Permission.open_survey_waves):
        return False
    return user.can(Permission.survey_every_class) or classroom.is_taught_by(user)


def open_wave(
    classroom: Classroom,
    kind: WaveKind,
    students: int,
    opener: User,
    days_open: int = DEFAULT_DAYS_OPEN,
) -> SurveyWave:
    """Open a wave for the class with one code per student; the caller commits."""
    if classroom.grade < MIN_SURVEY_GRADE:
        raise SurveyError(_l("The survey is for grades 3 to 11."))
    already_open = db.session.scalar(
        select(SurveyWave.id).where(
            SurveyWave.classroom_id == classroom.id,
            SurveyWave.kind == kind,
            SurveyWave.closed_at.is_(None),
            SurveyWave.closes_at > utcnow(),
        )
    )
    if already_open is not None:
        raise SurveyError(
            _l(
                "This class already has an open wave of this kind. Close it first, or wait for it to end."
            )
        )
    now = utcnow()
    wave = SurveyWave(
        school_id=classroom.school_id,
        classroom_id=classroom.id,
        kind=kind,
        version=SurveyVersion.for_grade(classroom.grade),
        grade=classroom.grade,
        codes_issued=students,
        code_seed=secrets.token_hex(16),
        code_span=0,
        opened_by_id=opener.id,
        opened_at=now,
        closes_at=now + timedelta(days=days_open),
    )
    db.session.add(wave)
    db.session.flush()
    hashes: list[str] = []
    index = 0
    while len(hashes) < students:
        batch = [
            (i, hash_code(derive_code(wave.code_seed, i)))
            for i in range(index, index + students - len(hashes))
        ]
        # A code another wave already holds (vanishingly rare) is skipped, here and in reprints.
        taken = set(
            db.session.scalars(
                select(SurveyCode.code_hash).where(SurveyCode.code_hash.in_([h for _, h in batch]))
            )
        )
        hashes.extend(h for _, h in batch if h not in taken and h not in hashes)
        index += len(batch)
    wave.code_span = index
    db.session.execute(insert(SurveyCode), [{"wave_id": wave.id, "code_hash": h} for h in hashes])
    db.session.execute(
        insert(SurveyTally),
        [{"wave_id": wave.id, "item": item} for item in questionnaire().items_in(wave.version)],
    )
    audit.record(
        "survey.open_wave",
        wave,
        classroom_id=classroom.id,
        kind=kind.value,
        codes=students,
        days_open=days_open,
    )
    return wave


def unspent_codes(wave: SurveyWave) -> list[str]:
    """The codes of the wave not used yet, in slip order (for printing)."""
    stored = set(
        db.session.scalars(select(SurveyCode.code_hash).where(SurveyCode.wave_id == wave.id))
    )
    codes = (derive_code(wave.code_seed, i) for i in range(wave.code_span))
    return [code for code in codes if hash_code(code) in stored]


def unspent_count(wave: SurveyWave) -> int:
    return db.session.scalar(select(func.count(SurveyCode.id)).where(SurveyCode.wave_id == wave.id))


def public_address() -> str:
    """The short address printed on the slips, e.g. "qamqor.kz/s"."""
    base = current_app.config["PUBLIC_URL"]
    return base.rstrip("/").removeprefix("https://").removeprefix("http://") + "/s"


def close_wave(wave: SurveyWave) -> None:
    """Stop taking answers: the remaining codes stop working at once."""
    if wave.closed_at is None:
        wave.closed_at = utcnow()
        db.session.execute(delete(SurveyCode).where(SurveyCode.wave_id == wave.id))
        audit.record("survey.close_wave", wave)


def _open_waves():
    now = utcnow()
    return select(SurveyWave.id).where(SurveyWave.closed_at.is_(None), SurveyWave.closes_at > now)


def wave_for_code(text: str) -> SurveyWave | None:
    """The open wave a typed code belongs to, or None (bad, spent and expired alike)."""
    code = normalize_code(text)
    if len(code) != CODE_LENGTH:
        return None
    return db.session.scalar(
        select(SurveyWave)
        .join(SurveyCode, SurveyCode.wave_id == SurveyWave.id)
        .where(SurveyCode.code_hash == hash_code(code), SurveyWave.id.in_(_open_waves()))
    )


def clean_answers(version: SurveyVersion, answers: dict[str, int | None]) -> dict[str, int]:
    """Only the items of this version with an allowed value; skipped questions are left out."""
    items = questionnaire().items
    allowed = set(questionnaire().items_in(version))
    return {
        item: value
        for item, value in answers.items()
        if item in allowed and value is not None and value in items[item][0]
    }


def submit_answers(text: str, answers: dict[str, int | None]) -> bool:
    """Spend the code and store the answers, all or nothing; False if the code does not work.

    The code row is deleted first: of two submissions with the same code only one deletes it
    (the other waits for the first to commit and then deletes nothing), so a code counts once.
    """
    wave = wave_for_code(text)
    if wave is None:
        return False
    session: Session = db.session
    spent = session.execute(
        delete(SurveyCode).where(
            SurveyCode.code_hash == hash_code(normalize_code(text)),
            SurveyCode.wave_id.in_(_open_waves()),
        )
    )
    if spent.rowcount != 1:
        session.rollback()
        return False
    response = SurveyResponse(wave_id=wave.id)
    session.add(response)
    session.flush()
    kept = clean_answers(wave.version, answers)
    if kept:
        session.execute(
            insert(SurveyAnswer),
            [{"response_id": response.id, "item": k, "value": v} for k, v in kept.items()],
        )
    count_answers(wave.id, kept)
    session.commit()
    return True


def is_positive(item: str, value: int) -> bool:
    """Does this answer count towards the item's share (e.g. "2-3 times a month" or more)?"""
    return value >= questionnaire().items[item][1]


def count_answers(wave_id: int, answers: dict[str, int]) -> None:
    """Add one response to the wave's totals (in the caller's transaction)."""
    db.session.execute(
        update(SurveyWave).where(SurveyWave.id == wave_id).values(answered=SurveyWave.answered + 1)
    )
    if not answers:
        return
    positives = [item for item, value in answers.items() if is_positive(item, value)]
    db.session.execute(
        update(SurveyTally)
        .where(SurveyTally.wave_id == wave_id, SurveyTally.item.in_(list(answers)))
        .values(
            answers=SurveyTally.answers + 1,
            positive=SurveyTally.positive + case((SurveyTally.item.in_(positives), 1), else_=0),
        )
    )


def positive_answer():
    """SQL on ``SurveyAnswer``: 1 when the answer counts towards its item's share."""
    by_threshold: dict[int, list[str]] = {}
    for item, (_values, positive_from) in questionnaire().items.items():
        by_threshold.setdefault(positive_from, []).append(item)
    threshold = case(
        *((SurveyAnswer.item.in_(items), t) for t, items in sorted(by_threshold.items())),
        else_=1000,
    )
    return case((SurveyAnswer.value >= threshold, 1), else_=0)


def recount(wave_ids: list[int] | None = None) -> None:
    """Rebuild the totals of these waves (all when None) from the stored answers, in SQL."""
    waves = select(SurveyWave.id)
    if wave_ids is not None:
        waves = waves.where(SurveyWave.id.in_(wave_ids))
    db.session.execute(delete(SurveyTally).where(SurveyTally.wave_id.in_(waves)))
    db.session.execute(
        insert(SurveyTally).from_select(
            ["wave_id", "item", "answers", "positive"],
            select(
                SurveyResponse.wave_id,
                SurveyAnswer.item,
                func.count(),
                func.sum(positive_answer()),
            )
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .where(SurveyResponse.wave_id.in_(waves))
            .group_by(SurveyResponse.wave_id, SurveyAnswer.item),
        )
    )
    db.session.execute(
        update(SurveyWave)
        .where(SurveyWave.id.in_(waves))
        .values(
            answered=select(func.count(SurveyResponse.id))
            .where(SurveyResponse.wave_id == SurveyWave.id)
            .scalar_subquery()
        )
    )
