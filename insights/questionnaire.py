"""The climate survey's questions, read from ``content/survey.toml`` (kk, ru and en).

The wording for children lives in that file, next to each other in the three languages, so a
translator sees the whole question; the staff-facing names of the measures are in the catalogs
(``INDICATORS`` below).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from flask_babel import lazy_gettext as _l

from core.i18n import LOCALES, current_locale
from insights.models import SurveyVersion

CONTENT = Path(__file__).parent / "content" / "survey.toml"
VERSIONS = tuple(version.value for version in SurveyVersion)

Texts = dict[str, str]  # locale -> text


def _pick(texts: Texts, locale: str | None = None) -> str:
    return texts.get(locale or current_locale()) or texts["ru"]


@dataclass(frozen=True)
class Scale:
    key: str
    positive_from: int
    labels: dict[str, dict[str, list[str]]]  # version -> locale -> option labels

    def choices(self, version: str, locale: str | None = None) -> list[tuple[int, str]]:
        by_locale = self.labels[version]
        return list(enumerate(by_locale.get(locale or current_locale()) or by_locale["ru"]))


@dataclass(frozen=True)
class Option:
    key: str
    texts: dict[str, Texts]  # version -> locale -> text

    def text(self, version: str, locale: str | None = None) -> str:
        return _pick(self.texts[version], locale)


@dataclass(frozen=True)
class Question:
    key: str
    scale: str  # a key of ``scales``, or "check" (tick boxes: one item per option)
    texts: dict[str, Texts]
    options: tuple[Option, ...] = ()

    def asked_in(self, version: str) -> bool:
        return version in self.texts

    def text(self, version: str, locale: str | None = None) -> str:
        return _pick(self.texts[version], locale)


@dataclass(frozen=True)
class Section:
    key: str
    title: Texts | None
    leads: dict[str, Texts]
    questions: tuple[Question, ...]

    def lead(self, version: str, locale: str | None = None) -> str:
        return _pick(self.leads[version], locale) if version in self.leads else ""

    def heading(self, locale: str | None = None) -> str:
        return _pick(self.title, locale) if self.title else ""

    def questions_in(self, version: str) -> list[Question]:
        return [q for q in self.questions if q.asked_in(version)]


@dataclass(frozen=True)
class Questionnaire:
    scales: dict[str, Scale]
    titles: dict[str, Texts]
    intros: dict[str, Texts]
    sections: tuple[Section, ...]
    # item key -> (allowed values, first value that counts towards the share)
    items: dict[str, tuple[frozenset[int], int]] = field(default_factory=dict)

    def title(self, version: str, locale: str | None = None) -> str:
        return _pick(self.titles[version], locale)

    def intro(self, version: str, locale: str | None = None) -> str:
        return _pick(self.intros[version], locale)

    def sections_in(self, version: str) -> list[Section]:
        return [s for s in self.sections if s.questions_in(version)]

    def items_in(self, version: str) -> list[str]:
        keys = []
        for section in self.sections_in(version):
            for question in section.questions_in(version):
                keys.extend(o.key for o in question.options if version in o.texts)
                if question.scale != "check":
                    keys.append(question.key)
        return keys


def _texts(table: dict, where: str) -> Texts:
    missing = [code for code in LOCALES if not str(table.get(code, "")).strip()]
    if missing:
        raise ValueError(f"survey.toml: {where} lacks {', '.join(missing)}")
    return {code: table[code].strip() for code in LOCALES}


def _versioned(table: dict, where: str) -> dict[str, Texts]:
    return {v: _texts(table[v], f"{where}.{v}") for v in VERSIONS if v in table}


def parse(data: dict) -> Questionnaire:
    scales = {}
    for key, table in data["scales"].items():
        labels = {}
        for version in VERSIONS:
            by_locale = {code: table[version][code] for code in LOCALES}
            if len({len(options) for options in by_locale.values()}) != 1:
                raise ValueError(f"survey.toml: scale {key}.{version} differs between languages")
            labels[version] = by_locale
        scales[key] = Scale(key, table["positive_from"], labels)
    items: dict[str, tuple[frozenset[int], int]] = {}
    sections = []
    for s in data["sections"]:
        questions = []
        for q in s["questions"]:
            where = f"question {q['key']}"
            options = tuple(
                Option(o["key"], _versioned(o, f"{where} option {o['key']}"))
                for o in q.get("options", ())
            )
            if q["scale"] == "check":
                for option in options:
                    items[option.key] = (frozenset({1}), 1)
            else:
                scale = scales[q["scale"]]
                size = len(scale.labels["full"]["en"])
                items[q["key"]] = (frozenset(range(size)), scale.positive_from)
            questions.append(Question(q["key"], q["scale"], _versioned(q, where), options))
        title = _texts(s["title"], f"section {s['key']}") if "title" in s else None
        leads = _versioned(s.get("lead", {}), f"section {s['key']} lead")
        sections.append(Section(s["key"], title, leads, tuple(questions)))
    versions = data["versions"]
    return Questionnaire(
        scales=scales,
        titles={v: _texts(versions[v]["title"], f"{v} title") for v in VERSIONS},
        intros={v: _texts(versions[v]["intro"], f"{v} intro") for v in VERSIONS},
        sections=tuple(sections),
        items=items,
    )


@cache
def questionnaire() -> Questionnaire:
    with CONTENT.open("rb") as handle:
        return parse(tomllib.load(handle))


# What staff read in the results: the measure behind each item (a share of the answers).
FORMS = (
    "verbal",
    "exclusion",
    "physical",
    "rumours",
    "belongings",
    "threats",
    "discrimination",
    "sexual",
    "online",
)
FORM_TITLES = {
    "verbal": _l("Names, mockery, insults"),
    "exclusion": _l("Being left out or ignored"),
    "physical": _l("Hitting, kicking, pushing"),
    "rumours": _l("Lies and rumours"),
    "belongings": _l("Money or things taken or damaged"),
    "threats": _l("Threats and coercion"),
    "discrimination": _l("Mockery for language, nationality, religion, looks, health or family"),
    "sexual": _l("Sexual harassment, unwanted touching"),
    "online": _l("Online (cyberbullying)"),
}

INDICATOR_GROUPS = (
    (
        "victimization",
        _l("Was bullied or hurt (2-3 times a month or more)"),
        ["victim"] + [f"v_{form}" for form in FORMS],
    ),
    ("by_whom", _l("Who did it (share of all who answered)"), ["by_students", "by_adults"]),
    (
        "perpetration",
        _l("Bullied or hurt others (2-3 times a month or more)"),
        ["perpetrator"] + [f"p_{form}" for form in FORMS],
    ),
    ("climate", _l("School climate"), ["feel_safe", "would_tell", "knows_report"]),
)

INDICATOR_TITLES = {
    "victim": _l("Any form (overall question)"),
    "perpetrator": _l("Any form (overall question)"),
    "by_students": _l("Hurt by students"),
    "by_adults": _l("Hurt by adults at school"),
    "feel_safe": _l("Feel safe at school often or always"),
    "would_tell": _l("Would tell an adult at school"),
    "knows_report": _l("Know how to report"),
    **{f"v_{form}": title for form, title in FORM_TITLES.items()},
    **{f"p_{form}": title for form, title in FORM_TITLES.items()},
}
# Tick-box items: the share is of everyone who answered the survey, not of those who ticked.
CHECK_ITEMS = frozenset({"by_students", "by_adults"})
