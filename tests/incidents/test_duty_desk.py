"""The regional duty desk (issue 16, first slice): a report naming a teacher goes to the desk of
the school's region and not to the school; a critical report goes to both; a desk officer reads,
answers the child, opens the case and hands the report back; another region's desk sees nothing.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core import audit
from core.audit import AuditEntry
from core.mail import OutgoingMail
from core.opaque import opaque
from extensions import db
from incidents.cases.models import Case
from incidents.desk import routing
from incidents.intake.models import Holder, Perpetrator, Priority, Report
from school.models import Role
from tests import factories
from tests.incidents.factories import form_data, report

STORY = "Мұғалім мені сынып алдында ұрды 5150"
ANSWER = "Сәлем! Біз өңірлік қызметтенбіз, сені тыңдаймыз 8080"
CODE = re.compile(r'class="secret-code"><code>([^<]+)</code>')


@pytest.fixture
def desk_world(app):
    """Two regions; in region A a school with its counselor and director, a desk officer of A
    and one of B."""
    school = factories.school(region_code="KZ-71")
    other_school = factories.school(region_code="KZ-75")
    return {
        "school": school,
        "counselor": factories.user(Role.counselor, school, locale="kk"),
        "director": factories.user(Role.school_admin, school),
        "desk": factories.user(Role.desk_officer, region_=factories.region("KZ-71"), locale="kk"),
        "other_desk": factories.user(Role.desk_officer, region_=factories.region("KZ-75")),
        "other_school": other_school,
    }


def staff_client(app, login, user):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(user, using=client)
    return client


def send_in_kazakh(client, school, **overrides) -> tuple[Report, str]:
    """A child sends the report form in Kazakh (the default language); the receipt's code."""
    page = client.get(f"/r/{school.code}").get_data(as_text=True)
    assert "өңірлік" in page  # who reads a report about a teacher is said before sending
    response = client.post(f"/r/{school.code}", data=form_data(**overrides))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    [code] = CODE.findall(text)
    made = db.session.scalars(select(Report).order_by(Report.id.desc())).first()
    return made, code, text


def mails_to(user) -> list[OutgoingMail]:
    return list(db.session.scalars(select(OutgoingMail).where(OutgoingMail.to == user.email)))


def test_the_shipped_rules_send_staff_to_the_desk_and_critical_to_both():
    assert routing.route(Perpetrator.school_staff, Priority.normal) == Holder.desk
    # A critical report about a teacher still goes to the desk alone: the school is not told.
    assert routing.route(Perpetrator.school_staff, Priority.critical) == Holder.desk
    assert routing.route(Perpetrator.students, Priority.critical) == Holder.both
    assert routing.route(Perpetrator.students, Priority.high) == Holder.school


def test_a_report_naming_a_teacher_reaches_the_desk_and_not_the_school(
    app, client, login, desk_world
):
    w = desk_world
    made, code, receipt_page = send_in_kazakh(
        client,
        w["school"],
        perpetrator="school_staff",
        forms=["adult_at_school"],
        description=STORY,
    )
    assert made.routing == Holder.desk
    # The confirmation says who reads it, in the child's words (Kazakh, «сен»).
    assert "мектебің емес" in receipt_page

    # The school: no notice, nothing in the inbox, the report cannot be opened.
    assert mails_to(w["counselor"]) == [] and mails_to(w["director"]) == []
    [notice] = mails_to(w["desk"])
    assert "/desk/inbox" in notice.body and "5150" not in notice.body + notice.subject
    assert mails_to(w["other_desk"]) == []
    counselor = staff_client(app, login, w["counselor"])
    assert made.label not in counselor.get("/staff/inbox").get_data(as_text=True)
    assert counselor.post(f"/staff/reports/{opaque(made.id)}/open").status_code == 404
    assert db.session.scalar(select(Case).where(Case.report_id == made.id)) is None

    # The desk of the region reads it and answers the child.
    desk = staff_client(app, login, w["desk"])
    inbox = desk.get("/desk/inbox").get_data(as_text=True)
    assert made.label in inbox
    page = desk.get(f"/desk/reports/{opaque(made.id)}")
    assert page.status_code == 200 and STORY in page.get_data(as_text=True)
    sent = desk.post(f"/desk/reports/{opaque(made.id)}/messages", data={"body": ANSWER})
    assert sent.status_code == 302
    # An empty answer: a clear message, nothing written.
    assert (
        desk.post(f"/desk/reports/{opaque(made.id)}/messages", data={"body": " "}).status_code
        == 400
    )

    # The child sees the answer with their receipt code, from the regional service.
    child = app.test_client()
    assert child.post("/r/check", data={"code": code}).status_code == 303
    conversation = child.get("/r/conversation").get_data(as_text=True)
    assert ANSWER in conversation and "өңірлік" in conversation.lower()

    # The desk opens the case; the school still sees nothing of it.
    assert desk.post(f"/desk/reports/{opaque(made.id)}/open").status_code == 302
    case = db.session.scalar(select(Case).where(Case.report_id == made.id))
    assert case is not None
    assert counselor.get(f"/staff/cases/{opaque(case.id)}").status_code == 404
    for address in ("/staff/inbox", "/staff/cases", "/staff/overdue"):
        assert case.label not in counselor.get(address).get_data(as_text=True), address
    director = staff_client(app, login, w["director"])
    assert director.get(f"/staff/cases/{opaque(case.id)}").status_code == 404
    audit_page = director.get("/staff/audit").get_data(as_text=True)
    # The filter lists every kind of entry; the entries themselves name none of the desk's.
    entries = audit_page.split("<tbody>")[1].split("</tbody>")[0]
    for action in ("report.submit", "desk.report_view", "desk.message_send", "desk.case_open"):
        assert str(audit.ACTION_TITLES[action]) not in entries, action
        assert action not in entries
    assert mails_to(w["counselor"]) == []

    # Everything the desk did is in the audit log, by the officer.
    actions = {
        entry.action
        for entry in db.session.scalars(
            select(AuditEntry).where(AuditEntry.actor_id == w["desk"].id)
        )
    }
    assert {"desk.report_view", "desk.message_send", "desk.case_open", "case.open"} <= actions


