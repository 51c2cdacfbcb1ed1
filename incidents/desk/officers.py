"""Who the desk is: the desk officers told of a report, on their own so that intake and the
escalation runner name them without importing the desk's services (which import intake)."""

from __future__ import annotations

from sqlalchemy import select

from extensions import db
from incidents.intake.models import Report
from school.models import Role, School, User


def desk_officers_for(report: Report) -> list[User]:
    """Who is told of a report the desk holds: the active desk officers of the school's region;
    the national ones when the region has none."""
    region_id = db.session.scalar(select(School.region_id).where(School.id == report.school_id))
    officers = select(User).where(User.role == Role.desk_officer, User.active.is_(True))
    regional = list(
        db.session.scalars(officers.where(User.region_id == region_id).order_by(User.id))
    )
    if regional:
        return regional
    return list(db.session.scalars(officers.where(User.region_id.is_(None)).order_by(User.id)))
