"""How long each kind of body has to answer a referral (``data/answer_times.csv``), on its own so
that sending a referral (``services``) and answering it (``answers``) both read it without
importing each other."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from school.models import BodyKind

ANSWER_TIMES_CSV = Path(__file__).parent / "data" / "answer_times.csv"


@cache
def answer_times(path: Path = ANSWER_TIMES_CSV) -> dict[BodyKind, timedelta]:
    with path.open(encoding="utf-8") as handle:
        return {
            BodyKind(row["body_kind"]): timedelta(hours=int(row["within_hours"]))
            for row in csv.DictReader(handle)
        }


def answer_due(kind: BodyKind, sent_at: datetime) -> datetime:
    return sent_at + answer_times().get(kind, timedelta(hours=72))
