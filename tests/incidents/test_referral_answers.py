"""Referrals must be answered (issue 16, issue 20): the body acknowledges with its own number,
then answers (accepted, declined with a reason, transferred, closed with an outcome) within the
time of its kind; its partner can undo the answer for a short time and not later, and never
another body's; a referral left unanswered returns to the school and the region's desk as
overdue (case page, overdue list, home page counts, the desk's inbox, one notice each without
the story)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.audit import AuditEntry
from core.model_types import utcnow
from core.opaque import opaque
from extensions import db
from incidents.cases import attention, overdue, state_machine
from incidents.cases.enums import CaseState, Disposition, ReferralStatus, Screening
from incidents.intake.models import ViolenceForm
from incidents.referrals import answers
from incidents.referrals.answer_times import answer_times
from school.models import BodyKind, Role
from tests import factories
from tests.incidents.case_factories import (  # noqa: F401 - english_messages is a fixture
    english_messages,
    staffed_school,
    triaged_case,
)


def sent(staff, *, at=None):
    at = at or utcnow()
    case = triaged_case(
        staff, forms=[ViolenceForm.sexual], screening=Screening.peer_violence, now=at
    )
    referral = next(r for r in case.referrals if r.body_kind == BodyKind.police)
    state_machine.send_referral(referral, by=staff.counselor, reference_number="09-1", now=at)
    db.session.commit()
    return referral


def test_sending_sets_the_answer_time_of_the_bodys_kind_and_moves_the_case(app):
    staff = staffed_school()
    at = utcnow().replace(microsecond=0)
    referral = sent(staff, at=at)
    assert referral.answer_due_at == at + answer_times()[BodyKind.police]
    assert referral.case.state == CaseState.referred  # it left "triaged" (issue 20)


@pytest.mark.usefixtures("english_messages")
def test_acknowledge_then_each_answer(client, login):
    staff = staffed_school()
    partner = factories.user(Role.partner, body_=staff.police, locale="en")
    login(partner)
    for disposition, note, status in (
        ("declined", "Not our district: Esil district police.", ReferralStatus.closed),
        ("transferred", "Sent to the Esil district police, No. 77.", ReferralStatus.closed),
        ("accepted", "", ReferralStatus.acknowledged),
    ):
        referral = sent(staff)
        base = f"/partner/referrals/{opaque(referral.id)}"
        client.post(base + "/acknowledge", data={"body_reference": "№ КУИ-1"})
        db.session.refresh(referral)
        assert referral.body_reference == "КУИ-1"
        if note:
            # A decline or a transfer without its reason or its address is refused.
            response = client.post(
                base + "/outcome", data={"disposition": disposition, "confirm": "y"}
            )
            assert response.status_code == 400
            db.session.refresh(referral)
            assert referral.disposition is None
        client.post(
            base + "/outcome",
            data={"disposition": disposition, "outcome_note": note, "confirm": "y"},
        )
        db.session.refresh(referral)
        assert referral.disposition == Disposition(disposition) and referral.status == status
        assert referral.outcome_note == note
    # The accepted one closes later with its outcome.
    client.post(
        base + "/outcome",
        data={"disposition": "closed", "outcome_note": "Protocol drawn up.", "confirm": "y"},
    )
    db.session.refresh(referral)
    assert referral.status == ReferralStatus.closed and referral.accepted_at is not None
    page = client.get(base).get_data(as_text=True)
    assert "Protocol drawn up." in page and "№ №" not in page


@pytest.mark.usefixtures("english_messages")
def test_an_answer_can_be_undone_for_a_short_time_by_its_body_only(app, client, login):
    staff = staffed_school()
    referral = sent(staff)
    partner = factories.user(Role.partner, body_=staff.police, locale="en")
    answers.acknowledge(referral, by=partner, body_reference="1", now=utcnow())
    answers.answer(referral, by=partner, disposition=Disposition.accepted, note="", now=utcnow())
    answers.answer(referral, by=partner, disposition=Disposition.closed, note="Done", now=utcnow())
    db.session.commit()
    # Another body's partner: not found, nothing changes.
    stranger = factories.user(Role.partner, body_=staff.guardianship, locale="en")
    other = app.test_client()
    login(stranger, using=other)
    assert other.post(f"/partner/referrals/{opaque(referral.id)}/undo").status_code == 404
    login(partner)
    page = client.get(f"/partner/referrals/{opaque(referral.id)}").get_data(as_text=True)
    assert "/undo" in page
    client.post(f"/partner/referrals/{opaque(referral.id)}/undo")
    db.session.refresh(referral)
    # Back to "accepted": the acceptance stands, the closing answer is taken back.
    assert referral.status == ReferralStatus.acknowledged
    assert referral.disposition == Disposition.accepted and referral.outcome_note == ""
    assert db.session.scalar(
        select(AuditEntry.id).where(AuditEntry.action == "referral.outcome_undo")
    )
    # Past the window the answer stands.
    answers.answer(referral, by=partner, disposition=Disposition.closed, note="Done", now=utcnow())
    referral.disposition_at = utcnow() - answers.UNDO_WINDOW - timedelta(minutes=1)
    db.session.commit()
    page = client.get(f"/partner/referrals/{opaque(referral.id)}").get_data(as_text=True)
    assert "/undo" not in page
    response = client.post(f"/partner/referrals/{opaque(referral.id)}/undo")
    assert response.status_code == 409 and "write to the school" in response.get_data(as_text=True)
    db.session.refresh(referral)
    assert referral.status == ReferralStatus.closed and referral.outcome_note == "Done"


@pytest.mark.usefixtures("english_messages")
def test_an_unanswered_referral_returns_to_the_school_and_the_desk(app, client, login, caplog):
    staff = staffed_school()
    long_ago = utcnow() - timedelta(hours=100)
    referral = sent(staff, at=long_ago)
    answered = sent(staff, at=long_ago)
    partner = factories.user(Role.partner, body_=staff.police, locale="en")
    answers.acknowledge(answered, by=partner, body_reference="2", now=long_ago)
    answers.answer(answered, by=partner, disposition=Disposition.accepted, note="", now=long_ago)
    # Acknowledged but not answered still counts.
    answers.acknowledge(referral, by=partner, body_reference="3", now=long_ago)
    db.session.commit()
    desk = factories.user(
        Role.desk_officer, region_=staff.school.region, locale="en", full_name="Desk"
    )
    other = staffed_school("Басқа мектеп", region_code="KZ-75")
    other_desk = factories.user(Role.desk_officer, region_=other.school.region, locale="en")

    login(staff.counselor)
    page = client.get(f"/staff/cases/{opaque(referral.case_id)}").get_data(as_text=True)
    assert "No answer from the body in time" in page
    listed = client.get("/staff/overdue?who=school").get_data(as_text=True)
    section = listed[listed.index("Referrals the body has not answered in time") :]
    section = section[: section.index("</ul>")]
    assert referral.case.label in section and answered.case.label not in section
    assert attention.counts(staff.counselor)["unanswered"] == 1
    inbox = client.get("/staff/inbox").get_data(as_text=True)
    row = inbox[inbox.index(referral.case.label) :]
    # The unanswered police referral and the guardianship draft not sent in time.
    assert "2 referrals" in row[: row.index("</tr>")]

    desk_client = app.test_client()
    login(desk, using=desk_client)
    inbox = desk_client.get("/desk/inbox").get_data(as_text=True)
    assert referral.case.label in inbox and answered.case.label not in inbox
    other_client = app.test_client()
    login(other_desk, using=other_client)
    assert referral.case.label not in other_client.get("/desk/inbox").get_data(as_text=True)

    caplog.set_level(logging.INFO)
    caplog.clear()
    overdue.notify_overdue(utcnow())
    sent_mails = [r.getMessage() for r in caplog.records if "Mail not sent" in r.getMessage()]
    about = [m for m in sent_mails if "no answer from the body" in m]
    assert len(about) == 2  # the school's administrator and the region's desk officer
    assert any(staff.admin.email in m for m in about) and any(desk.email in m for m in about)
    assert not any(other_desk.email in m for m in sent_mails)
    assert not any("Жоғары" in m or "09-1" in m for m in about)
    caplog.clear()
    overdue.notify_overdue(utcnow())
    assert not [r for r in caplog.records if "no answer from the body" in r.getMessage()]
