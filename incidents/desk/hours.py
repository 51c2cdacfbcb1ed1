"""Working hours: a school's (``SchoolHours``, defaults when it has set none) in its region's
time zone. The zone is the platform's (``core.clock.local_zone``) unless ``REGION_TIME_ZONES``
names one for the region's ISO code (e.g. QAMQOR_REGION_TIME_ZONES='{"KZ-71": "Asia/Almaty"}'):
Kazakhstan has had one time zone since 2024, but a region may be given its own."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from core.clock import local_zone
from extensions import db
from incidents.desk.escalation_models import SchoolHours
from school.models import Region, School


def region_zone(region: Region) -> ZoneInfo:
    zones = current_app.config["REGION_TIME_ZONES"]
    name = zones.get(region.iso_code)
    return ZoneInfo(name) if name else local_zone()


def hours_of(school_id: int) -> SchoolHours:
    """The school's hours; an unsaved default row when it has set none."""
    found = db.session.get(SchoolHours, school_id)
    return found or SchoolHours(
        school_id=school_id,
        weekdays=SchoolHours.weekdays.default.arg,
        opens_minute=SchoolHours.opens_minute.default.arg,
        closes_minute=SchoolHours.closes_minute.default.arg,
    )


def within(hours: SchoolHours, zone: ZoneInfo, moment: datetime) -> bool:
    local = moment.astimezone(zone)
    minute = local.hour * 60 + local.minute
    return (
        local.isoweekday() in hours.weekday_list
        and hours.opens_minute <= minute < hours.closes_minute
    )


def in_working_hours(school_id: int, moment: datetime) -> bool:
    """Is ``moment`` within the school's working hours, in its region's time zone?"""
    region = db.session.scalar(
        select(Region).join(School, School.region_id == Region.id).where(School.id == school_id)
    )
    return within(hours_of(school_id), region_zone(region), moment)