def test_the_desk_hands_the_report_back_and_the_school_sees_it_as_usual(
    app, client, login, desk_world
):
    w = desk_world
    made, _code = report(w["school"], perpetrator=Perpetrator.school_staff)
    assert made.routing == Holder.desk
    desk = staff_client(app, login, w["desk"])
    assert desk.post(f"/desk/reports/{opaque(made.id)}/hand-back").status_code == 302
    db.session.refresh(made)
    assert made.routing == Holder.school
    assert [mail.to for mail in mails_to(w["counselor"])] == [w["counselor"].email]
    counselor = staff_client(app, login, w["counselor"])
    assert made.label in counselor.get("/staff/inbox").get_data(as_text=True)
    # The desk no longer holds it.
    assert desk.get(f"/desk/reports/{opaque(made.id)}").status_code == 404
    assert "desk.hand_back" in {e.action for e in db.session.scalars(select(AuditEntry))}


def test_two_officers_handing_back_at_once_tell_the_school_once(app, desk_world):
    """Both loaded the report while the desk held it; the second finds the school holds it."""
    from incidents.desk import services

    w = desk_world
    made, _code = report(w["school"], perpetrator=Perpetrator.school_staff)
    stale = Report(id=made.id, routing=Holder.desk)  # what the second officer's request read
    assert services.hand_back(made, by=w["desk"])
    db.session.commit()
    with pytest.raises(services.DeskError):
        services.hand_back(stale, by=w["desk"])
    db.session.rollback()
    assert [mail.to for mail in mails_to(w["counselor"])] == [w["counselor"].email]


def test_a_critical_report_reaches_the_school_and_the_desk(app, client, login, desk_world):
    w = desk_world
    school = w["school"]
    response = client.post(
        f"/r/{school.code}/danger", data={"description": "гаражда 4242", "token": "d" * 32}
    )
    assert response.status_code == 200
    made = db.session.scalars(select(Report).order_by(Report.id.desc())).first()
    assert made.priority == Priority.critical and made.routing == Holder.both
    assert len(mails_to(w["counselor"])) == 1 and len(mails_to(w["desk"])) == 1
    counselor = staff_client(app, login, w["counselor"])
    assert made.label in counselor.get("/staff/inbox").get_data(as_text=True)
    desk = staff_client(app, login, w["desk"])
    assert made.label in desk.get("/desk/inbox").get_data(as_text=True)
    assert desk.get(f"/desk/reports/{opaque(made.id)}").status_code == 200


def test_a_desk_officer_of_region_a_sees_nothing_of_region_b(app, login, desk_world):
    w = desk_world
    theirs, _code = report(
        w["other_school"], perpetrator=Perpetrator.school_staff, description="B 7777"
    )
    mine, _code = report(w["school"], perpetrator=Perpetrator.school_staff)
    plain_school, _code = report(w["school"])  # the school's own: not the desk's
    desk = staff_client(app, login, w["desk"])
    inbox = desk.get("/desk/inbox").get_data(as_text=True)
    assert mine.label in inbox and theirs.label not in inbox and plain_school.label not in inbox
    for path in ("", "/messages", "/open", "/hand-back"):
        address = f"/desk/reports/{opaque(theirs.id)}{path}"
        answer = desk.post(address, data={"body": "x"}) if path else desk.get(address)
        assert answer.status_code == 404, address
        assert "7777" not in answer.get_data(as_text=True)
    assert desk.get(f"/desk/reports/{opaque(plain_school.id)}").status_code == 404
    db.session.refresh(theirs)
    assert theirs.routing == Holder.desk and theirs.messages == []
    assert db.session.scalar(select(Case).where(Case.report_id == theirs.id)) is None
    # A national desk officer (no region) sees both regions' desk reports.
    national = staff_client(app, login, factories.user(Role.desk_officer))
    inbox = national.get("/desk/inbox").get_data(as_text=True)
    assert mine.label in inbox and theirs.label in inbox
    # Nobody else reaches the desk's pages.
    counselor = staff_client(app, login, w["counselor"])
    assert counselor.get("/desk/inbox").status_code == 403


def test_a_desk_officer_must_use_a_second_factor_and_has_a_region_or_the_country(app):
    from school.security import two_factor_required

    officer = factories.user(Role.desk_officer, region_=factories.region("KZ-71"))
    assert two_factor_required(officer)
    assert officer.school_id is None and officer.region_id is not None
