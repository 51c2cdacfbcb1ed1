"""The staff course: shuffled quizzes, scoring against the pass mark, certificates and their check.

Questions and options are shuffled for the eye only: every answer travels as the question's and
the option's place in the content file, so scoring never depends on the order shown.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, select

from core import audit
from core.clock import local_today
from curriculum.models import Certificate, CourseModule, ModuleText, QuizAttempt
from extensions import db
from school.models import User

PASS_MARK = 80  # percent of right answers needed to pass a module
# Crockford's base32: no I, L, O or U, so a code read aloud or retyped from paper survives.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 20  # 100 random bits
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})


@dataclass(frozen=True)
class ShownQuestion:
    index: int  # the question's place in the file
    text: str
    options: list[tuple[int, str]]  # (the option's place in the file, its text), shuffled


def shown_questions(module: CourseModule, locale: str, seed: int) -> list[ShownQuestion]:
    """The module's questions in ``locale``, questions and options shuffled by ``seed``.

    The same seed gives the same order, so a form sent back with a missing answer is shown again
    as the person saw it.
    """
    rng = random.Random(seed)  # noqa: S311 - the order questions are shown in, not a secret
    questions = module.text(locale).questions
    order = list(range(len(questions)))
    rng.shuffle(order)
    shown = []
    for index in order:
        options = list(enumerate(questions[index]["options"]))
        rng.shuffle(options)
        shown.append(ShownQuestion(index, questions[index]["text"], options))
    return shown


def new_seed() -> int:
    return secrets.randbelow(2**31)


@dataclass(frozen=True)
class Score:
    correct: int
    total: int

    @property
    def percent(self) -> int:
        return self.correct * 100 // self.total if self.total else 0

    @property
    def passed(self) -> bool:
        # Whole numbers only: 4 of 5 is exactly 80% and passes.
        return self.total > 0 and self.correct * 100 >= PASS_MARK * self.total


def score(module: CourseModule, answers: dict[int, int]) -> Score:
    """``answers`` maps a question's place in the file to the chosen option's place."""
    right = sum(1 for index, answer in enumerate(module.answers) if answers.get(index) == answer)
    return Score(right, len(module.answers))


def wrong_questions(module: CourseModule, answers: dict[int, int]) -> set[int]:
    return {index for index, answer in enumerate(module.answers) if answers.get(index) != answer}


def record_attempt(user: User, module: CourseModule, answers: dict[int, int]) -> QuizAttempt:
    """Store a scored attempt; passing the last module issues the certificate."""
    result = score(module, answers)
    attempt = QuizAttempt(
        user_id=user.id,
        school_id=user.school_id,
        module_id=module.id,
        answers={str(question): option for question, option in answers.items()},
        correct=result.correct,
        total=result.total,
        score=result.percent,
        passed=result.passed,
    )
    db.session.add(attempt)
    db.session.flush()
    audit.record(
        "course.quiz",
        attempt,
        school_id=user.school_id,
        module=module.slug,
        score=result.percent,
        passed=result.passed,
    )
    if result.passed:
        issue_certificate(user)
    return attempt


@dataclass(frozen=True)
class ModuleStatus:
    module: CourseModule
    text: ModuleText
    attempts: int
    best: int | None
    passed: bool


def course_status(user: User, locale: str) -> list[ModuleStatus]:
    """Every module in offer with the user's attempts, best score and whether they passed."""
    stats = (
        select(
            QuizAttempt.module_id.label("module_id"),
            func.count(QuizAttempt.id).label("attempts"),
            func.max(QuizAttempt.score).label("best"),
            func.max(QuizAttempt.correct * 100 - QuizAttempt.total * PASS_MARK).label("margin"),
        )
        .where(QuizAttempt.user_id == user.id)
        .group_by(QuizAttempt.module_id)
        .subquery()
    )
    stmt = (
        select(CourseModule, ModuleText, stats.c.attempts, stats.c.best, stats.c.margin)
        .join(
            ModuleText, and_(ModuleText.module_id == CourseModule.id, ModuleText.locale == locale)
        )
        .outerjoin(stats, stats.c.module_id == CourseModule.id)
        .where(CourseModule.retired.is_(False))
        .order_by(CourseModule.position)
    )
    return [
        ModuleStatus(module, text, attempts or 0, best, margin is not None and margin >= 0)
        for module, text, attempts, best, margin in db.session.execute(stmt)
    ]


def has_completed(user: User) -> bool:
    """Passed every module in offer (and there is at least one)."""
    offered = select(CourseModule.id).where(CourseModule.retired.is_(False))
    total = db.session.scalar(select(func.count()).select_from(offered.subquery()))
    passed = db.session.scalar(
        select(func.count(func.distinct(QuizAttempt.module_id))).where(
            QuizAttempt.user_id == user.id,
            QuizAttempt.passed.is_(True),
            QuizAttempt.module_id.in_(offered),
        )
    )
    return bool(total) and passed == total


def certificate_of(user: User) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.user_id == user.id))


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalize_code(text: str) -> str:
    """What a person typed (any case, spaces or dashes, O for 0) as a stored code."""
    cleaned = "".join(ch for ch in (text or "").upper() if ch.isalnum())
    return cleaned.translate(_CONFUSABLE)[: CODE_LENGTH + 4]


def issue_certificate(user: User, today: date | None = None) -> Certificate | None:
    """The user's certificate, made on the day they complete the course; None before that."""
    existing = certificate_of(user)
    if existing is not None or not has_completed(user):
        return existing
    certificate = Certificate(
        user_id=user.id,
        school_id=user.school_id,
        full_name=user.full_name,
        issued_on=today or local_today(),
        code=new_code(),
    )
    db.session.add(certificate)
    db.session.flush()
    audit.record("course.certificate", certificate, school_id=user.school_id)
    return certificate


def find_certificate(text: str) -> Certificate | None:
    code = normalize_code(text)
    if len(code) != CODE_LENGTH:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == code))
