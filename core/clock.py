"""The platform's local time zone and today's date in it (due dates, lessons, certificates and
statistics are dates at school, not in UTC). Stored times are UTC (``core.model_types.utcnow``)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from core.model_types import utcnow

DEFAULT_ZONE = "Asia/Almaty"


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or DEFAULT_ZONE)


def local_today(now: datetime | None = None) -> date:
    """Today's date at school (a lesson at 8:00 in Almaty is still "today"); ``now`` lets tests
    and the scheduler set the clock."""
    return (now or utcnow()).astimezone(local_zone()).date()
