"""Bulk writing for the synthetic data: batches of rows, ids given here, sequences moved on."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Table, func, insert, select, text

from extensions import db

BATCH = 10_000


@dataclass
class Made:
    schools: int = 0
    reports: int = 0
    forms: int = 0
    cases: int = 0
    referrals: int = 0
    waves: int = 0
    responses: int = 0
    answers: int = 0
    deliveries: int = 0


Progress = Callable[[int], None]


def next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def bump_sequence(table: Table) -> None:
    """Ids were given explicitly: move PostgreSQL's sequence past them."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"  # noqa: S608 - our table
                f" (SELECT COALESCE(MAX(id), 1) FROM {table.name}))"
            )
        )


def write(table: Table, rows: list[dict]) -> None:
    """One executemany of the rows (psycopg pipelines it: ~10,000 report rows a second)."""
    db.session.execute(insert(table), rows)


def insert_rows(table: Table, rows: Iterator[dict], progress: Progress | None = None) -> int:
    batch, total = [], 0
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            write(table, batch)
            total += len(batch)
            if progress:
                progress(len(batch))
            batch = []
    if batch:
        write(table, batch)
        total += len(batch)
        if progress:
            progress(len(batch))
    return total


def weighted(rng: random.Random, weights: dict):
    keys = list(weights)
    cumulative = []
    running = 0.0
    for key in keys:
        running += weights[key]
        cumulative.append(running)
    return lambda: rng.choices(keys, cum_weights=cumulative)[0]
