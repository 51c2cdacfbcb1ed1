"""Store the checked content files in the database, idempotently.

A row is matched by its slug and rewritten only when its file's digest changed; a file that is
gone leaves its row in place, marked retired, because deliveries, quiz attempts and certificates
point at it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import select

from core.model_types import utcnow
from curriculum.content import (
    LANGUAGES,
    LessonFile,
    Library,
    ModuleFile,
    PageFile,
    as_data,
)
from curriculum.models import (
    Audience,
    CourseModule,
    InfoPage,
    InfoPageText,
    Lesson,
    LessonText,
    ModuleText,
    PageKind,
    Theme,
)
from extensions import db


@dataclass
class LoadReport:
    counts: Counter = field(default_factory=Counter)

    def add(self, kind: str, outcome: str) -> None:
        self.counts[(kind, outcome)] += 1

    def lines(self) -> list[str]:
        kinds = ("lessons", "modules", "leaflets", "pages")
        outcomes = ("added", "updated", "unchanged", "retired")
        return [
            f"{kind}: " + ", ".join(f"{self.counts[(kind, o)]} {o}" for o in outcomes)
            for kind in kinds
        ]


def items(library: Library) -> Iterator[tuple[str, object]]:
    """Every content item in load order, with the kind it is counted under."""
    yield from (("lessons", lesson) for lesson in library.lessons)
    yield from (("modules", module) for module in library.modules)
    yield from (("leaflets", page) for page in library.leaflets)
    yield from (("pages", page) for page in library.pages)


def load_content(library: Library, progress: Callable[[], None] | None = None) -> LoadReport:
    """Store ``library``; call ``progress`` after each item. The caller commits."""
    report = LoadReport()
    lessons = {row.slug: row for row in db.session.scalars(select(Lesson))}
    modules = {row.slug: row for row in db.session.scalars(select(CourseModule))}
    pages = {(row.kind, row.slug): row for row in db.session.scalars(select(InfoPage))}
    seen: set[tuple[str, str]] = set()
    for kind, item in items(library):
        if isinstance(item, LessonFile):
            outcome = _store_lesson(item, lessons.get(item.slug))
            seen.add(("lessons", item.slug))
        elif isinstance(item, ModuleFile):
            outcome = _store_module(item, modules.get(item.slug))
            seen.add(("modules", item.slug))
        else:
            assert isinstance(item, PageFile)  # noqa: S101 - items() yields only these kinds
            outcome = _store_page(item, pages.get((PageKind(item.kind), item.slug)))
            seen.add((kind, item.slug))
        report.add(kind, outcome)
        if progress:
            progress()
    for kind, rows in (
        ("lessons", lessons.values()),
        ("modules", modules.values()),
        ("leaflets", [p for p in pages.values() if p.kind == PageKind.leaflet]),
        ("pages", [p for p in pages.values() if p.kind == PageKind.awareness]),
    ):
        for row in rows:
            if (kind, row.slug) not in seen and not row.retired:
                row.retired = True
                report.add(kind, "retired")
    db.session.flush()
    return report


def _outcome(row: object | None, digest: str) -> str | None:
    if row is None:
        return "added"
    if row.digest == digest and not row.retired:  # type: ignore[attr-defined]
        return None
    return "updated"


def _texts(existing: list, factory: Callable, values: dict) -> list:
    """Update the rows of each language in place (their ids stay), add the missing ones."""
    by_locale = {text.locale: text for text in existing}
    result = []
    for lang in LANGUAGES:
        text = by_locale.get(lang) or factory(locale=lang)
        for name, value in values[lang].items():
            setattr(text, name, value)
        result.append(text)
    return result


def _store_lesson(item: LessonFile, row: Lesson | None) -> str:
    outcome = _outcome(row, item.digest)
    if outcome is None:
        return "unchanged"
    if row is None:
        row = Lesson(slug=item.slug)
        db.session.add(row)
    row.band, row.theme, row.position = item.band, Theme(item.theme), item.order
    row.duration, row.step_count = item.duration, len(item.step_minutes)
    row.digest, row.retired, row.updated_at = item.digest, False, utcnow()
    values = {}
    for lang, text in item.texts.items():
        body = as_data(text)
        title, summary = body.pop("title"), body.pop("summary")
        values[lang] = {
            "title": title,
            "summary": summary,
            "search": f"{title}\n{summary}".casefold(),
            "body": body,
        }
    row.texts = _texts(row.texts, LessonText, values)
    return outcome


def _store_module(item: ModuleFile, row: CourseModule | None) -> str:
    outcome = _outcome(row, item.digest)
    if outcome is None:
        return "unchanged"
    if row is None:
        row = CourseModule(slug=item.slug)
        db.session.add(row)
    row.position, row.minutes, row.answers = item.order, item.minutes, list(item.answers)
    row.digest, row.retired, row.updated_at = item.digest, False, utcnow()
    values = {lang: as_data(text) for lang, text in item.texts.items()}
    row.texts = _texts(row.texts, ModuleText, values)
    return outcome


def _store_page(item: PageFile, row: InfoPage | None) -> str:
    outcome = _outcome(row, item.digest)
    if outcome is None:
        return "unchanged"
    if row is None:
        row = InfoPage(kind=PageKind(item.kind), slug=item.slug)
        db.session.add(row)
    row.position, row.audience = item.order, Audience(item.audience)
    row.digest, row.retired, row.updated_at = item.digest, False, utcnow()
    values = {lang: as_data(text) for lang, text in item.texts.items()}
    row.texts = _texts(row.texts, InfoPageText, values)
    return outcome
