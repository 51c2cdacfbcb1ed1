"""Alphabetical order in the reader's language: Kazakh, Russian or English.

Python's ``sorted`` orders by code point, so Kazakh letters (Ә, Ғ, Қ, Ң, Ө, Ұ, Ү, Һ, І) land
after Я and «Атырау» comes before «Ақмола». Babel has no collation, and PyICU needs the ICU
library and a compiler on every machine; the names we sort (regions, schools, classes) are
Kazakh, Russian or Latin, so one small key covers them, with CLDR's order for each language:

- Kazakh: А Ә Б В Г Ғ Д Е Ё Ж З И Й К Қ Л М Н Ң О Ө П Р С Т У Ұ Ү Ф Х Һ Ц Ч Ш Щ Ъ Ы І Ь Э Ю Я;
- Russian: its 33 letters, the Kazakh ones after their nearest Russian letter (as CLDR's root);
- Cyrillic before Latin in Kazakh and Russian, Latin first in English;
- Ё sorts as Е, then after it on a tie; letter case and accents decide only ties;
- digits by their value («№ 2» before «№ 10»), before letters; spaces and signs before digits.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TypeVar

KAZAKH = "аәбвгғдежзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя"
RUSSIAN = "аәбвгғдежзийіклмнңоөпрстуұүфхһцчшщъыьэюя"
# Secondary differences: a letter sorts as its base, and after it on a tie.
AS_BASE = {"ё": "е", "ї": "і"}

_SIGN, _DIGIT, _FIRST, _SECOND, _OTHER = range(5)
_RUN = re.compile(r"[0-9]+|.", re.DOTALL)

T = TypeVar("T")


def _alphabet(locale: str) -> str:
    return KAZAKH if locale == "kk" else RUSSIAN


def sort_key(text: str, locale: str | None = None) -> tuple:
    """A key that orders ``text`` as a reader of ``locale`` expects (the current locale when
    not given)."""
    if locale is None:
        from core.i18n import current_locale

        locale = current_locale()
    return _key(text, locale)


# The same names (a region's ~700 schools) are sorted on every page view: their keys are kept.
@lru_cache(maxsize=32768)
def _key(text: str, locale: str) -> tuple:
    alphabet = _alphabet(locale)
    cyrillic, latin = (_SECOND, _FIRST) if locale == "en" else (_FIRST, _SECOND)
    primary: list[tuple[int, int]] = []
    secondary: list[int] = []
    tertiary: list[int] = []
    for run in _RUN.findall(text):
        if run[0] in "0123456789":
            primary.append((_DIGIT, int(run)))
            continue
        lower = run.lower()
        base = AS_BASE.get(lower, lower)
        secondary.append(0 if base == lower else 1)
        tertiary.append(0 if run == lower else 1)
        if base in alphabet:
            primary.append((cyrillic, alphabet.index(base)))
            continue
        plain = unicodedata.normalize("NFD", base)[:1]
        if "a" <= plain <= "z":
            primary.append((latin, ord(plain)))
            secondary[-1] = 0 if plain == base else 1
        elif not run.isalnum():
            primary.append((_SIGN, ord(run)))
        else:
            primary.append((_OTHER, ord(base)))
    return (tuple(primary), tuple(secondary), tuple(tertiary), text)


def collated(items: Iterable[T], key: Callable[[T], str], locale: str | None = None) -> list[T]:
    """``items`` in the alphabetical order of ``key(item)`` in ``locale``."""
    if locale is None:
        from core.i18n import current_locale

        locale = current_locale()
    return sorted(items, key=lambda item: sort_key(key(item), locale))
