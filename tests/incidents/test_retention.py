"""Retention: cases closed longer ago than the period lose their texts and files; what the
statistics count stays, and recent cases are left alone."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from core.audit import AuditEntry
from core.model_types import utcnow
from extensions import db
from incidents.cases import case_steps, retention, state_machine
from incidents.cases.enums import CaseState, Outcome, ReferralStatus
from incidents.cases.models import Case, CaseTransition, ClosureRequest, PriorityChange
from incidents.intake import uploads
from incidents.intake.models import Attachment, Message, Report, ReportViolenceForm
from insights.casework import case_figures, referral_figures
from insights.filters import Filters
from tests.incidents.case_factories import (  # noqa: F401 - english_messages is a fixture
    close_low_risk,
    english_messages,
    new_case,
    staffed_school,
)
from tests.incidents.factories import staff_message
from tests.incidents.written_case import TEXTS, written_case

RECENT = "Жақында-4040: бала әлі де қорқады."


def closed_case(staff, description: str, closing_note: str) -> Case:
    """A low-risk case closed now (no approval needed), with a message."""
    case = close_low_risk(new_case(staff, description=description), staff, closing_note)
    db.session.commit()
    staff_message(case.report, staff.counselor, "Жақсы болсын-4041")
    return case


def closed_days_ago(case: Case, days: int) -> None:
    case = db.session.get(Case, case.id)
    case.closed_at = utcnow() - timedelta(days=days)
    db.session.commit()


def figures(staff):
    today = date.today()
    filters = Filters(start=today - timedelta(days=1), end=today + timedelta(days=1))
    cases = case_figures(staff.admin, filters)
    referrals = referral_figures(staff.admin, filters)
    return cases.total, [(row.key, row.count) for row in cases.rows], referrals


def test_a_case_closed_long_ago_is_purged_a_recent_one_is_not_and_statistics_stay(
    app, login, runner
):
    staff = staffed_school()
    old = written_case(app, login, staff)
    recent = closed_case(staff, RECENT, "Жабылды-4042")
    closed_days_ago(old.case, 1200)
    closed_days_ago(old.teacher_case, 1096)
    old_keys = [a.storage_key for a in db.session.get(Report, old.report.id).attachments]
    root = Path(app.instance_path) / "uploads"
    assert all((root / key).exists() for key in old_keys) and len(old_keys) == 2
    before = figures(staff)
    assert before[0] == 3 and ("resolved", 3) in before[1]
    old_report = db.session.get(Report, old.report.id)
    kept = (
        old_report.violence_forms,
        old_report.place,
        old_report.perpetrator,
        old_report.priority,
        old_report.created_at,
        old_report.first_response_at,
    )
    old_case = db.session.get(Case, old.case.id)
    outcome = (old_case.screening, old_case.risk, old_case.outcome, old_case.closed_at)
    referral_dates = sorted(
        (r.body_kind, r.status, r.sent_at, r.deadline_at) for r in old_case.referrals
    )

    dry = runner.invoke(args=["incidents", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "closed cases purged: 2 (dry run)" in dry.output
    assert "message texts emptied: 2" in dry.output and "attachments deleted: 2" in dry.output
    db.session.expire_all()
    assert db.session.get(Case, old.case.id).narrative == TEXTS["narrative"]  # nothing changed
    assert all((root / key).exists() for key in old_keys)

    result = runner.invoke(args=["incidents", "purge"])
    assert result.exit_code == 0, result.output
    assert "cases closed more than 1095 days ago" in result.output
    assert "closed cases purged: 2" in result.output
    assert "message texts emptied: 2" in result.output
    assert "attachments deleted: 2" in result.output
    texts = int(result.output.split("other texts emptied: ")[1].split()[0])
    assert texts >= 14  # descriptions, narrative, notes, alias, facts, outcome, reasons

    db.session.expire_all()
    case = db.session.get(Case, old.case.id)
    report = case.report
    assert case.purged_at is not None and case.narrative == "" and case.closing_note == ""
    assert report.description == "" and report.attachments == []
    assert [m.body for m in report.messages] == ["", ""]  # the messages and their times stay
    assert not any((root / key).exists() for key in old_keys)
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert {p.alias for p in case.people} == {""} and {a.note for a in case.actions} == {""}
    assert {(r.facts_text, r.outcome_note) for r in case.referrals} == {("", "")}
    notes = db.session.scalars(select(CaseTransition.note).where(CaseTransition.case_id == case.id))
    assert set(notes) == {""}
    requests = db.session.scalars(select(ClosureRequest).where(ClosureRequest.case_id == case.id))
    assert {(r.note, r.decision_note) for r in requests} == {("", "")}
    assert set(db.session.scalars(select(PriorityChange.reason))) == {""}
    teacher_case = db.session.get(Case, old.teacher_case.id)
    assert teacher_case.purged_at is not None and teacher_case.teacher_report.description == ""
    # Statistics stay: the report's facts, the case's outcome, the referrals' dates and status.
    assert (
        report.violence_forms,
        report.place,
        report.perpetrator,
        report.priority,
        report.created_at,
        report.first_response_at,
    ) == kept
    assert (case.screening, case.risk, case.outcome, case.closed_at) == outcome
    assert case.state == CaseState.closed
    assert (
        sorted((r.body_kind, r.status, r.sent_at, r.deadline_at) for r in case.referrals)
        == referral_dates
    )
    assert ReferralStatus.closed in {r.status for r in case.referrals}
    assert db.session.scalar(
        select(func.count()).where(ReportViolenceForm.report_id == report.id)
    ) == len(kept[0])
    assert figures(staff) == before

    # The recent case keeps everything.
    recent = db.session.get(Case, recent.id)
    assert recent.purged_at is None and recent.report.description == RECENT
    assert recent.closing_note == "Жабылды-4042"
    assert [m.body for m in recent.report.messages] == ["Жақсы болсын-4041"]

    # Audit: one entry per purged case and one for the run, with counts only.
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action.in_(["case.purge", "retention.purge"]))
    ).all()
    assert sorted((e.action, e.object_id) for e in entries) == sorted(
        [
            ("case.purge", old.case.id),
            ("case.purge", old.teacher_case.id),
            ("retention.purge", None),
        ]
    )
    assert all(value not in e.detail for e in entries for value in TEXTS.values())

    # The student with the code still gets a page, without the words.
    student = app.test_client()
    student.post("/r/check", data={"code": old.code})
    page = student.get("/r/conversation")
    assert page.status_code == 200 and TEXTS["description"] not in page.get_data(as_text=True)

    again = runner.invoke(args=["incidents", "purge"])
    assert "closed cases purged: 0" in again.output


def test_the_period_is_configurable_and_a_case_closed_again_is_purged_again(app):
    staff = staffed_school()
    case = closed_case(staff, "Отыз-4043 күн бұрын.", "Жабық-4044")
    closed_days_ago(case, 40)
    app.config["RETENTION_DAYS_CLOSED_CASES"] = 60
    assert retention.purge_closed_cases().cases == 0
    app.config["RETENTION_DAYS_CLOSED_CASES"] = 30
    assert retention.purge_closed_cases().cases == 1
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    purged_at = case.purged_at
    assert case.report.description == "" and purged_at is not None

    # Reopened after the purge, written to again, closed again: purged again 30 days later.
    state_machine.reopen(case, by=staff.counselor, reason="Жаңа-4045", now=utcnow())
    state_machine.update_details(
        case,
        by=staff.counselor,
        now=utcnow(),
        expected_version=None,
        screening=case.screening,
        risk=case.risk,
        counselor=staff.counselor,
        injury=False,
        narrative="Екінші баяндама-4046",
    )
    for action in case.actions:
        if not action.is_done:
            case_steps.complete_action(action, by=staff.counselor, now=utcnow())
    state_machine.close(
        case, by=staff.counselor, outcome=Outcome.resolved, note="Тағы-4049", now=utcnow()
    )
    db.session.commit()
    later = utcnow() + timedelta(days=31)
    assert retention.purge_closed_cases(now=utcnow()).cases == 0
    assert retention.purge_closed_cases(now=later).cases == 1
    db.session.expire_all()
    assert db.session.get(Case, case.id).narrative == ""


def test_files_no_attachment_names_are_deleted_once_a_day_old(app):
    orphan, fresh = uploads.save_bytes(b"left behind"), uploads.save_bytes(b"being saved")
    root = Path(app.instance_path) / "uploads"
    two_days_ago = (utcnow() - timedelta(days=2)).timestamp()
    os.utime(root / orphan, (two_days_ago, two_days_ago))
    assert retention.purge_closed_cases(dry_run=True).orphan_files == 1
    assert (root / orphan).exists()
    assert retention.purge_closed_cases().orphan_files == 1
    assert not (root / orphan).exists() and (root / fresh).exists()


def test_messages_of_open_cases_are_never_touched(app):
    staff = staffed_school()
    case = new_case(staff, description="Ашық-4047")
    staff_message(case.report, staff.counselor, "Ашық хабар-4048")
    case.created_at = utcnow() - timedelta(days=4000)
    db.session.commit()
    assert retention.purge_closed_cases().cases == 0
    db.session.expire_all()
    assert db.session.scalar(select(Message.body)) == "Ашық хабар-4048"
