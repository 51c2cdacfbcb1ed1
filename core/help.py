"""Help numbers children and families are told about (shipped data, see data/help_numbers.csv)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from core.i18n import localized


@dataclass(frozen=True)
class HelpNumber:
    number: str
    name_en: str
    name_ru: str
    name_kk: str
    hours: str

    @property
    def name(self) -> str:
        return localized(self)


@cache
def help_numbers() -> dict[str, HelpNumber]:
    path = Path(__file__).parent / "data" / "help_numbers.csv"
    with path.open(encoding="utf-8") as handle:
        return {
            row["number"]: HelpNumber(
                row["number"], row["name_en"], row["name_ru"], row["name_kk"], row["hours"]
            )
            for row in csv.DictReader(handle)
        }


def numbers(*which: str) -> list[HelpNumber]:
    table = help_numbers()
    return [table[number] for number in which]
