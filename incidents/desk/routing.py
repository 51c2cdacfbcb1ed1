"""Who holds a new report: the routing rules, in one place.

The rules live in the table ``routing_rules``, seeded from the shipped default
``data/routing_rules.csv`` (migration 0021) and edited by a platform administrator
(``routing_pages``); while the table is empty the shipped default applies. The first rule that
matches decides, and a report no rule matches goes to its school. A rule names a perpetrator
and/or a priority (empty: any) and the holder: ``school``, ``desk`` (the regional duty desk only:
the school neither sees the report nor is told of it) or ``both``. A report past its
first-response target always escalates along the chain to the desk (``escalation``).

``check`` is the one validation of a rule set: a report about the school's own staff goes to the
desk alone, at every priority (the conflict of interest the desk exists for: the school learns of
it only when the desk hands it back, so neither ``school`` nor ``both``), and a critical report
always reaches the desk (the only reader on duty at night), and any other report is read by its
school (alone or with the desk): the report form tells the child so before they send it
(``incidents.intake.forms``). Any rule set that passes leaves every report with someone who may
read it: no holder is without readers.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask import has_app_context, has_request_context, request
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from core.model_types import str_enum
from extensions import db
from incidents.intake.models import Holder, Perpetrator, Priority

RULES_CSV = Path(__file__).parent / "data" / "routing_rules.csv"
MAX_RULES = 20


@dataclass(frozen=True)
class RoutingRule:
    key: str
    perpetrator: Perpetrator | None
    priority: Priority | None
    holder: Holder

    def matches(self, perpetrator: Perpetrator, priority: Priority) -> bool:
        return (self.perpetrator in (None, perpetrator)) and (self.priority in (None, priority))


class RoutingRuleRow(db.Model):
    """One rule of the table, in its ``position``."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer, unique=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    perpetrator: Mapped[Perpetrator | None] = mapped_column(str_enum(Perpetrator, "perpetrator"))
    priority: Mapped[Priority | None] = mapped_column(str_enum(Priority, "priority"))
    holder: Mapped[Holder] = mapped_column(str_enum(Holder, "holder"))

    def rule(self) -> RoutingRule:
        return RoutingRule(self.key, self.perpetrator, self.priority, self.holder)


@cache
def shipped(path: Path = RULES_CSV) -> tuple[RoutingRule, ...]:
    """The shipped default, in its order; a wrong value stops the app at its first report."""
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


def _from_table() -> tuple[RoutingRule, ...]:
    rows = db.session.scalars(select(RoutingRuleRow).order_by(RoutingRuleRow.position))
    return tuple(row.rule() for row in rows) or shipped()


CACHE = "qamqor.routing_rules"


def rules() -> tuple[RoutingRule, ...]:
    """The rules in force: read once per request, not once per report (outside a request, such
    as a command, read each time: an edit is seen at once)."""
    if not has_app_context():
        return shipped()
    if not has_request_context():
        return _from_table()
    if CACHE not in request.environ:
        request.environ[CACHE] = _from_table()
    return request.environ[CACHE]


def forget() -> None:
    """After an edit: the next ``rules()`` of this request reads the table again."""
    if has_request_context():
        request.environ.pop(CACHE, None)


def route(perpetrator: Perpetrator, priority: Priority, among: Sequence[RoutingRule] | None = None):
    """The holder of a new report: the first rule that matches, else the school."""
    for rule in rules() if among is None else among:
        if rule.matches(perpetrator, priority):
            return rule.holder
    return Holder.school


class Unsafe(ValueError):
    """A rule set ``check`` refuses; ``args[0]`` is the case it would get wrong."""


def check(candidate: Sequence[RoutingRule]) -> None:
    """Raise ``Unsafe`` for a rule set that would let the school read a report about its own
    staff before the desk decides, keep a critical report from the desk, or keep another report
    from its school (what the child was told)."""
    if any(route(Perpetrator.school_staff, q, candidate) is not Holder.desk for q in Priority):
        raise Unsafe("staff")
    if any(not desk_reads(route(p, Priority.critical, candidate)) for p in Perpetrator):
        raise Unsafe("critical")
    others = [p for p in Perpetrator if p is not Perpetrator.school_staff]
    if any(not school_reads(route(p, q, candidate)) for p in others for q in Priority):
        raise Unsafe("school")


def school_reads(holder: Holder) -> bool:
    return holder in (Holder.school, Holder.both)


def desk_reads(holder: Holder) -> bool:
    return holder in (Holder.desk, Holder.both)
