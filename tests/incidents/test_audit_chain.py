"""The audit log of the response: every view and change of a case, every PDF, every message read
is an entry with facts only; the hash chain shows a changed or a deleted case entry."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select, text

from core.audit import AuditEntry
from core.audit_verify import verify_chain
from core.opaque import opaque
from extensions import db
from incidents.cases.enums import Screening
from incidents.intake.models import ViolenceForm
from incidents.intake.reporting import add_reporter_message
from tests.incidents.case_factories import (  # noqa: F401 - english_messages is a fixture
    english_messages,
    staffed_school,
    triaged_case,
)

STORY = "Story 7310 of the student"
NARRATIVE = "Narrative 2291 of the counselor"


def entries(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
        )
    )


@pytest.fixture
def worked_case(app, login, client):
    staff = staffed_school()
    case = triaged_case(
        staff, forms=[ViolenceForm.sexual], screening=Screening.peer_violence, description=STORY
    )
    login(staff.counselor)
    client.post(
        f"/staff/cases/{opaque(case.id)}/details",
        data={
            "screening": "peer_violence",
            "risk": "high",
            "counselor_id": staff.counselor.id,
            "narrative": NARRATIVE,
            "version": case.version,
        },
    )
    client.post(f"/staff/cases/{opaque(case.id)}/messages", data={"body": "Are you safe?"})
    add_reporter_message(case.report, "I am at home now.")
    client.get(f"/staff/cases/{opaque(case.id)}")
    client.get(f"/staff/cases/{opaque(case.id)}/summary.pdf")
    client.get(f"/staff/referrals/{opaque(case.referrals[0].id)}/letter.pdf")
    return staff, case


def test_views_changes_pdfs_and_reads_are_recorded_with_who_and_what(worked_case):
    staff, case = worked_case
    [update] = entries("case.update")
    assert update.actor_id == staff.counselor.id and update.object_id == case.id
    assert update.school_id == staff.school.id
    assert sorted(json.loads(update.detail)["fields"]) == ["narrative", "risk"]
    assert entries("case.view") and all(
        e.actor_id == staff.counselor.id for e in entries("case.view")
    )
    [read] = entries("message.read")
    assert json.loads(read.detail)["count"] == 1
    assert entries("case.summary_pdf") and entries("referral.letter_pdf")
    assert entries("message.send") and entries("case.triage") and entries("case.rules_applied")
    # Facts only: no narrative, no story, no message text anywhere in the log.
    for entry in db.session.scalars(select(AuditEntry)):
        for secret in (STORY, NARRATIVE, "Are you safe?", "I am at home now."):
            assert secret not in entry.detail


def test_a_changed_case_entry_breaks_the_chain_at_that_entry(worked_case, runner):
    assert verify_chain()[1] is None
    assert "audit log intact" in runner.invoke(args=["audit", "verify"]).output
    target = entries("case.update")[0]
    seq = target.seq
    forged = json.dumps({"fields": []})
    # Tampering goes around the ORM, which refuses any change.
    db.session.execute(
        text("UPDATE audit_entries SET detail = :detail WHERE id = :id"),
        {"detail": forged, "id": target.id},
    )
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"broken at entry {seq}" in result.output


def test_a_deleted_case_entry_breaks_the_chain(worked_case, runner):
    target = entries("case.view")[0]
    seq = target.seq
    db.session.execute(text("DELETE FROM audit_entries WHERE id = :id"), {"id": target.id})
    db.session.commit()
    checked, broken = verify_chain()
    assert broken == seq and checked == seq - 1
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"broken at entry {seq}" in result.output


def test_nobody_edits_the_log_through_the_application(worked_case):
    entry = entries("case.view")[0]
    entry.action = "case.nothing"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()


def test_the_school_admin_reads_the_log_page_by_page(worked_case, login, monkeypatch):
    from school import audit_page

    staff, _case = worked_case
    monkeypatch.setattr(audit_page, "AUDIT_PAGE", 5)
    client = _client()
    login(staff.admin, using=client)
    first = client.get("/staff/audit").get_data(as_text=True)
    assert "Older entries" in first and staff.admin.full_name in first
    older = re.search(r'href="(/staff/audit\?before=[0-9a-z]{7})"', first).group(1)
    second = client.get(older).get_data(as_text=True)
    seqs_first = set(re.findall(r"<tr>\s*<td>([0-9a-z]{7})</td>", first))
    seqs_second = set(re.findall(r"<tr>\s*<td>([0-9a-z]{7})</td>", second))
    assert len(seqs_first) == 5 and seqs_second and not seqs_first & seqs_second
    assert entries("audit.view")[-1].actor_id == staff.admin.id


def _client():
    from flask import current_app

    return current_app.test_client()


def test_the_log_page_shows_no_running_number(worked_case, login, monkeypatch):
    """Found by the second review: the school administrator's audit page showed each entry's
    place in the platform's chain (``seq``: the gap between two entries of one's school counts
    what happened at every other school) and the plain ids in the details (``"case_id": 41``),
    the running numbers that addresses no longer carry (issue 13, finding 10)."""
    import html

    from school import audit_page

    staff, case = worked_case
    monkeypatch.setattr(audit_page, "AUDIT_PAGE", 5)
    client = _client()
    login(staff.admin, using=client)
    page = html.unescape(client.get("/staff/audit").get_data(as_text=True))
    # The details are lines ("case id: <token>", issue 20), not JSON; never a plain id.
    assert f"case id: {opaque(case.id)}" in page
    assert not re.search(
        r"(?:case|message|action|person|attachment|request) id: \d+(?![0-9a-z])", page
    )
    assert not re.search(r"<tr>\s*<td>\d+</td>", page)
    assert re.search(r'href="/staff/audit\?before=[0-9a-z]{7}"', page)
