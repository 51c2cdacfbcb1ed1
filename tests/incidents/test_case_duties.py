"""Legal duties as clocks on a case (issue 16): each shipped rule creates its duty with its due
time, an overdue duty shows on the case page, the overdue lists, the home page's counts and the
overdue notices (without the story), the counselor records how it was met (audited), a referral
sent meets the duty that names its body, and another school can neither see nor meet it."""

from __future__ import annotations

import csv
import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.audit import AuditEntry
from core.model_types import utcnow
from core.opaque import opaque
from extensions import db
from incidents.cases import attention, duties, overdue, state_machine
from incidents.cases.duty_models import CaseDuty
from incidents.cases.enums import DutyMet, RiskLevel, Screening
from incidents.intake.models import Perpetrator, ViolenceForm
from incidents.referrals import services as referrals
from incidents.scopes import case_scope
from school.models import BodyKind
from tests.incidents.case_factories import (  # noqa: F401 - english_messages is a fixture
    english_messages,
    staffed_school,
    triaged_case,
)

with duties.RULES_CSV.open(encoding="utf-8") as _handle:
    SHIPPED = list(csv.DictReader(_handle))


def _first(value: str) -> str | None:
    return value.split("|")[0] if value else None


def _case_for(staff, row: dict, now):
    """A triaged case that meets exactly the conditions of the rule's row."""
    screening = Screening(_first(row["screening"]) or "peer_conflict")
    fields = {}
    if row["form"]:
        fields["forms"] = [ViolenceForm(_first(row["form"]))]
    if row["perpetrator"]:
        fields["perpetrator"] = Perpetrator(_first(row["perpetrator"]))
    return triaged_case(staff, screening=screening, risk=RiskLevel.medium, now=now, **fields)


def test_every_shipped_rule_cites_its_source_in_three_languages_and_says_whose_days():
    assert SHIPPED
    for row in SHIPPED:
        assert all(len(row[f"source_{lang}"]) > 40 for lang in ("en", "ru", "kk")), row["key"]
        assert row["days"] in ("law", "ours", "check"), row["key"]
        if row["days"] != "law":
            # Where the days are ours or unsettled, the source says so in every language.
            assert "our choice" in row["source_en"] and "наш выбор" in row["source_ru"]
            assert "біздің таңдауымыз" in row["source_kk"]
    assert any("127-2" in row["source_en"] for row in SHIPPED)


@pytest.mark.parametrize("row", SHIPPED, ids=[row["key"] for row in SHIPPED])
def test_each_rule_creates_its_duty_with_its_due_time(app, row):
    staff = staffed_school()
    now = utcnow().replace(microsecond=0)
    case = _case_for(staff, row, now)
    found = {duty.kind: duty for duty in case.duties}
    assert row["duty"] in found, sorted(found)
    shortest = min(int(r["within_hours"]) for r in SHIPPED if r["duty"] == row["duty"])
    assert found[row["duty"]].due_at == now + timedelta(hours=shortest)
    assert found[row["duty"]].school_id == staff.school.id and not found[row["duty"]].is_met


def test_a_case_no_rule_names_carries_no_duty_and_a_corrected_screening_withdraws_one(app):
    staff = staffed_school()
    case = triaged_case(staff, screening=Screening.peer_conflict, forms=[ViolenceForm.verbal])
    assert case.duties == []

    state_machine.update_details(
        case,
        by=staff.counselor,
        now=utcnow(),
        expected_version=case.version,
        screening=Screening.bullying,
        risk=case.risk,
        counselor=staff.counselor,
        injury=False,
        narrative="",
    )
    db.session.commit()
    assert {d.kind for d in case.duties} >= {"bullying_complaint", "bullying_protocol"}
    state_machine.update_details(
        case,
        by=staff.counselor,
        now=utcnow(),
        expected_version=case.version,
        screening=Screening.peer_conflict,
        risk=case.risk,
        counselor=staff.counselor,
        injury=False,
        narrative="",
    )
    db.session.commit()
    assert case.duties == []


@pytest.mark.usefixtures("english_messages")
def test_an_overdue_duty_shows_everywhere_and_is_notified_once_without_the_story(
    client, login, caplog
):
    staff = staffed_school()
    then = utcnow() - timedelta(hours=100)
    case = triaged_case(
        staff,
        screening=Screening.bullying,
        now=then,
        forms=[ViolenceForm.bullying],
        description="Secret story 5822",
    )
    late = {d.kind for d in case.duties if d.due_at < utcnow()}
    assert late == {"bullying_complaint", "bullying_analysis", "bullying_protocol"}
    login(staff.counselor)
    page = client.get(f"/staff/cases/{opaque(case.id)}").get_data(as_text=True)
    section = page[page.index('id="duties"') :]
    assert section.count('class="is-overdue"') == 3
    assert "Article 127-2" in section and "overdue by" in section
    listed = client.get("/staff/overdue?who=school").get_data(as_text=True)
    assert "Duties by law past their time" in listed
    assert "Anti-bullying model, step 1: register the complaint" in listed
    assert "Anti-bullying model, step 3" not in listed  # the help plan is not due yet
    assert attention.counts(staff.counselor)["late_duties"] == 3
    assert "3 duties by law" in client.get("/staff/inbox").get_data(as_text=True)
    caplog.set_level(logging.INFO)
    caplog.clear()
    assert overdue.notify_overdue(utcnow()) == 3  # the three duties (the report was answered)
    sent = [r.getMessage() for r in caplog.records if "Mail not sent" in r.getMessage()]
    assert sent and all(staff.admin.email in m for m in sent)
    assert not any("5822" in m or "Secret story" in m for m in sent)
    assert sum("legal duty" in m for m in sent) == 3
    assert overdue.notify_overdue(utcnow()) == 0


