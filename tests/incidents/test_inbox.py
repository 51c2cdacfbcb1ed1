"""The inbox and time: priority order, first-response targets (configurable), the time to first
response kept for statistics, overdue lists per counselor and per school, the once-only notice to
the school administrator, and the teacher's named report."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from sqlalchemy import func, select

from core.model_types import utcnow
from core.opaque import opaque
from extensions import db
from incidents.cases import case_steps, overdue, state_machine
from incidents.cases.deadlines import response_deadline, time_left
from incidents.cases.enums import ActionKind, CaseState, RiskLevel, Screening
from incidents.cases.models import Case, OverdueNotice, TeacherReport
from incidents.intake.models import Perpetrator, Place, Priority, ViolenceForm, WhenHappened
from incidents.referrals import services as referrals
from incidents.scopes import case_scope
from incidents.teacher.named_report import file_teacher_report
from school.models import Role
from tests import factories
from tests.incidents.case_factories import (  # noqa: F401 - english_messages is a fixture
    case_in_progress,
    english_messages,
    new_case,
    staffed_school,
    triaged_case,
)
from tests.incidents.factories import report


def mails(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "Mail not sent" in r.getMessage()]


def test_the_inbox_lists_new_reports_most_urgent_first_with_time_left(client, login):
    staff = staffed_school()
    low, _ = report(staff.school, forms=[ViolenceForm.verbal])
    high, _ = report(staff.school, forms=[ViolenceForm.sexual])
    normal, _ = report(staff.school, forms=[ViolenceForm.physical])
    old_normal, _ = report(staff.school, forms=[ViolenceForm.physical])
    old_normal.created_at = utcnow() - timedelta(hours=30)
    db.session.commit()
    elsewhere, _ = report(factories.school(), forms=[ViolenceForm.sexual])
    login(staff.counselor)
    page = client.get("/staff/inbox").get_data(as_text=True)
    order = [page.index(r.label) for r in (high, old_normal, normal, low)]
    assert order == sorted(order)
    assert elsewhere.label not in page
    assert "overdue by" in page and "left" in page


def test_targets_are_one_four_twenty_four_and_seventy_two_hours_by_default(app):
    start = utcnow()
    expected = {Priority.critical: 1, Priority.high: 4, Priority.normal: 24, Priority.low: 72}
    for priority, hours in expected.items():
        assert response_deadline(start, priority) - start == timedelta(hours=hours)


def test_targets_come_from_the_configuration(app):
    app.config["RESPONSE_TARGETS"] = {"normal": 2}
    start = utcnow()
    assert response_deadline(start, Priority.normal) - start == timedelta(hours=2)
    assert response_deadline(start, Priority.low) - start == timedelta(hours=72)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        left = time_left(response_deadline(start, Priority.normal), start + timedelta(hours=5))
        assert left.overdue and left.text == "overdue by 3 hours"
        left = time_left(response_deadline(start, Priority.normal), start + timedelta(minutes=40))
        assert not left.overdue and left.text == "80 minutes left"


def test_time_to_first_response_is_set_by_triage_once(app):
    staff = staffed_school()
    received = utcnow() - timedelta(hours=3)
    case = new_case(staff, when=received)
    triaged_at = received + timedelta(hours=2)
    state_machine.triage(
        case,
        by=staff.counselor,
        screening=Screening.bullying,
        risk=RiskLevel.low,
        counselor=staff.counselor,
        injury=False,
        now=triaged_at,
    )
    case_steps.send_message(
        case, by=staff.counselor, body="Hello", now=triaged_at + timedelta(hours=1)
    )
    db.session.commit()
    assert case.report.first_response_at == triaged_at


def test_the_first_reply_counts_as_the_first_response(client, login):
    staff = staffed_school()
    made, _ = report(staff.school)
    login(staff.counselor)
    client.post(f"/staff/reports/{opaque(made.id)}/open")
    case = made.case
    assert made.first_response_at is None
    client.post(f"/staff/cases/{opaque(case.id)}/messages", data={"body": "We have read it."})
    db.session.refresh(made)
    first = made.first_response_at
    assert first is not None
    client.post(f"/staff/cases/{opaque(case.id)}/messages", data={"body": "Second message."})
    db.session.refresh(made)
    assert made.first_response_at == first
    # Answered: the report leaves the awaiting-response count even if not yet triaged.
    assert (
        overdue.overdue_reports(
            case_scope(staff.counselor, made.school_id), utcnow() + timedelta(days=9)
        )
        == []
    )


def test_an_empty_reply_is_refused_and_nothing_is_stored(client, login):
    staff = staffed_school()
    case = new_case(staff)
    login(staff.counselor)
    response = client.post(f"/staff/cases/{opaque(case.id)}/messages", data={"body": "  "})
    assert response.status_code == 400
    assert case.report.messages == []


def test_overdue_reports_follow_the_clock(app):
    staff = staffed_school()
    start = utcnow()
    critical, _ = report(
        staff.school, is_danger_now=True, place=None, frequency=None, happened=None
    )
    low, _ = report(staff.school, forms=[ViolenceForm.verbal])
    for made in (critical, low):
        made.created_at = start
    db.session.commit()
    scope = case_scope(staff.counselor, critical.school_id)
    assert overdue.overdue_reports(scope, start + timedelta(minutes=59)) == []
    assert overdue.overdue_reports(scope, start + timedelta(minutes=61)) == [critical]
    assert overdue.overdue_reports(scope, start + timedelta(hours=73)) == [critical, low]


def test_overdue_lists_per_counselor_and_per_school(client, login):
    staff = staffed_school()
    colleague = factories.user(Role.counselor, staff.school, locale="en")
    mine = case_in_progress(staff)
    theirs = case_in_progress(staff)
    theirs.counselor_id = colleague.id
    db.session.commit()
    yesterday = utcnow().date() - timedelta(days=2)
    for case in (mine, theirs):
        case_steps.plan_action(
            case, by=staff.counselor, kind=ActionKind.talk_parents, due_on=yesterday, now=utcnow()
        )
    db.session.commit()
    login(staff.counselor)
    own = client.get("/staff/overdue").get_data(as_text=True)
    assert mine.label in own and theirs.label not in own
    school = client.get("/staff/overdue?who=school").get_data(as_text=True)
    assert mine.label in school and theirs.label in school
    director = app_client(client)
    login(staff.admin, using=director)
    page = director.get("/staff/overdue").get_data(as_text=True)
    assert mine.label in page and theirs.label in page and colleague.full_name in page
    # Done actions are no longer overdue.
    for action in mine.actions:
        if not action.is_done:
            case_steps.complete_action(action, by=staff.counselor, now=utcnow())
    db.session.commit()
    assert mine.label not in client.get("/staff/overdue").get_data(as_text=True)


def app_client(client):
    return client.application.test_client()


def test_the_inbox_flags_cases_with_overdue_referrals(client, login):
    staff = staffed_school()
    case = triaged_case(
        staff,
        forms=[ViolenceForm.sexual],
        screening=Screening.peer_violence,
        now=utcnow() - timedelta(hours=25),
    )
    login(staff.counselor)
    page = client.get("/staff/inbox").get_data(as_text=True)
    row = re.search(
        rf"<tr class=\"is-overdue\">\s*<td><a href=\"/staff/cases/{opaque(case.id)}\">", page
    )
    assert row is not None and "2 referrals" in page


def test_notify_overdue_tells_the_school_admin_once_and_says_nothing_of_the_story(
    app, runner, caplog
):
    caplog.set_level(logging.INFO)
    staff = staffed_school()
    made, _ = report(staff.school, forms=[ViolenceForm.sexual], description="Secret story 4711")
    case = triaged_case(staff, forms=[ViolenceForm.sexual], screening=Screening.peer_violence)
    later = (utcnow() + timedelta(hours=30)).isoformat()
    caplog.clear()
    result = runner.invoke(args=["incidents", "notify-overdue", "--now", later])
    assert result.exit_code == 0, result.output
    # The unanswered report, and the two required referrals of the triaged case.
    assert "overdue notices sent: 3" in result.output
    sent = mails(caplog)
    assert len(sent) == 3 and all(staff.admin.email in m for m in sent)
    assert all(staff.counselor.email not in m for m in sent)
    assert any(made.label in m for m in sent) and any(case.label in m for m in sent)
    assert not any("4711" in m or "Secret story" in m for m in sent)
    assert all("/staff/overdue" in m for m in sent)
    caplog.clear()
    again = runner.invoke(args=["incidents", "notify-overdue", "--now", later])
    assert "overdue notices sent: 0" in again.output and mails(caplog) == []
    assert db.session.scalar(select(func.count()).select_from(OverdueNotice)) == 3


def test_nothing_is_notified_before_its_time(app):
    staff = staffed_school()
    report(staff.school, forms=[ViolenceForm.verbal])
    assert overdue.notify_overdue(utcnow() + timedelta(hours=71)) == 0
    assert overdue.notify_overdue(utcnow() + timedelta(hours=73)) == 1


def test_a_sent_referral_is_not_overdue(app):
    staff = staffed_school()
    now = utcnow()
    case = triaged_case(
        staff, forms=[ViolenceForm.sexual], screening=Screening.peer_violence, now=now
    )
    for referral in case.referrals:
        state_machine.send_referral(referral, by=staff.counselor, reference_number="1", now=now)
    db.session.commit()
    late = now + timedelta(days=3)
    assert overdue.overdue_referrals(case_scope(staff.counselor, case.school_id), late) == []


# --- the teacher's named report ---------------------------------------------------------------


def test_a_teacher_reports_what_they_saw_and_later_sees_only_its_status(app, login, caplog):
    caplog.set_level(logging.INFO)
    staff = staffed_school()
    classroom = factories.classroom(staff.school, 5, "Б")
    teacher, counselor = app.test_client(), app.test_client()
    login(staff.teacher, using=teacher)
    response = teacher.post(
        "/staff/my-reports/new",
        data={
            "forms": ["physical", "home"],
            "perpetrator": "family",
            "place": "home",
            "happened": "this_week",
            "classroom_id": classroom.id,
            "description": "Bruises on the arm; the child said: father hits me.",
        },
    )
    assert response.status_code == 302
    filed = db.session.scalar(select(TeacherReport))
    assert filed.author_id == staff.teacher.id and filed.priority == Priority.high
    assert any(staff.counselor.email in m and "father" not in m for m in mails(caplog))
    page = teacher.get("/staff/my-reports").get_data(as_text=True)
    assert "Received, waiting for the school psychologist" in page
    assert "Bruises" not in page

    login(staff.counselor, using=counselor)
    inbox = counselor.get("/staff/inbox").get_data(as_text=True)
    assert "From a teacher" in inbox
    response = counselor.post(f"/staff/teacher-reports/{opaque(filed.id)}/open")
    case = db.session.scalar(select(Case).where(Case.teacher_report_id == filed.id))
    assert case.label.startswith("T-")
    page = counselor.get(f"/staff/cases/{opaque(case.id)}").get_data(as_text=True)
    assert "Bruises on the arm" in page and staff.teacher.full_name in page and "5Б" in page
    counselor.post(
        f"/staff/cases/{opaque(case.id)}/triage",
        data={
            "screening": "home_violence",
            "risk": "high",
            "counselor_id": staff.counselor.id,
            "version": case.version,
        },
    )
    db.session.refresh(case)
    assert case.state == CaseState.triaged and filed.first_response_at is not None
    assert {r.body_kind.value for r in case.referrals} == {"guardianship", "police"}

    page = teacher.get("/staff/my-reports").get_data(as_text=True)
    assert "The school psychologist is working on it" in page
    assert case.label not in page and "Bruises" not in page
    assert teacher.get(f"/staff/cases/{opaque(case.id)}").status_code == 403


def test_a_teacher_report_without_a_description_is_refused_and_keeps_the_input(client, login):
    staff = staffed_school()
    login(staff.teacher)
    response = client.post(
        "/staff/my-reports/new",
        data={"forms": ["verbal"], "perpetrator": "students", "place": "yard", "happened": "today"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="verbal"', page)
    assert re.search(r'<input checked[^>]*value="students"', page)
    assert db.session.scalar(select(func.count()).select_from(TeacherReport)) == 0


def test_a_teacher_sees_only_their_own_reports(client, login):
    staff = staffed_school()
    other_teacher = factories.user(Role.teacher, staff.school, locale="en")

    def filed(author, words):
        made = file_teacher_report(
            author,
            forms=[ViolenceForm.verbal],
            perpetrator=Perpetrator.students,
            place=Place.yard,
            happened=WhenHappened.today,
            classroom=None,
            is_danger_now=False,
            description=words,
        )
        db.session.commit()
        return made

    mine = filed(staff.teacher, "mine")
    theirs = filed(other_teacher, "theirs")
    login(staff.teacher)
    rows = re.findall(
        r"<tr>\s*<td>[^<]*</td>\s*<td>(\w+)</td>",
        client.get("/staff/my-reports").get_data(as_text=True),
    )
    assert rows == [opaque(mine.id)] and opaque(theirs.id) not in rows


def test_the_demo_cases_are_seeded_once_in_different_states(app):
    from incidents.cases import demo as demo_cases
    from incidents.intake import demo
    from school.cli import seed_directory

    seed_directory()
    for _ in range(2):
        demo.seed_reports()
        demo_cases.seed_demo_cases()
    states = sorted(db.session.scalars(select(Case.state)))
    assert states == sorted([CaseState.in_progress, CaseState.monitoring, CaseState.referred])
    assert db.session.scalar(select(func.count()).select_from(TeacherReport)) == 1
    referred = db.session.scalar(select(Case).where(Case.state == CaseState.referred))
    assert referrals.unsent_required(referred) == []


def test_the_inbox_lists_new_reports_a_page_at_a_time_most_urgent_first(app, client, login):
    """Issue 19: the inbox does not grow with the reports waiting: a page of them, the critical
    first, then the oldest (their first-response time runs out first), both kinds together."""
    from incidents.cases import inbox

    staff = staffed_school()
    made = [report(staff.school, forms=[ViolenceForm.verbal])[0] for _ in range(4)]
    critical, _code = report(staff.school, forms=[ViolenceForm.sexual], is_danger_now=True)
    first = inbox.new_items(staff.counselor, {}, size=3)
    assert first.total == 5 and first.pages == 2 and len(first.items) == 3
    assert first.items[0].source.id == critical.id  # the most urgent are the ones listed first
    assert [i.source.id for i in first.items[1:]] == [m.id for m in made[:2]]  # then the oldest
    second = inbox.new_items(staff.counselor, {"new_page": "2"}, size=3)
    assert [i.source.id for i in second.items] == [m.id for m in made[2:]]
    # Not a number: the first page; past the end: the last page, as every list.
    assert inbox.new_items(staff.counselor, {"new_page": "x"}, size=3).number == 1
    assert inbox.new_items(staff.counselor, {"new_page": "99"}, size=3).number == 2

    login(staff.counselor)
    client.get("/lang/en")
    for _ in range(inbox.NEW_PAGE):
        report(staff.school, forms=[ViolenceForm.verbal])
    page = client.get("/staff/inbox").get_data(as_text=True)
    assert page.count('/open"') == inbox.NEW_PAGE  # one "Open a case" form a row
    assert 'href="/staff/inbox?new_page=2#new-reports"' in page
    rest = client.get("/staff/inbox?new_page=2").get_data(as_text=True)
    assert rest.count('/open"') == 5 and "Page 2 of 2" in rest
