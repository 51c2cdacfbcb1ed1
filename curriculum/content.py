"""The program's content files: read, validate and hold them as plain data.

One file though over 400 lines: the content's data classes and the check of each kind of file are
one schema; apart, a field's type and its check would live in two places.

Reviewers edit one TOML file per lesson, course module, leaflet or public page under
``curriculum/content/``. Each file carries its text in Kazakh, Russian and English. Everything is
checked before anything is stored; every problem names the file and the field, so that a content
writer can fix it without reading code (``flask --app app curriculum check``).
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from school.models import GradeBand

LANGUAGES = ("kk", "ru", "en")
BANDS = tuple(band.value for band in GradeBand)
THEMES = (
    "feelings",
    "empathy",
    "communication",
    "conflict",
    "assertiveness",
    "forms_of_violence",
    "bystanders",
    "help_seeking",
    "online_safety",
    "coping",
    "diversity",
)
AUDIENCES = ("parents", "children", "public")
LESSON_MINUTES = (40, 45)  # a school lesson or a class hour in Kazakhstan
HANDOUT_MAX_CHARS = 2200  # beyond this the handout no longer fits one A4 page
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CONTENT_ROOT = Path(__file__).parent / "content"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one file: ``lessons/x.toml: ru.steps: ...``."""

    path: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.field}: {self.message}"


class ContentError(Exception):
    """Raised with every problem found, so that one run shows all of them."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


@dataclass(frozen=True)
class Step:
    minutes: int
    title: str
    body: str


@dataclass(frozen=True)
class LessonText:
    title: str
    summary: str
    objectives: tuple[str, ...]
    materials: tuple[str, ...]
    questions: tuple[str, ...]
    disclosure_note: str
    handout_title: str
    handout: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class LessonFile:
    slug: str
    band: str
    theme: str
    order: int
    duration: int
    texts: dict[str, LessonText]
    digest: str

    @property
    def step_minutes(self) -> list[int]:
        return [step.minutes for step in self.texts["kk"].steps]


@dataclass(frozen=True)
class Question:
    text: str
    options: tuple[str, ...]
    explain: str


@dataclass(frozen=True)
class ModuleText:
    title: str
    summary: str
    reading: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class ModuleFile:
    slug: str
    order: int
    minutes: int
    answers: tuple[int, ...]
    texts: dict[str, ModuleText]
    digest: str


@dataclass(frozen=True)
class PageText:
    title: str
    summary: str
    body: str


@dataclass(frozen=True)
class PageFile:
    """A parent leaflet or a public awareness page."""

    kind: str  # "leaflet" | "awareness"
    slug: str
    order: int
    audience: str
    texts: dict[str, PageText]
    digest: str


@dataclass
class Library:
    lessons: list[LessonFile] = field(default_factory=list)
    modules: list[ModuleFile] = field(default_factory=list)
    leaflets: list[PageFile] = field(default_factory=list)
    pages: list[PageFile] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lessons) + len(self.modules) + len(self.leaflets) + len(self.pages)


# --- checking one file ------------------------------------------------------------------------


class _Checker:
    """Collects the problems of one file; helpers return a safe value so checking goes on."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[Problem] = []

    def fail(self, name: str, message: str) -> None:
        self.problems.append(Problem(self.path, name, message))

    def text(self, table: dict, key: str, name: str) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail(name, "missing or empty text")
            return ""
        return value.strip()

    def integer(self, table: dict, key: str, name: str, low: int, high: int) -> int:
        value = table.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, "missing or not a whole number")
            return 0
        if not low <= value <= high:
            self.fail(name, f"must be between {low} and {high}, not {value}")
        return value

    def choice(self, table: dict, key: str, allowed: Iterable[str]) -> str:
        value = table.get(key)
        allowed = tuple(allowed)
        if value not in allowed:
            shown = "missing" if value is None else f"unknown value {value!r}"
            self.fail(key, f"{shown}; expected one of {', '.join(allowed)}")
            return ""
        return value

    def texts(self, table: dict, key: str, name: str, low: int = 1) -> tuple[str, ...]:
        value = table.get(key)
        if not isinstance(value, list) or len(value) < low:
            self.fail(name, f"needs a list of at least {low} text(s)")
            return ()
        items = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.fail(f"{name}[{i}]", "missing or empty text")
            else:
                items.append(item.strip())
        return tuple(items)

    def tables(self, table: dict, key: str, name: str) -> list[dict]:
        value = table.get(key)
        if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
            self.fail(name, "needs at least one entry")
            return []
        return value

    def known_keys(self, table: dict, allowed: Iterable[str], prefix: str = "") -> None:
        for key in table:
            if key not in allowed:
                self.fail(f"{prefix}{key}", "unknown field (a typo?)")

    def language(self, data: dict, lang: str) -> dict | None:
        value = data.get(lang)
        if not isinstance(value, dict):
            self.fail(lang, "missing language")
            return None
        return value

    def slug(self, data: dict, stem: str) -> str:
        slug = data.get("slug")
        if not isinstance(slug, str) or not SLUG.match(slug):
            self.fail("slug", "missing, or not lowercase letters, digits and dashes")
            return stem
        if slug != stem:
            self.fail("slug", f"must be the file name without .toml ({stem!r}), not {slug!r}")
        return slug


