"""Alphabetical order in the reader's language (issue 20: «Атырау» came before «Ақмола», and the
Kazakh letters after Я)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.collation import KAZAKH, collated, sort_key


def order(names: list[str], locale: str) -> list[str]:
    return collated(names, key=str, locale=locale)


def test_kazakh_letters_sort_in_their_places_of_the_kazakh_alphabet():
    assert order(["Атырау", "Ақмола", "Алматы", "Абай"], "kk") == [
        "Абай",
        "Ақмола",
        "Алматы",
        "Атырау",
    ]
    # Each Kazakh letter right after its neighbour in the alphabet, never after Я.
    pairs = ["Аа", "Әа", "Га", "Ға", "Ка", "Қа", "На", "Ңа", "Оа", "Өа", "Уа", "Ұа", "Үа", "Ха"]
    pairs += ["Һа", "Ыа", "Іа", "Ьа", "Яа"]
    assert order(list(reversed(pairs)), "kk") == pairs
    letters = [c.upper() for c in KAZAKH]
    assert order(sorted(letters, reverse=True), "kk") == letters
    assert order(["Ұлытау", "Түркістан", "Шымкент", "Шығыс"], "kk") == [
        "Түркістан",
        "Ұлытау",
        "Шығыс",
        "Шымкент",
    ]


def test_russian_order_cyrillic_first_yo_as_ye_and_numbers_by_value():
    assert order(["Ель", "Ёлка", "Елка", "Zeta", "Яблоко", "№ 10", "№ 2"], "ru") == [
        "№ 2",
        "№ 10",
        "Елка",
        "Ёлка",
        "Ель",
        "Яблоко",
        "Zeta",
    ]
    assert order(["Zeta", "Абай", "Alpha"], "en") == ["Alpha", "Zeta", "Абай"]
    # Digits of other scripts are letters of no alphabet here, each on its own.
    assert order(["٣٤", "1"], "ru") == ["1", "٣٤"]


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
def test_case_decides_only_ties(locale):
    assert order(["б", "А", "а", "Б"], locale) == ["а", "А", "б", "Б"]


@given(st.lists(st.text(max_size=12), max_size=20), st.sampled_from(["kk", "ru", "en"]))
def test_any_text_sorts_without_error_and_the_order_is_total(names, locale):
    ordered = order(names, locale)
    assert sorted(ordered) == sorted(names)
    keys = [sort_key(name, locale) for name in ordered]
    assert keys == sorted(keys)
