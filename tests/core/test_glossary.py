"""One voice in Kazakh and Russian (issue 18): the glossary's forbidden variants stay out.

The rules live in translations/glossary.toml (explained in translations/GLOSSARY.md). This test
reads the three catalogs and every content file, works out who reads each text (a child, a
parent, staff or an official), and fails on a variant forbidden for that language and reader,
and on a placeholder or a bare number directly before a Kazakh postposition that governs a
case ending («%(date)s дейін», «150 мен 111»).
"""

from __future__ import annotations

import csv
import re
import tomllib
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
GLOSSARY = tomllib.loads((ROOT / "translations" / "glossary.toml").read_text(encoding="utf-8"))
READERS = ("child", "parent", "staff", "official")
LANGS = ("kk", "ru", "en")
CONTENT_DIRS = ("curriculum/content", "insights/content")


@dataclass(frozen=True)
class Text:
    where: str
    lang: str
    reader: str
    text: str
    source: str | None = None  # the English msgid of a catalog entry


@dataclass(frozen=True)
class Rule:
    lang: str
    readers: tuple[str, ...]
    pattern: re.Pattern[str]
    source: re.Pattern[str] | None
    use: str

    def applies_to(self, text: Text) -> bool:
        if text.lang != self.lang or text.reader not in self.readers:
            return False
        if self.source is None:
            return True
        return text.source is not None and bool(self.source.search(text.source))


def rules() -> list[Rule]:
    made = []
    for entry in GLOSSARY["forbid"]:
        readers = tuple(entry.get("readers", READERS))
        assert entry["lang"] in LANGS and set(readers) <= set(READERS), entry
        source = entry.get("source")
        made.append(
            Rule(
                entry["lang"],
                readers,
                re.compile(entry["pattern"], re.IGNORECASE),
                re.compile(source, re.IGNORECASE) if source else None,
                entry["use"],
            )
        )
    return made


def child_msgids() -> set[str]:
    """Every msgid that a child's page or the child's report form shows."""
    keywords = dict(DEFAULT_KEYWORDS, _l=None, lazy_gettext=None, lazy_ngettext=(1, 2))
    ids = set()
    for pattern in GLOSSARY["readers"]["child_sources"]:
        paths = sorted(ROOT.glob(pattern))
        assert paths, f"glossary.toml names a child source that does not exist: {pattern}"
        for path in paths:
            method = "jinja2" if path.suffix == ".html" else "python"
            for _line, message, _comments, _context in extract_from_file(
                method, str(path), keywords=keywords
            ):
                ids.add(message if isinstance(message, str) else message[0])
    with (ROOT / "translations" / "messages.pot").open("rb") as handle:
        every = [m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id]
    for start in GLOSSARY["readers"]["child_messages"]:
        found = [msgid for msgid in every if msgid.startswith(start)]
        assert found, f"glossary.toml names a child message that is not in the catalog: {start}"
        ids.update(found)
    return ids


def catalog_texts() -> list[Text]:
    children = child_msgids()
    texts = []
    for lang in LANGS:
        path = ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        for message in catalog:
            if not message.id:
                continue
            msgid = message.id if isinstance(message.id, str) else message.id[0]
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not any(strings):  # the English catalog leaves msgstr empty: the source is read
                strings = message.id if isinstance(message.id, tuple) else (message.id,)
            readers = ("child",) if msgid in children else ("staff", "official")
            for reader in readers:
                for string in strings:
                    texts.append(
                        Text(f"{lang} catalog: {msgid[:60]!r}", lang, reader, string, msgid)
                    )
    return texts


def _strings(node, lang: str | None, where: str):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, key if key in LANGS else lang, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, lang, f"{where}[{index}]")
    elif isinstance(node, str) and lang:
        yield lang, where, node


def content_reader(relative: str) -> str:
    for pattern, reader in GLOSSARY["readers"]["content"].items():
        if fnmatch(relative, pattern):
            return reader
    raise AssertionError(f"{relative}: glossary.toml does not say who reads it")


def content_files() -> list[Path]:
    return sorted(path for folder in CONTENT_DIRS for path in (ROOT / folder).rglob("*.toml"))


