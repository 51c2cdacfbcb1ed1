"""Survey results: prevalence with Wilson intervals, baseline against follow-up with Newcombe's
interval for the change, per class, school, region or the country.

The database counts (GROUP BY wave kind and item); Python only turns the counts into shares.
A wave kind with fewer than ``MIN_SURVEY_ANSWERS`` answers is not shown at all, and neither is
an item answered fewer times than that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, func, select

from core.clock import local_zone
from core.collation import collated
from extensions import db
from insights.figures import unit_labels
from insights.models import SurveyTally, SurveyWave, WaveKind
from insights.questionnaire import (
    CHECK_ITEMS,
    INDICATOR_GROUPS,
    INDICATOR_TITLES,
)
from insights.sql import key_sum
from insights.stats import MIN_SURVEY_ANSWERS, Change, Share, Tally, newcombe, wilson
from school.access import school_scope
from school.models import School, User

KINDS = (WaveKind.baseline, WaveKind.follow_up)


@dataclass(frozen=True)
class Indicator:
    item: str
    title: str
    shares: dict[WaveKind, Share | None]
    change: Change | None


@dataclass
class SurveyResults:
    answers: dict[WaveKind, int]
    groups: list[tuple[str, str, list[Indicator]]] = field(default_factory=list)

    def shown(self, kind: WaveKind) -> bool:
        return self.answers.get(kind, 0) >= MIN_SURVEY_ANSWERS

    @property
    def any_shown(self) -> bool:
        return any(self.shown(kind) for kind in KINDS)

    def indicator(self, item: str) -> Indicator | None:
        for _key, _title, indicators in self.groups:
            for indicator in indicators:
                if indicator.item == item:
                    return indicator
        return None


def wave_conditions(
    user: User,
    *,
    classroom_id: int | None = None,
    school_id: int | None = None,
    region_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[ColumnElement[bool]]:
    """The waves a result covers: always within the user's scope first."""
    conditions = [school_scope(user, SurveyWave.school_id)]
    if classroom_id is not None:
        conditions.append(SurveyWave.classroom_id == classroom_id)
    if school_id is not None:
        conditions.append(SurveyWave.school_id == school_id)
    elif region_id is not None:
        conditions.append(
            SurveyWave.school_id.in_(select(School.id).where(School.region_id == region_id))
        )
    zone = local_zone()
    if start is not None:
        begin = datetime.combine(start, time(), zone).astimezone(UTC)
        conditions.append(SurveyWave.opened_at >= begin)
    if end is not None:
        finish = datetime.combine(end + timedelta(days=1), time(), zone).astimezone(UTC)
        conditions.append(SurveyWave.opened_at < finish)
    return conditions


def survey_results(
    conditions: list[ColumnElement[bool]], answers: dict[WaveKind, int] | None = None
) -> SurveyResults:
    """Shares and changes for the waves matching ``conditions`` (from the per-wave totals);
    ``answers``, the number of answers of each wave kind, when the caller has counted them."""
    if answers is None:
        answers = {
            WaveKind(kind): Tally(n, waves)
            for kind, n, waves in db.session.execute(
                select(SurveyWave.kind, func.sum(SurveyWave.answered), key_sum(SurveyWave.id))
                .where(*conditions)
                .group_by(SurveyWave.kind)
            )
        }
    counts: dict[tuple[WaveKind, str], tuple[int, int]] = {}
    for kind, item, n, k in db.session.execute(
        select(
            SurveyWave.kind,
            SurveyTally.item,
            func.sum(SurveyTally.answers),
            func.sum(SurveyTally.positive),
        )
        .join(SurveyTally, SurveyTally.wave_id == SurveyWave.id)
        .where(*conditions)
        .group_by(SurveyWave.kind, SurveyTally.item)
    ):
        counts[(WaveKind(kind), item)] = (int(n), int(k))
    results = SurveyResults(answers)
    for key, title, items in INDICATOR_GROUPS:
        indicators = []
        for item in items:
            shares: dict[WaveKind, Share | None] = {}
            for kind in KINDS:
                n, k = counts.get((kind, item), (0, 0))
                if item in CHECK_ITEMS:
                    # A tick box left empty is an answer too: the share is of everyone.
                    n = answers.get(kind, 0)
                shown = results.shown(kind) and n >= MIN_SURVEY_ANSWERS
                shares[kind] = wilson(k, n) if shown else None
            before, after = shares[WaveKind.baseline], shares[WaveKind.follow_up]
            change = newcombe(before, after) if before and after else None
            indicators.append(Indicator(item, str(INDICATOR_TITLES[item]), shares, change))
        results.groups.append((key, str(title), indicators))
    return results


@dataclass(frozen=True)
class UnitPrevalence:
    key: int
    label: str
    answers: dict[WaveKind, int]
    victim: dict[WaveKind, Share | None]
    perpetrator: dict[WaveKind, Share | None]


def prevalence_by_unit(conditions, unit_column) -> dict[int, dict]:
    """Answers and the overall victimization and perpetration totals per school or region."""
    key = unit_column.label("unit")
    units: dict[int, dict] = {}
    for unit, kind, n, waves in db.session.execute(
        select(key, SurveyWave.kind, func.sum(SurveyWave.answered), key_sum(SurveyWave.id))
        .join(School, School.id == SurveyWave.school_id)
        .where(*conditions)
        .group_by(key, SurveyWave.kind)
    ):
        units.setdefault(unit, {"answers": {}, "counts": {}})["answers"][WaveKind(kind)] = Tally(
            n, waves
        )
    for unit, kind, item, n, k in db.session.execute(
        select(
            key,
            SurveyWave.kind,
            SurveyTally.item,
            func.sum(SurveyTally.answers),
            func.sum(SurveyTally.positive),
        )
        .join(School, School.id == SurveyWave.school_id)
        .join(SurveyTally, SurveyTally.wave_id == SurveyWave.id)
        .where(*conditions, SurveyTally.item.in_(("victim", "perpetrator")))
        .group_by(key, SurveyWave.kind, SurveyTally.item)
    ):
        data = units.setdefault(unit, {"answers": {}, "counts": {}})
        data["counts"][(WaveKind(kind), item)] = (int(n), int(k))
    return units


def unit_prevalence(conditions, unit_column, level: str) -> list[UnitPrevalence]:
    """Overall victimization and perpetration per region (``level`` country) or school."""
    units = prevalence_by_unit(conditions, unit_column)
    labels = unit_labels(level, list(units))
    rows = []
    for unit, data in units.items():
        answers = data["answers"]
        shares = {}
        for item in ("victim", "perpetrator"):
            shares[item] = {}
            for kind in KINDS:
                n, k = data["counts"].get((kind, item), (0, 0))
                enough = answers.get(kind, 0) >= MIN_SURVEY_ANSWERS and n >= MIN_SURVEY_ANSWERS
                shares[item][kind] = wilson(k, n) if enough else None
        rows.append(
            UnitPrevalence(
                unit,
                str(labels.get(unit, unit)),
                answers,
                shares["victim"],
                shares["perpetrator"],
            )
        )
    return collated(rows, key=lambda r: r.label)
