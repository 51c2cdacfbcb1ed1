"""The routing rules, editable by a platform administrator (issue 16): an edit decides where the
next report goes and is in the audit log with the rules before and after; a rule set that would
let the school alone read a report about its own staff, or keep a critical report from the desk,
or a value the form never offered, changes nothing and says why in the administrator's language;
nobody else reaches the page; the rules are read once per request, not once per report."""

from __future__ import annotations

import json
import secrets

import pytest
from sqlalchemy import event, select

from core.audit import AuditEntry
from extensions import db
from incidents.desk import routing
from incidents.desk.routing import RoutingRule, RoutingRuleRow
from incidents.intake.models import Holder, Perpetrator, Priority, Report
from school.models import Role
from tests import factories
from tests.incidents.factories import form_data

ADDRESS = "/admin/routing-rules"
SHIPPED_FORM = {
    "perpetrator_1": "school_staff",
    "priority_1": "",
    "holder_1": "desk",
    "perpetrator_2": "",
    "priority_2": "critical",
    "holder_2": "both",
}


def staff_client(app, login, user, language="en"):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    login(user, using=client)
    return client


def sent(client, school, **overrides) -> Report:
    token = secrets.token_hex(16)  # a new report each time, not the same one sent twice
    response = client.post(f"/r/{school.code}", data=form_data(token=token, **overrides))
    assert response.status_code == 200
    return db.session.scalars(select(Report).order_by(Report.id.desc())).first()


def table() -> list[tuple]:
    db.session.expire_all()
    return [
        (r.position, r.perpetrator, r.priority, r.holder)
        for r in db.session.scalars(select(RoutingRuleRow).order_by(RoutingRuleRow.position))
    ]


def edits() -> list[AuditEntry]:
    return list(
        db.session.scalars(select(AuditEntry).where(AuditEntry.action == "routing.rules_edit"))
    )


@pytest.fixture
def admin(app):
    return factories.user(Role.admin, locale="en")


def test_an_edit_decides_where_the_next_report_goes_and_is_audited(app, client, login, admin):
    school = factories.school()
    assert sent(client, school, perpetrator="family").routing == Holder.school

    page = staff_client(app, login, admin)
    shown = page.get(ADDRESS)
    assert shown.status_code == 200
    # The page shows the rules in force: the shipped default.
    assert 'selected value="school_staff"' in shown.get_data(as_text=True)
    saved = page.post(ADDRESS, data=SHIPPED_FORM | {"perpetrator_3": "family", "holder_3": "both"})
    assert saved.status_code == 303
    assert table() == [
        (1, Perpetrator.school_staff, None, Holder.desk),
        (2, None, Priority.critical, Holder.both),
        (3, Perpetrator.family, None, Holder.both),
    ]
    assert sent(client, school, perpetrator="family").routing == Holder.both
    assert sent(client, school, perpetrator="students").routing == Holder.school
    assert sent(client, school, perpetrator="school_staff").routing == Holder.desk

    [entry] = edits()
    detail = entry.detail if isinstance(entry.detail, dict) else json.loads(entry.detail)
    assert len(detail["before"]) == 2 and len(detail["after"]) == 3
    assert detail["after"][2] == {"perpetrator": "family", "priority": None, "holder": "both"}
    assert entry.actor_id == admin.id

    # Taking the family rule away again: the next family report is the school's again.
    assert page.post(ADDRESS, data=SHIPPED_FORM).status_code == 303
    assert sent(client, school, perpetrator="family").routing == Holder.school
    assert len(edits()) == 2


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "must go to the duty desk alone"),
        ("ru", "только дежурной службе"),
        ("kk", "тек кезекші қызметке"),
    ],
)
def test_a_rule_letting_the_school_read_a_staff_report_changes_nothing(
    app, client, login, language, words
):
    admin = factories.user(Role.admin, locale=language)
    page = staff_client(app, login, admin, language)
    before = table()
    # The staff rule turned to the school; a catch-all above it (even to the school and the desk:
    # the school would read it before the desk decides); no staff rule at all.
    for bad in (
        SHIPPED_FORM | {"holder_1": "school"},
        {
            "perpetrator_1": "",
            "priority_1": "",
            "holder_1": "both",
            "perpetrator_2": "school_staff",
            "holder_2": "school",
        },
        {"holder_1": "school", "perpetrator_2": "school_staff", "holder_2": "desk"},
        {"holder_1": ""},
    ):
        refused = page.post(ADDRESS, data=bad)
        assert refused.status_code == 400
        assert words in refused.get_data(as_text=True)
    assert table() == before and edits() == []
    school = factories.school()
    assert sent(client, school, perpetrator="school_staff").routing == Holder.desk


