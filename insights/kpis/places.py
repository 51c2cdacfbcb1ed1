"""Where and when: the conditions every figure of the KPI page starts from."""

from __future__ import annotations

from sqlalchemy import select

from insights.filters import Filters
from school.models import School


def in_place(column, filters: Filters) -> list:
    if filters.school_id is not None:
        return [column == filters.school_id]
    if filters.region_id is not None:
        return [column.in_(select(School.id).where(School.region_id == filters.region_id))]
    return []


def in_period(column, filters: Filters) -> list:
    begin, finish = filters.utc_range()
    return [column >= begin, column < finish]
