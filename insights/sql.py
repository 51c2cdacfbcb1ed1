"""SQL that differs between SQLite and PostgreSQL, written once per dialect.

- ``month_of(column)``: the 'YYYY-MM' month of a timestamp in the app's time zone
  (PostgreSQL ``to_char(timezone(zone, t), 'YYYY-MM')``, SQLite ``strftime`` with the offset).
- ``hours_between(start, end)``: elapsed hours as a float.
- ``grouped_median(source, value, groups)``: the median of a column per group, in the database:
  ``percentile_cont(0.5) WITHIN GROUP`` on PostgreSQL; on SQLite, which has no percentile
  function, the middle row(s) picked with ``row_number()`` and ``count()`` window functions.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Float, Select, String, case, func, literal, or_, select, tuple_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from core.clock import local_zone
from extensions import db


def dialect() -> str:
    return db.session.get_bind().dialect.name


class _MonthOf(FunctionElement):
    type = String()
    inherit_cache = True
    name = "month_of"


@compiles(_MonthOf, "postgresql")
def _month_postgresql(element, compiler, **kw):
    column, zone, _offset = element.clauses
    return (
        f"to_char(timezone({compiler.process(zone, **kw)}, {compiler.process(column, **kw)}),"
        " 'YYYY-MM')"
    )


@compiles(_MonthOf, "sqlite")
def _month_sqlite(element, compiler, **kw):
    column, _zone, offset = element.clauses
    return f"strftime('%Y-%m', {compiler.process(column, **kw)}, {compiler.process(offset, **kw)})"


def month_of(column):
    """'YYYY-MM' of a UTC timestamp column, in the app's time zone."""
    zone = local_zone()
    # Kazakhstan keeps one offset all year (no summer time), so SQLite's fixed offset is exact.
    minutes = int(datetime.now(UTC).astimezone(zone).utcoffset().total_seconds() // 60)
    return _MonthOf(column, literal(zone.key), literal(f"{minutes:+d} minutes"))


class _HoursBetween(FunctionElement):
    type = Float()
    inherit_cache = True
    name = "hours_between"


@compiles(_HoursBetween, "postgresql")
def _hours_postgresql(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    # date_part gives a double; EXTRACT gives numeric (exact but several times slower).
    return f"(date_part('epoch', {end} - {start}) / 3600.0)"


@compiles(_HoursBetween, "sqlite")
def _hours_sqlite(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 24.0)"


def hours_between(start, end):
    return _HoursBetween(start, end)


def grouped_median(source: Select, value: str, groups: list[str]) -> Select:
    """SELECT <groups>, median, n FROM (source) GROUP BY <groups>.

    ``source`` selects the ``value`` column and the ``groups`` columns (labelled); rows whose
    value is NULL are left out.
    """
    sub = source.subquery()
    keys = [sub.c[name] for name in groups]
    column = sub.c[value]
    if dialect() == "postgresql":
        return (
            select(
                *keys,
                func.percentile_cont(0.5).within_group(column).label("median"),
                func.count(column).label("n"),
            )
            .where(column.is_not(None))
            .group_by(*keys)
        )
    ranked = (
        select(
            *keys,
            column,
            func.row_number().over(partition_by=keys or None, order_by=column).label("rn"),
            func.count().over(partition_by=keys or None).label("cnt"),
        )
        .where(column.is_not(None))
        .subquery()
    )
    middle = [ranked.c[name] for name in groups]
    # Odd count: the one middle row; even count: the mean of the two middle rows.
    return (
        select(
            *middle,
            func.avg(ranked.c[value]).label("median"),
            func.max(ranked.c.cnt).label("n"),
        )
        .where(
            or_(
                ranked.c.rn == (ranked.c.cnt + 1) // 2,
                ranked.c.rn == (ranked.c.cnt + 2) // 2,
            )
        )
        .group_by(*middle)
    )


def grouping_sets(
    stmt_from, conditions, sets: dict[str, object | None], aggregates: list
) -> dict[str, list]:
    """The same aggregates over several groupings of the same rows.

    ``sets`` maps a name to the grouping expression (None: the whole selection). On PostgreSQL
    this is one ``GROUP BY GROUPING SETS`` statement, so the rows are read once; SQLite runs one
    statement per grouping. Returns {name: [(key, row), ...]}.
    """
    result: dict[str, list] = {name: [] for name in sets}
    if dialect() == "postgresql":
        keys = {name: expr for name, expr in sets.items() if expr is not None}
        flags = {name: func.grouping(expr).label(f"g_{name}") for name, expr in keys.items()}
        stmt = (
            stmt_from.add_columns(
                *(expr.label(f"k_{name}") for name, expr in keys.items()),
                *flags.values(),
                *aggregates,
            )
            .where(*conditions)
            .group_by(
                func.grouping_sets(
                    *(tuple_(expr) if expr is not None else tuple_() for expr in sets.values())
                )
            )
        )
        for row in db.session.execute(stmt):
            grouped = [name for name in keys if row._mapping[f"g_{name}"] == 0]
            if grouped:
                result[grouped[0]].append((row._mapping[f"k_{grouped[0]}"], row))
            else:
                total = next(name for name, expr in sets.items() if expr is None)
                result[total].append((None, row))
        return result
    for name, expr in sets.items():
        columns = [expr.label(f"k_{name}")] if expr is not None else []
        stmt = stmt_from.add_columns(*columns, *aggregates).where(*conditions)
        if expr is not None:
            stmt = stmt.group_by(expr)
        for row in db.session.execute(stmt):
            result[name].append((row._mapping[f"k_{name}"] if expr is not None else None, row))
    return result


def key_sum(column, condition=None):
    """SQL: the key of the rows counted beside a count (``insights.stats.Tally``): the sum of
    their ids, of those meeting ``condition`` when given."""
    value = column if condition is None else case((condition, column), else_=0)
    return func.coalesce(func.sum(value), 0)