def _read(path: Path, shown: str) -> tuple[dict | None, list[Problem]]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), []
    except UnicodeDecodeError:
        return None, [Problem(shown, "(file)", "not UTF-8 text")]
    except tomllib.TOMLDecodeError as error:
        return None, [Problem(shown, "(syntax)", str(error))]


def _digest(data: dict) -> str:
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


LESSON_KEYS = ("slug", "band", "theme", "order", "duration", *LANGUAGES)
LESSON_TEXT_KEYS = (
    "title",
    "summary",
    "objectives",
    "materials",
    "questions",
    "disclosure_note",
    "handout_title",
    "handout",
    "steps",
)


def check_lesson(data: dict, path: str, stem: str) -> tuple[LessonFile | None, list[Problem]]:
    c = _Checker(path)
    c.known_keys(data, LESSON_KEYS)
    slug = c.slug(data, stem)
    band = c.choice(data, "band", BANDS)
    theme = c.choice(data, "theme", THEMES)
    order = c.integer(data, "order", "order", 1, 99)
    duration = data.get("duration")
    if duration not in LESSON_MINUTES or isinstance(duration, bool):
        c.fail("duration", f"must be 40 or 45 minutes, not {duration!r}")
        duration = 0
    texts: dict[str, LessonText] = {}
    reference: tuple[str, list[int]] | None = None
    for lang in LANGUAGES:
        table = c.language(data, lang)
        if table is None:
            continue
        c.known_keys(table, LESSON_TEXT_KEYS, f"{lang}.")
        steps = []
        for i, raw in enumerate(c.tables(table, "steps", f"{lang}.steps")):
            c.known_keys(raw, ("minutes", "title", "body"), f"{lang}.steps[{i}].")
            steps.append(
                Step(
                    minutes=c.integer(raw, "minutes", f"{lang}.steps[{i}].minutes", 1, 45),
                    title=c.text(raw, "title", f"{lang}.steps[{i}].title"),
                    body=c.text(raw, "body", f"{lang}.steps[{i}].body"),
                )
            )
        minutes = [step.minutes for step in steps]
        if steps and duration and sum(minutes) != duration:
            c.fail(
                f"{lang}.steps", f"minutes add up to {sum(minutes)}, not the duration {duration}"
            )
        if steps and reference is None:
            reference = (lang, minutes)
        elif steps and reference and minutes != reference[1]:
            c.fail(
                f"{lang}.steps",
                f"minutes {minutes} differ from {reference[0]}.steps {reference[1]}",
            )
        handout = c.text(table, "handout", f"{lang}.handout")
        if len(handout) > HANDOUT_MAX_CHARS:
            c.fail(
                f"{lang}.handout",
                f"{len(handout)} characters do not fit one page (at most {HANDOUT_MAX_CHARS})",
            )
        texts[lang] = LessonText(
            title=c.text(table, "title", f"{lang}.title"),
            summary=c.text(table, "summary", f"{lang}.summary"),
            objectives=c.texts(table, "objectives", f"{lang}.objectives"),
            materials=c.texts(table, "materials", f"{lang}.materials"),
            questions=c.texts(table, "questions", f"{lang}.questions"),
            disclosure_note=c.text(table, "disclosure_note", f"{lang}.disclosure_note"),
            handout_title=c.text(table, "handout_title", f"{lang}.handout_title"),
            handout=handout,
            steps=tuple(steps),
        )
    if c.problems:
        return None, c.problems
    lesson = LessonFile(slug, band, theme, order, duration, texts, _digest(data))
    return lesson, []


