"""Who holds a new report: the routing rules, in one place, shipped as data.

``data/routing_rules.csv`` lists the rules in order; the first that matches decides, and a report
no rule matches goes to its school. A rule names a perpetrator and/or a priority (empty: any) and
the holder: ``school``, ``desk`` (the regional duty desk only: the school neither sees the report
nor is told of it) or ``both``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from incidents.intake.models import Holder, Perpetrator, Priority

RULES_CSV = Path(__file__).parent / "data" / "routing_rules.csv"


@dataclass(frozen=True)
class RoutingRule:
    key: str
    perpetrator: Perpetrator | None
    priority: Priority | None
    holder: Holder

    def matches(self, perpetrator: Perpetrator, priority: Priority) -> bool:
        return (self.perpetrator in (None, perpetrator)) and (self.priority in (None, priority))


@cache
def rules(path: Path = RULES_CSV) -> tuple[RoutingRule, ...]:
    """The shipped rules, in their order; a wrong value stops the app at its first report."""
    with path.open(encoding="utf-8") as handle:
        return tuple(
            RoutingRule(
                key=row["key"],
                perpetrator=Perpetrator(row["perpetrator"]) if row["perpetrator"] else None,
                priority=Priority(row["priority"]) if row["priority"] else None,
                holder=Holder(row["holder"]),
            )
            for row in csv.DictReader(handle)
        )


def route(perpetrator: Perpetrator, priority: Priority) -> Holder:
    """The holder of a new report: the first rule that matches, else the school."""
    for rule in rules():
        if rule.matches(perpetrator, priority):
            return rule.holder
    return Holder.school


def school_reads(holder: Holder) -> bool:
    return holder in (Holder.school, Holder.both)


def desk_reads(holder: Holder) -> bool:
    return holder in (Holder.desk, Holder.both)
