"""Helpers for curriculum tests: load the content, write small content files, log lessons."""

from __future__ import annotations

import io
import textwrap
from datetime import date
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from curriculum import services
from curriculum.content import load_library
from curriculum.loader import load_content
from curriculum.models import CourseModule, Delivery, Lesson
from extensions import db
from school.models import Classroom, User


def load_real_content() -> None:
    load_content(load_library())
    db.session.commit()


def lesson(band: str = "5-9", position: int = 1) -> Lesson:
    return db.session.scalar(select(Lesson).where(Lesson.band == band, Lesson.position == position))


def modules() -> list[CourseModule]:
    return list(
        db.session.scalars(
            select(CourseModule)
            .where(CourseModule.retired.is_(False))
            .order_by(CourseModule.position)
        )
    )


def deliver(
    classroom: Classroom,
    lesson_: Lesson,
    teacher: User,
    *,
    minutes: int | None = None,
    steps: list[int] | None = None,
    on: date = date(2026, 10, 1),
) -> Delivery:
    made = services.log_delivery(
        classroom=classroom,
        lesson=lesson_,
        teacher=teacher,
        delivered_on=on,
        language=classroom.language,
        minutes_used=minutes if minutes is not None else lesson_.duration,
        students_present=25,
        steps_done=steps if steps is not None else list(range(lesson_.step_count)),
    )
    db.session.commit()
    return made


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


# --- small content files for validation tests --------------------------------------------------

STEP = '[[{lang}.steps]]\nminutes = {minutes}\ntitle = "Step"\nbody = "Do it."\n'


def lesson_toml(
    slug: str = "5-9-01-test",
    *,
    band: str = "5-9",
    theme: str = "feelings",
    order: int = 1,
    duration: int = 40,
    languages: tuple[str, ...] = ("kk", "ru", "en"),
    minutes: dict[str, list[int]] | None = None,
    handout: dict[str, str] | None = None,
    extra: str = "",
) -> str:
    parts = [
        f'slug = "{slug}"\nband = "{band}"\ntheme = "{theme}"\norder = {order}\n'
        f"duration = {duration}\n{extra}\n"
    ]
    for lang in languages:
        body = (handout or {}).get(lang, f"Task ________ ({lang}). 150, 111.")
        parts.append(
            textwrap.dedent(
                f"""
                [{lang}]
                title = "Title {lang}"
                summary = "Summary {lang}"
                objectives = ["Objective"]
                materials = ["Paper"]
                questions = ["Why?"]
                disclosure_note = "Stay calm and listen."
                handout_title = "Handout {lang}"
                handout = \"\"\"{body}\"\"\"
                """
            )
        )
        for value in (minutes or {}).get(lang, [10, 20, 10] if duration == 40 else [10, 25, 10]):
            parts.append(STEP.format(lang=lang, minutes=value))
    return "\n".join(parts)


def module_toml(
    slug: str = "01-test",
    *,
    answers: str = "[1, 0]",
    questions: dict[str, int] | None = None,
    options: dict[str, int] | None = None,
) -> str:
    parts = [f'slug = "{slug}"\norder = 1\nminutes = 10\nanswers = {answers}\n']
    for lang in ("kk", "ru", "en"):
        parts.append(f'[{lang}]\ntitle = "Module {lang}"\nsummary = "S"\nreading = "Read this."\n')
        count = (options or {}).get(lang, 3)
        for i in range((questions or {}).get(lang, 2)):
            opts = ", ".join(f'"Option {i}.{n} {lang}"' for n in range(count))
            parts.append(
                f'[[{lang}.questions]]\ntext = "Question {i} {lang}"\noptions = [{opts}]\n'
                f'explain = "Because."\n'
            )
    return "\n".join(parts)


def page_toml(slug: str, audience: str = "parents", order: int = 1) -> str:
    parts = [f'slug = "{slug}"\norder = {order}\naudience = "{audience}"\n']
    for lang in ("kk", "ru", "en"):
        parts.append(
            f'[{lang}]\ntitle = "Page {lang}"\nsummary = "S {lang}"\nbody = "Body {lang}"\n'
        )
    return "\n".join(parts)


def write(root: Path, folder: str, name: str, text: str) -> Path:
    path = root / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