MODULE_KEYS = ("slug", "order", "minutes", "answers", *LANGUAGES)


def check_module(data: dict, path: str, stem: str) -> tuple[ModuleFile | None, list[Problem]]:
    c = _Checker(path)
    c.known_keys(data, MODULE_KEYS)
    slug = c.slug(data, stem)
    order = c.integer(data, "order", "order", 1, 99)
    minutes = c.integer(data, "minutes", "minutes", 1, 240)
    answers = data.get("answers")
    if (
        not isinstance(answers, list)
        or not answers
        or not all(isinstance(a, int) and not isinstance(a, bool) and a >= 0 for a in answers)
    ):
        c.fail("answers", "needs a list of option numbers (0 is the first option)")
        answers = []
    texts: dict[str, ModuleText] = {}
    reference: tuple[str, list[int]] | None = None
    for lang in LANGUAGES:
        table = c.language(data, lang)
        if table is None:
            continue
        c.known_keys(table, ("title", "summary", "reading", "questions"), f"{lang}.")
        raw_questions = c.tables(table, "questions", f"{lang}.questions")
        if raw_questions and answers and len(raw_questions) != len(answers):
            c.fail(
                f"{lang}.questions",
                f"{len(raw_questions)} questions, but answers has {len(answers)} entries",
            )
        questions = []
        for i, raw in enumerate(raw_questions):
            name = f"{lang}.questions[{i}]"
            c.known_keys(raw, ("text", "options", "explain"), f"{name}.")
            options = c.texts(raw, "options", f"{name}.options", low=2)
            if i < len(answers) and options and answers[i] >= len(options):
                c.fail(
                    f"{name}.options",
                    f"answers[{i}] = {answers[i]} but there are only {len(options)} options",
                )
            questions.append(
                Question(
                    text=c.text(raw, "text", f"{name}.text"),
                    options=options,
                    explain=c.text(raw, "explain", f"{name}.explain"),
                )
            )
        shape = [len(q.options) for q in questions]
        if questions and reference is None:
            reference = (lang, shape)
        elif questions and reference and shape != reference[1]:
            c.fail(
                f"{lang}.questions",
                f"option counts {shape} differ from {reference[0]}.questions {reference[1]}",
            )
        texts[lang] = ModuleText(
            title=c.text(table, "title", f"{lang}.title"),
            summary=c.text(table, "summary", f"{lang}.summary"),
            reading=c.text(table, "reading", f"{lang}.reading"),
            questions=tuple(questions),
        )
    if c.problems:
        return None, c.problems
    return ModuleFile(slug, order, minutes, tuple(answers), texts, _digest(data)), []


PAGE_KEYS = ("slug", "order", "audience", *LANGUAGES)