def content_texts() -> list[Text]:
    texts = []
    for path in content_files():
        relative = path.relative_to(ROOT).as_posix()
        reader = content_reader(relative)
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for lang, where, string in _strings(data, None, relative):
            texts.append(Text(where, lang, reader, string))
    return texts


def help_line_texts() -> list[Text]:
    """The help lines' names that every page lists, a child's pages included."""
    with (ROOT / "core" / "data" / "help_numbers.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [
        Text(f"help_numbers.csv {row['number']} name_{lang}", lang, "child", row[f"name_{lang}"])
        for row in rows
        for lang in LANGS
    ]


def all_texts() -> list[Text]:
    return catalog_texts() + content_texts() + help_line_texts()


def postposition_pattern() -> re.Pattern[str]:
    words = "|".join(GLOSSARY["postpositions"]["kk"])
    slot = r"(?:%\(\w+\)[sd]|%[sd]|\{\{?[^{}]*\}\}?|(?<![\w-])\d+(?:[.,]\d+)?)"
    return re.compile(rf"{slot}\s+(?:{words})(?!\w)")


def forbidden_in(texts: list[Text]) -> list[str]:
    problems = []
    for rule in rules():
        for text in texts:
            if rule.applies_to(text) and (found := rule.pattern.search(text.text)):
                problems.append(f"{text.where} [{text.reader}]: «{found[0]}» → {rule.use}")
    return problems


def postpositions_in(texts: list[Text]) -> list[str]:
    pattern = postposition_pattern()
    return [
        f"{text.where}: «{found[0]}» needs a case ending; rephrase"
        for text in texts
        if text.lang == "kk"
        for found in pattern.finditer(text.text)
    ]


def test_every_content_file_has_a_reader():
    files = content_files()
    assert len(files) > 30
    for path in files:
        content_reader(path.relative_to(ROOT).as_posix())


def test_the_childs_pages_are_found():
    children = child_msgids()
    assert "Your secret code" in children and "Verbal abuse" in children
    assert "Save the triage" not in children


@pytest.mark.parametrize(
    ("text", "caught"),
    [
        (Text("t", "kk", "child", "Кодтар %(date)s дейін жарамды."), True),
        (Text("t", "kk", "child", "150 мен 111 нөмірлері"), True),
        (Text("t", "kk", "child", "1-ден 4-ке дейінгі сандар"), False),
        (Text("t", "kk", "child", "%(count)d файлға дейін"), False),
        (Text("t", "kk", "child", "Мерзімі: %(date)s."), False),
    ],
)
def test_the_postposition_rule_catches_a_bare_slot(text, caught):
    assert bool(postpositions_in([text])) is caught


@pytest.mark.parametrize(
    ("text", "caught"),
    [
        (Text("t", "kk", "staff", "Оқушы түбіртек коды арқылы оқиды"), True),
        (Text("t", "en", "child", "Keep your receipt code"), True),
        (Text("t", "en", "staff", "The student's receipt code"), False),
        (Text("t", "kk", "staff", "Кезең", source="Wave"), True),
        (Text("t", "kk", "staff", "Кезең", source="Period"), False),
        (Text("t", "ru", "child", "Спасибо, что ты рассказал нам"), True),
        (Text("t", "ru", "child", "Спасибо, что ты рассказал(а) нам"), False),
        (Text("t", "ru", "staff", "Новые сообщения", source="New reports"), True),
        (Text("t", "ru", "staff", "Сообщение", source="Message"), False),
    ],
)
def test_a_forbidden_variant_is_caught_for_its_reader_only(text, caught):
    assert bool(forbidden_in([text])) is caught


def test_help_lines_lead_with_plain_words_then_the_official_name():
    names = {text.where: text.text for text in help_line_texts()}
    for number, by_lang in GLOSSARY["help_lines"].items():
        for lang, (plain, official) in by_lang.items():
            name = names[f"help_numbers.csv {number} name_{lang}"]
            assert name.startswith(plain) and name.endswith(official), (number, lang, name)


def test_catalogs_and_content_use_no_forbidden_variant():
    problems = forbidden_in(all_texts())
    assert problems == [], f"{len(problems)} forbidden variants:\n" + "\n".join(problems)


def test_no_placeholder_or_number_before_a_kazakh_postposition():
    problems = postpositions_in(all_texts())
    assert problems == [], f"{len(problems)} bare slots:\n" + "\n".join(problems)