def test_a_rule_keeping_a_report_from_the_desk_or_the_school_or_a_forged_value_changes_nothing(
    app, client, login, admin
):
    page = staff_client(app, login, admin)
    critical_to_school = SHIPPED_FORM | {"holder_2": "school"}
    refused = page.post(ADDRESS, data=critical_to_school)
    assert refused.status_code == 400
    assert "on duty at night" in refused.get_data(as_text=True)
    # A family report to the desk alone: the form told the child their school reads it.
    family_to_desk = SHIPPED_FORM | {"perpetrator_3": "family", "holder_3": "desk"}
    refused = page.post(ADDRESS, data=family_to_desk)
    assert refused.status_code == 400
    assert "a psychologist of their school reads it" in refused.get_data(as_text=True)
    for forged in (
        SHIPPED_FORM | {"perpetrator_3": "director", "holder_3": "school"},
        SHIPPED_FORM | {"holder_3": "nobody"},
        SHIPPED_FORM | {"priority_1": "critical'; DROP TABLE reports;--"},
        SHIPPED_FORM | {"perpetrator_3": "school_staff", "holder_3": "desk"},  # a repeat
    ):
        response = page.post(ADDRESS, data=forged)
        assert response.status_code == 400, forged
    assert table() == [] and edits() == []


@pytest.mark.parametrize(
    "role", [Role.school_admin, Role.counselor, Role.desk_officer, Role.analyst]
)
def test_nobody_but_the_platform_administrator_reaches_the_rules(app, login, role):
    school = factories.school(region_code="KZ-71")
    fields = {"region_": factories.region("KZ-71")} if role.is_regional else {}
    user = factories.user(role, None if role.is_regional else school, **fields)
    page = staff_client(app, login, user)
    assert page.get(ADDRESS).status_code in (403, 404)
    response = page.post(ADDRESS, data=SHIPPED_FORM | {"holder_2": "desk"})
    assert response.status_code in (403, 404)
    assert table() == [] and edits() == []
    anonymous = app.test_client()
    assert anonymous.get(ADDRESS).status_code in (302, 401, 403, 404)


def test_the_rules_are_read_once_per_request_and_every_safe_set_passes_the_check(app):
    db.session.add(
        RoutingRuleRow(position=1, key="staff", perpetrator=Perpetrator.school_staff, holder="desk")
    )
    db.session.add(RoutingRuleRow(position=2, key="all", holder=Holder.both))
    db.session.commit()
    reads = []

    def count(_conn, _cursor, statement, *_args):
        if "routing_rules" in statement:
            reads.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with app.test_request_context("/"):
            holders = {routing.route(p, q) for p in Perpetrator for q in Priority}
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(reads) == 1
    assert holders == {Holder.desk, Holder.both}
    # The check itself: the shipped default passes; the empty set (everything to the school)
    # does not.
    routing.check(routing.shipped())
    with pytest.raises(routing.Unsafe):
        routing.check([])
    with pytest.raises(routing.Unsafe):
        routing.check([RoutingRule("x", Perpetrator.school_staff, None, Holder.desk)])
