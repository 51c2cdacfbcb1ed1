"""The school administrator's escalation list and working hours (validated, audited, in kk, ru
and en), the region's time zone, and the time to first human response by day and night."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from core.audit import AuditEntry
from extensions import db
from incidents.desk import hours
from incidents.desk.escalation_models import SchoolContact, SchoolHours
from incidents.intake.models import Report
from insights import kpis
from insights.filters import Filters
from insights.stats import Tally
from school.models import Role
from tests import factories
from tests.incidents.factories import report


@pytest.fixture
def school_staff(app):
    school = factories.school(region_code="KZ-71")
    return {
        "school": school,
        "admin": factories.user(Role.school_admin, school, locale="en"),
        "counselor": factories.user(Role.counselor, school),
        "deputy": factories.user(Role.school_admin, school),
        "outsider": factories.user(Role.counselor, factories.school(region_code="KZ-71")),
    }


def form(people, **overrides) -> dict:
    data = {
        "person_1": str(people["counselor"].id),
        "window_1": "10",
        "person_2": str(people["deputy"].id),
        "window_2": "30",
        "night_2": "y",
        "person_3": "0",
        "window_3": "15",
        "person_4": "0",
        "window_4": "15",
        "weekdays": ["1", "2", "3", "4", "5", "6"],
        "opens": "07:30",
        "closes": "19:00",
    }
    data.update(overrides)
    return data


def saved(school) -> tuple[list[tuple], tuple | None]:
    db.session.expire_all()
    contacts = db.session.scalars(
        select(SchoolContact)
        .where(SchoolContact.school_id == school.id)
        .order_by(SchoolContact.position)
    )
    found = db.session.get(SchoolHours, school.id)
    return (
        [(c.position, c.user_id, c.window_minutes, c.night) for c in contacts],
        found and (found.weekdays, found.opens_minute, found.closes_minute),
    )


def test_the_school_administrator_sets_the_list_and_hours(client, login, school_staff):
    w = school_staff
    login(w["admin"])
    assert client.get("/school/escalation").status_code == 200
    response = client.post("/school/escalation", data=form(w))
    assert response.status_code == 302
    assert saved(w["school"]) == (
        [(1, w["counselor"].id, 10, False), (2, w["deputy"].id, 30, True)],
        ("1,2,3,4,5,6", 7 * 60 + 30, 19 * 60),
    )
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "escalation.contacts_edit")
    ).one()
    assert entry.school_id == w["school"].id
    # Saturday 15:00 in Almaty is a working hour now; Sunday is not.
    assert hours.in_working_hours(w["school"].id, datetime(2026, 12, 12, 10, 0, tzinfo=UTC))
    assert not hours.in_working_hours(w["school"].id, datetime(2026, 12, 13, 10, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"person_2": None}, "already on the list"),  # filled in below: the same person twice
        ({"person_3": "outsider"}, "Please choose one."),
        ({"person_1": "abc"}, "Please choose one."),
        ({"window_1": "0"}, "Between 1 and 240"),
        ({"window_1": "9999"}, "Between 1 and 240"),
        ({"opens": "25:00"}, "time of day"),
        ({"opens": "19:00", "closes": "08:00"}, "close after it opens"),
        ({"weekdays": ["8"]}, "Please choose one."),
    ],
)
def test_bad_input_is_refused_in_words_and_changes_nothing(
    client, login, school_staff, overrides, message
):
    w = school_staff
    login(w["admin"])
    assert client.post("/school/escalation", data=form(w)).status_code == 302
    before = saved(w["school"])
    if overrides.get("person_2", "") is None:
        overrides = {"person_2": str(w["counselor"].id)}
    if overrides.get("person_3") == "outsider":
        overrides = {"person_3": str(w["outsider"].id)}
    response = client.post("/school/escalation", data=form(w, **overrides))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert saved(w["school"]) == before


@pytest.mark.parametrize(
    ("locale", "heading"),
    [
        ("kk", "Хабарлау тізімі және жұмыс уақыты"),
        ("ru", "Список оповещения и часы работы"),
        ("en", "Escalation list and working hours"),
    ],
)
def test_the_page_speaks_the_administrators_language(
    app, client, login, school_staff, locale, heading
):
    w = school_staff
    w["admin"].locale = locale
    db.session.commit()
    login(w["admin"])
    assert heading in client.get("/school/escalation").get_data(as_text=True)


def test_only_the_school_administrator_sets_the_list(client, login, school_staff):
    login(school_staff["counselor"])
    assert client.post("/school/escalation", data=form(school_staff)).status_code == 403
    assert saved(school_staff["school"]) == ([], None)


def test_a_region_may_have_its_own_time_zone(app, school_staff):
    school_id = school_staff["school"].id
    nine_utc = datetime(2026, 12, 8, 4, 0, tzinfo=UTC)  # 09:00 in Almaty, 08:00 at UTC+4
    assert hours.in_working_hours(school_id, nine_utc)
    app.config["REGION_TIME_ZONES"] = {"KZ-71": "Europe/Samara"}
    db.session.add(SchoolHours(school_id=school_id, weekdays="2", opens_minute=8 * 60 + 30))
    db.session.commit()
    assert not hours.in_working_hours(school_id, nine_utc)


def test_time_to_first_human_response_is_split_by_day_and_night(app, school_staff):
    school = school_staff["school"]
    start = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    # In working hours: answered after 1, 2 and 3 hours; at night: after 5 and 9 hours.
    for in_hours, waited in [(True, 1), (True, 2), (True, 3), (False, 5), (False, 9)]:
        made, _code = report(school)
        made.created_at, made.arrived_in_hours = start, in_hours
        made.first_response_at = start + timedelta(hours=waited)
    unanswered, _code = report(school)
    unanswered.created_at = start
    db.session.commit()
    admin = factories.user(Role.admin)
    rows = {
        r.key: r
        for r in kpis.response_by_day_and_night(
            admin, Filters(date(2026, 12, 1), date(2026, 12, 7))
        )
    }
    day, night = rows["working_hours"], rows["night_weekend"]
    assert (int(day.answered), day.median, day.p90) == (3, pytest.approx(2.0), pytest.approx(2.8))
    assert (int(night.answered), night.median, night.p90) == (
        2,
        pytest.approx(7.0),
        pytest.approx(8.6),
    )
    assert isinstance(day.answered, Tally)  # published like every count (insights.stats)
    ids = db.session.scalars(
        select(Report.id).where(Report.arrived_in_hours.is_(True)).order_by(Report.id)
    ).all()
    assert day.answered.key == sum(ids)
    # An analyst sees no median or percentile of fewer than 10 answers.
    ev = kpis.build(admin, Filters(date(2026, 12, 1), date(2026, 12, 7)))
    ev.suppress = True
    assert ev.hours(ev.day_night[0], "median") == "—"