def test_a_duty_the_required_referral_covers_is_not_notified_twice(app):
    staff = staffed_school()
    triaged_case(staff, screening=Screening.home_violence, now=utcnow() - timedelta(hours=30))
    kinds = [kind for kind, *_ in overdue._items_to_notify(utcnow())]
    assert "duty" not in kinds and kinds.count("referral") == 2


@pytest.mark.usefixtures("english_messages")
def test_the_counselor_records_how_a_duty_was_met_who_when_how_audited(client, login):
    staff = staffed_school()
    case = triaged_case(staff, screening=Screening.bullying, forms=[ViolenceForm.bullying])
    duty = next(d for d in case.duties if d.kind == "bullying_complaint")
    login(staff.counselor)
    url = f"/staff/cases/{opaque(case.id)}/duties/{opaque(duty.id)}/met"
    # "Not needed" without a reason is refused and changes nothing.
    page = client.post(url, data={"how": "not_needed", "note": " "}, follow_redirects=True)
    assert "Please say why this duty is not needed" in page.get_data(as_text=True)
    db.session.refresh(duty)
    assert not duty.is_met
    # A made-up way is refused by the form.
    client.post(url, data={"how": "referral", "note": "x"})
    client.post(url, data={"how": "teleport", "note": "x"})
    db.session.refresh(duty)
    assert not duty.is_met
    before = utcnow()
    client.post(url, data={"how": "done", "note": "Жалоба зарегистрирована, № 14."})
    db.session.refresh(duty)
    assert duty.met_how == DutyMet.done and duty.met_by_id == staff.counselor.id
    assert duty.met_at >= before and duty.met_note == "Жалоба зарегистрирована, № 14."
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "duty.meet").order_by(AuditEntry.id.desc())
    )
    assert entry.actor_id == staff.counselor.id and '"how": "done"' in entry.detail
    assert "14" not in entry.detail  # the note stays out of the audit log
    # Met once: a second record is refused.
    client.post(url, data={"how": "not_needed", "note": "again"})
    db.session.refresh(duty)
    assert duty.met_how == DutyMet.done
    page = client.get(f"/staff/cases/{opaque(case.id)}").get_data(as_text=True)
    assert re.search(r"Met .* by Гүлнар Әбдіқызы", page)


def test_a_referral_sent_to_the_police_meets_the_bullying_protocol_duty(app):
    staff = staffed_school()
    case = triaged_case(staff, screening=Screening.bullying, forms=[ViolenceForm.bullying])
    referral = referrals.new_referral(
        case, by=staff.counselor, kind=BodyKind.police, body=staff.police, now=utcnow()
    )
    state_machine.send_referral(
        referral, by=staff.counselor, reference_number="№ 05-7", now=utcnow()
    )
    db.session.commit()
    duty = next(d for d in case.duties if d.kind == "bullying_protocol")
    assert duty.met_how == DutyMet.referral and duty.met_by_id == staff.counselor.id
    assert duty.met_note == "05-7"
    assert not next(d for d in case.duties if d.kind == "bullying_plan").is_met


@pytest.mark.usefixtures("english_messages")
def test_another_school_can_neither_see_nor_meet_a_duty(app, client, login):
    staff = staffed_school()
    case = triaged_case(
        staff, screening=Screening.bullying, forms=[ViolenceForm.bullying], now=utcnow()
    )
    duty = case.duties[0]
    other = staffed_school("Басқа мектеп", region_code="KZ-75")
    own = triaged_case(other, screening=Screening.bullying, forms=[ViolenceForm.bullying])
    login(other.counselor)
    # Their own case's address with our duty, and our case's address: both 404.
    assert (
        client.post(
            f"/staff/cases/{opaque(own.id)}/duties/{opaque(duty.id)}/met", data={"how": "done"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/staff/cases/{opaque(case.id)}/duties/{opaque(duty.id)}/met", data={"how": "done"}
        ).status_code
        == 404
    )
    db.session.refresh(duty)
    assert not duty.is_met
    their_list = client.get("/staff/overdue?who=school").get_data(as_text=True)
    assert case.label not in their_list
    assert all(
        d.school_id == other.school.id
        for d in overdue.overdue_duties(
            case_scope(other.counselor, CaseDuty.school_id),
            utcnow() + timedelta(days=60),
        )
    )
    # The school's administrator reads the duty but does not record it.
    director = app.test_client()
    login(staff.admin, using=director)
    url = f"/staff/cases/{opaque(case.id)}/duties/{opaque(duty.id)}/met"
    assert director.post(url, data={"how": "done"}).status_code == 403