def _page_checker(kind: str) -> Callable[[dict, str, str], tuple[PageFile | None, list[Problem]]]:
    def check(data: dict, path: str, stem: str) -> tuple[PageFile | None, list[Problem]]:
        c = _Checker(path)
        c.known_keys(data, PAGE_KEYS)
        slug = c.slug(data, stem)
        order = c.integer(data, "order", "order", 1, 99)
        audience = c.choice(data, "audience", AUDIENCES)
        texts = {}
        for lang in LANGUAGES:
            table = c.language(data, lang)
            if table is None:
                continue
            c.known_keys(table, ("title", "summary", "body"), f"{lang}.")
            texts[lang] = PageText(
                title=c.text(table, "title", f"{lang}.title"),
                summary=c.text(table, "summary", f"{lang}.summary"),
                body=c.text(table, "body", f"{lang}.body"),
            )
        if c.problems:
            return None, c.problems
        return PageFile(kind, slug, order, audience, texts, _digest(data)), []

    return check


# --- the whole library ------------------------------------------------------------------------

FOLDERS: dict[str, Callable] = {
    "lessons": check_lesson,
    "course": check_module,
    "leaflets": _page_checker("leaflet"),
    "awareness": _page_checker("awareness"),
}


def _signature(root: Path) -> tuple:
    """What the cache key is made of: every content file's name, size and change time."""
    return tuple(
        (str(path), stat.st_size, stat.st_mtime_ns)
        for path in sorted(root.glob("*/*.toml"))
        for stat in (path.stat(),)
    )


_cache: dict[Path, tuple[tuple, Library]] = {}


def load_library(root: Path | str | None = None) -> Library:
    """Read and check every content file under ``root``; raise ContentError listing all problems.

    The result is kept in memory until a file changes, is added or removed.
    """
    root = Path(root or CONTENT_ROOT).resolve()
    signature = _signature(root)
    cached = _cache.get(root)
    if cached and cached[0] == signature:
        return cached[1]
    library, problems = Library(), []
    buckets = {
        "lessons": library.lessons,
        "course": library.modules,
        "leaflets": library.leaflets,
        "awareness": library.pages,
    }
    for folder, check in FOLDERS.items():
        for path in sorted((root / folder).glob("*.toml")):
            shown = f"{folder}/{path.name}"
            data, found = _read(path, shown)
            if data is not None:
                item, found = check(data, shown, path.stem)
                if item is not None:
                    buckets[folder].append(item)
            problems.extend(found)
    problems.extend(_duplicates(library))
    if problems:
        raise ContentError(problems)
    library.lessons.sort(key=lambda lesson: (BANDS.index(lesson.band), lesson.order))
    for items in (library.modules, library.leaflets, library.pages):
        items.sort(key=lambda item: (item.order, item.slug))
    _cache[root] = (signature, library)
    return library


def _duplicates(library: Library) -> list[Problem]:
    """Two lessons of one band may not share a place in its order; nor two modules."""
    problems = []
    seen: dict[tuple, str] = {}
    for lesson in library.lessons:
        key = ("lesson", lesson.band, lesson.order)
        if key in seen:
            problems.append(
                Problem(
                    f"lessons/{lesson.slug}.toml",
                    "order",
                    f"band {lesson.band} already has order {lesson.order} in {seen[key]}",
                )
            )
        seen[key] = f"lessons/{lesson.slug}.toml"
    for module in library.modules:
        key = ("module", module.order)
        if key in seen:
            problems.append(
                Problem(
                    f"course/{module.slug}.toml",
                    "order",
                    f"order {module.order} is already used by {seen[key]}",
                )
            )
        seen[key] = f"course/{module.slug}.toml"
    return problems


def as_data(obj: Any) -> Any:
    """A content item's text as plain JSON-ready data (for the database's JSON columns)."""
    if isinstance(obj, tuple | list):
        return [as_data(item) for item in obj]
    if hasattr(obj, "__dataclass_fields__"):
        return {name: as_data(getattr(obj, name)) for name in obj.__dataclass_fields__}
    return obj
