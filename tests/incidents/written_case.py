"""A case with something distinctive written in every free-text field: a student's report with a
PDF and a follow-up with a photo (the student pages), the counselor's work on it (the staff pages
and the services), a partner's outcome, an approved closure, a reopening and a second closure;
and a teacher's report closed as a case of its own."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from core.model_types import utcnow
from core.opaque import opaque
from extensions import db
from incidents.cases import case_steps, state_machine
from incidents.cases.enums import ActionKind, Outcome, ReferralStatus, RiskLevel, Screening
from incidents.cases.models import Case, TeacherReport
from incidents.intake.models import Priority, Report
from incidents.referrals import answers
from incidents.referrals import services as referrals
from school.models import Role
from tests import factories
from tests.incidents.case_factories import Staff, close_low_risk
from tests.incidents.factories import MINIMAL_PDF, form_data, jpeg_bytes, upload

# One distinctive token per field, each in a sentence as people write them.
TEXTS = {
    "description": "Айбек-7731 мені дәлізде итеріп, телефонымды сындырды.",
    "student_message": "Оқушы-5512: бүгін тағы келді, қорқамын.",
    "staff_message": "Психолог-8823: ертең 12-кабинетке кел.",
    "narrative": "Баяндама-4417: бала үш апта бойы қорлық көрген.",
    "alias": "Лақап-3309",
    "action_note": "Әңгіме-6620: бала бәрін айтып берді.",
    "facts": "Фактілер-1187: көгерген із, сынған телефон.",
    "outcome": "Нәтиже-2294: ата-анасымен профилактикалық әңгіме өтті.",
    "priority_reason": "Себеп-7781: қайталанатын қауіп.",
    "closing_note": "Жабу-9035: қайталанбады.",
    "decision_note": "Шешім-4456: келісемін.",
    "reopen_reason": "Қайта-5530: жаңа оқиға болды.",
    "teacher": "Мұғалім-8864 үзілісте баланың жылағанын көрдім.",
    "teacher_closing": "Мұғалім-жабу-2201: анықталды.",
}
# A marker in the PDF's bytes (a comment): it is never in the encrypted store, and the PDF is
# redrawn on arrival anyway.
PDF_MARKER = b"Attachment-marker-1122"
PDF = MINIMAL_PDF.replace(b"%%EOF", b"% " + PDF_MARKER + b"\n%%EOF")
CODE = re.compile(r"<code>([\d ]+)</code>")


@dataclass
class WrittenCase:
    case: Case
    report: Report
    teacher_case: Case
    code: str


def _approve_closure(case: Case, staff: Staff, note: str) -> None:
    for action in case.actions:
        if not action.is_done and action.kind != ActionKind.referral:
            case_steps.complete_action(
                action, by=staff.counselor, now=utcnow(), note=TEXTS["action_note"]
            )
    request = state_machine.close(
        case, by=staff.counselor, outcome=Outcome.resolved, note=note, now=utcnow()
    )
    db.session.commit()
    state_machine.decide_closure(
        request, by=staff.admin, approve=True, note=TEXTS["decision_note"], now=utcnow()
    )
    db.session.commit()


def written_case(app, login, staff: Staff) -> WrittenCase:
    school = staff.school
    student = app.test_client()
    response = student.post(
        f"/r/{school.code}",
        data=form_data(
            description=TEXTS["description"], files=[upload(PDF, "note.pdf", "application/pdf")]
        ),
        content_type="multipart/form-data",
    )
    code = CODE.search(response.get_data(as_text=True)).group(1)
    student.post("/r/check", data={"code": code})
    student.post(
        "/r/conversation",
        data={"body": TEXTS["student_message"], "files": [upload(jpeg_bytes(), "me.jpg")]},
        content_type="multipart/form-data",
    )
    report = db.session.scalar(select(Report).where(Report.school_id == school.id))
    assert len(report.attachments) == 2 and len(report.messages) == 1

    counselor = app.test_client()
    login(staff.counselor, using=counselor)
    counselor.post(f"/staff/reports/{opaque(report.id)}/open")
    case = db.session.scalar(select(Case).where(Case.report_id == report.id))
    counselor.post(
        f"/staff/cases/{opaque(case.id)}/messages", data={"body": TEXTS["staff_message"]}
    )
    state_machine.triage(
        case,
        by=staff.counselor,
        screening=Screening.peer_violence,
        risk=RiskLevel.high,
        counselor=staff.counselor,
        injury=False,
        now=utcnow(),
    )
    db.session.commit()
    response = counselor.post(
        f"/staff/cases/{opaque(case.id)}/details",
        data={
            "screening": "peer_violence",
            "risk": "high",
            "counselor_id": staff.counselor.id,
            "narrative": TEXTS["narrative"],
            "version": case.version,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    counselor.post(
        f"/staff/cases/{opaque(case.id)}/people",
        data={"role": "victim", "kind": "student", "alias": TEXTS["alias"]},
    )
    counselor.post(
        f"/staff/cases/{opaque(case.id)}/actions",
        data={"kind": "talk_victim", "due_on": utcnow().date().isoformat(), "person_id": 0},
    )
    db.session.refresh(case)
    talk = next(a for a in case.actions if a.kind == ActionKind.talk_victim)
    response = counselor.post(
        f"/staff/cases/{opaque(case.id)}/actions/{opaque(talk.id)}/done",
        data={"note": TEXTS["action_note"]},
    )
    assert response.status_code == 302

    partner = factories.user(Role.partner, body_=staff.police)
    if not case.referrals:
        referrals.new_referral(
            case, by=staff.counselor, kind=staff.police.kind, body=staff.police, now=utcnow()
        )
    for referral in case.referrals:
        referrals.update_draft(
            referral,
            by=staff.counselor,
            body=referrals.default_body(referral.body_kind, staff.school),
            language="kk",
            facts=["forms"],
            facts_text=TEXTS["facts"],
        )
        state_machine.send_referral(
            referral, by=staff.counselor, reference_number="01-15", now=utcnow()
        )
    db.session.commit()
    police = next(r for r in case.referrals if r.body_id == staff.police.id)
    answers.acknowledge(police, by=partner, body_reference="", now=utcnow())
    answers.record_outcome(police, by=partner, note=TEXTS["outcome"], now=utcnow())
    assert police.status == ReferralStatus.closed
    raised = Priority.critical if report.priority != Priority.critical else Priority.high
    case_steps.change_priority(
        case, by=staff.counselor, priority=raised, reason=TEXTS["priority_reason"], now=utcnow()
    )
    db.session.commit()

    _approve_closure(case, staff, TEXTS["closing_note"])
    state_machine.reopen(case, by=staff.counselor, reason=TEXTS["reopen_reason"], now=utcnow())
    db.session.commit()
    _approve_closure(case, staff, TEXTS["closing_note"])

    teacher = app.test_client()
    login(staff.teacher, using=teacher)
    response = teacher.post(
        "/staff/my-reports/new",
        data={
            "forms": ["verbal"],
            "perpetrator": "students",
            "place": "yard",
            "happened": "today",
            "description": TEXTS["teacher"],
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    filed = db.session.scalar(select(TeacherReport).where(TeacherReport.school_id == school.id))
    teacher_case = state_machine.open_case(filed, by=staff.counselor, now=utcnow())
    close_low_risk(teacher_case, staff, TEXTS["teacher_closing"])
    db.session.commit()
    db.session.expire_all()
    return WrittenCase(case=case, report=report, teacher_case=teacher_case, code=code)
