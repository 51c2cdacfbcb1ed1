"""Escalation chains (issue 16): a critical report nobody at the school takes up goes to the
school's contacts one after another, then to the duty desk, each step with its time; at night
only the contacts on duty at night are told; an acknowledgement (or an answer) stops the chain;
two runners at once tell nobody twice; a notice that cannot be sent waits in the outbox; no
notice says anything of the report."""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.audit import AuditEntry
from core.mail import OutgoingMail
from core.opaque import opaque
from extensions import db
from incidents.desk import escalation
from incidents.desk.escalation_models import SchoolContact
from incidents.intake.models import Holder, Priority, Report
from incidents.intake.reporting import add_staff_message
from school.models import Role
from tests import factories
from tests.incidents.factories import report

STORY = "Мені үйде ұрады, қазір қорқамын 7319"
# Tuesday 10:00 and Saturday 23:00 in Almaty (UTC+5): within and outside the default hours.
AT_DAY = datetime(2026, 12, 8, 5, 0, tzinfo=UTC)
AT_NIGHT = datetime(2026, 12, 12, 18, 0, tzinfo=UTC)


@pytest.fixture
def chain(app):
    """A school whose chain is its psychologist (10 minutes, days only), the deputy (15, also
    at night) and the director (20, also at night); the desk officer of its region."""
    school = factories.school(region_code="KZ-71")
    people = {
        "school": school,
        "counselor": factories.user(Role.counselor, school, locale="kk"),
        "deputy": factories.user(Role.school_admin, school, locale="ru"),
        "director": factories.user(Role.school_admin, school),
        "desk": factories.user(Role.desk_officer, region_=factories.region("KZ-71")),
    }
    for position, (who, window, night) in enumerate(
        [("counselor", 10, False), ("deputy", 15, True), ("director", 20, True)], start=1
    ):
        db.session.add(
            SchoolContact(
                school_id=school.id,
                position=position,
                user_id=people[who].id,
                window_minutes=window,
                night=night,
            )
        )
    db.session.commit()
    return people


def arrived(school, at: datetime, **fields) -> Report:
    fields.setdefault("is_danger_now", True)
    made, _code = report(school, description=STORY, **fields)
    made.created_at = at
    db.session.commit()
    return made


def steps(made: Report) -> list[tuple]:
    db.session.expire_all()
    return [(s.step, s.user_id, s.position, s.notified_at) for s in escalation.steps_of(made.id)]


def new_mails(since: int) -> list[OutgoingMail]:
    return list(
        db.session.scalars(
            select(OutgoingMail).where(OutgoingMail.id > since).order_by(OutgoingMail.id)
        )
    )


def last_mail_id() -> int:
    return db.session.scalar(select(db.func.max(OutgoingMail.id))) or 0


def escalate(runner, at: datetime) -> str:
    result = runner.invoke(args=["desk", "escalate", "--now", at.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_critical_report_nobody_takes_up_goes_along_the_chain_to_the_desk(
    app, runner, chain, login
):
    w = chain
    made = arrived(w["school"], AT_DAY)
    assert made.priority == Priority.critical
    before = last_mail_id()
    minute = timedelta(minutes=1)

    assert "taken: 1" in escalate(runner, AT_DAY)
    escalate(runner, AT_DAY + 9 * minute)  # the psychologist still has a minute
    escalate(runner, AT_DAY + 10 * minute)
    escalate(runner, AT_DAY + 24 * minute)
    escalate(runner, AT_DAY + 25 * minute)
    escalate(runner, AT_DAY + 45 * minute)
    assert "taken: 0" in escalate(runner, AT_DAY + 3 * 60 * minute)  # the chain has ended

    assert steps(made) == [
        (1, w["counselor"].id, 1, AT_DAY),
        (2, w["deputy"].id, 2, AT_DAY + 10 * minute),
        (3, w["director"].id, 3, AT_DAY + 25 * minute),
        (4, None, None, AT_DAY + 45 * minute),
    ]
    told = [mail.to for mail in new_mails(before)]
    assert told == [w[k].email for k in ("counselor", "deputy", "director", "desk")]
    kinds = db.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.action.like("escalation.%"))
        .order_by(AuditEntry.seq)
    ).all()
    assert kinds == ["escalation.notify"] * 3 + ["escalation.desk"]
    # The desk holds it with the school: the school still sees it, the desk's inbox lists it.
    assert db.session.get(Report, made.id).routing == Holder.both
    login(w["desk"])
    desk_client = app.test_client()
    login(w["desk"], using=desk_client)
    assert made.label in desk_client.get("/desk/inbox").get_data(as_text=True)


def test_a_report_past_its_target_reaches_the_desk_and_the_school_keeps_it(app, chain, login):
    w = chain
    made = arrived(w["school"], AT_DAY - timedelta(hours=5), is_danger_now=False)
    assert made.priority != Priority.critical and made.routing == Holder.school
    app.config["RESPONSE_TARGETS"] = {made.priority.value: 1}
    now = AT_DAY
    for _ in range(4):
        escalation.run(now)
        now += timedelta(minutes=20)
    assert [s[2] for s in steps(made)] == [1, 2, 3, None]
    assert db.session.get(Report, made.id).routing == Holder.both
    client = app.test_client()
    login(w["counselor"], using=client)
    assert client.get(f"/staff/reports/{opaque(made.id)}").status_code == 200


def test_at_night_the_contacts_off_duty_are_passed_over(app, chain):
    w = chain
    made = arrived(w["school"], AT_NIGHT)
    escalation.run(AT_NIGHT)
    assert steps(made) == [(1, w["deputy"].id, 2, AT_NIGHT)]
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "escalation.notify")
    ).one()
    assert json.loads(entry.detail)["skipped"] == [1]
    # With nobody on duty at night, the desk is told at once.
    db.session.execute(db.update(SchoolContact).values(night=False))
    db.session.commit()
    other = arrived(w["school"], AT_NIGHT)
    escalation.run(AT_NIGHT)
    assert steps(other) == [(1, None, None, AT_NIGHT)]
    # In working hours the same school starts with its psychologist.
    day = arrived(w["school"], AT_DAY)
    escalation.run(AT_DAY)
    assert steps(day) == [(1, w["counselor"].id, 1, AT_DAY)]


def test_an_acknowledgement_or_an_answer_stops_the_chain(app, chain, login):
    w = chain
    made = arrived(w["school"], AT_DAY)
    escalation.run(AT_DAY)
    client = app.test_client()
    login(w["counselor"], using=client)
    page = client.get("/staff/escalation").get_data(as_text=True)
    assert made.label in page and STORY not in page
    # Another school's administrator cannot take it up.
    stranger = factories.user(Role.school_admin, factories.school(region_code="KZ-71"))
    other_client = app.test_client()
    login(stranger, using=other_client)
    url = f"/staff/escalation/{opaque(made.id)}/acknowledge"
    assert other_client.post(url).status_code == 404
    assert client.post(url).status_code == 303
    again = client.post(url, follow_redirects=True).get_data(as_text=True)
    assert "біреу қолға алып қойған" in again  # "someone has already taken it up", in Kazakh
    escalation.run(AT_DAY + timedelta(hours=2))
    db.session.expire_all()
    [step] = escalation.steps_of(made.id)
    assert step.acknowledged_at is not None and step.acknowledged_by_id == w["counselor"].id
    assert db.session.get(Report, made.id).first_response_at == step.acknowledged_at

    # From the report's own page too.
    from_page = arrived(w["school"], AT_DAY)
    escalation.run(AT_DAY)
    page = client.get(f"/staff/reports/{opaque(from_page.id)}").get_data(as_text=True)
    ack = f"/staff/escalation/{opaque(from_page.id)}/acknowledge"
    assert ack in page
    assert client.post(ack).status_code == 303
    escalation.run(AT_DAY + timedelta(hours=2))
    assert len(steps(from_page)) == 1

    answered = arrived(w["school"], AT_DAY)
    escalation.run(AT_DAY)
    add_staff_message(answered, by=w["counselor"], body="Сәлем", now=AT_DAY + timedelta(minutes=3))
    db.session.commit()
    escalation.run(AT_DAY + timedelta(hours=2))
    assert len(steps(answered)) == 1


def test_running_twice_at_the_same_moment_tells_nobody_twice(app, chain):
    made = arrived(chain["school"], AT_DAY)
    before = last_mail_id()
    assert escalation.run(AT_DAY) == 1
    assert escalation.run(AT_DAY) == 0
    assert len(steps(made)) == 1 and len(new_mails(before)) == 1


def test_two_runners_at_once_tell_the_contact_once(app, chain, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite takes one writer at a time; the race is tried on PostgreSQL")
    made = arrived(chain["school"], AT_DAY)
    before = last_mail_id()
    both_planned = threading.Barrier(2, timeout=30)
    results = []

    def runner() -> None:
        with app.app_context():
            mine = db.session.get(Report, made.id)
            plan = escalation.next_step(mine, AT_DAY)
            both_planned.wait()  # each has planned step 1 before either takes it
            results.append(escalation.take(mine, plan, AT_DAY))
            db.session.remove()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r is None for r in results) == [False, True]
    assert len(steps(made)) == 1
    assert [m.to for m in new_mails(before)] == [chain["counselor"].email]


def test_a_notice_that_cannot_be_sent_waits_in_the_outbox_with_its_step(app, chain):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port)
    made = arrived(chain["school"], AT_DAY)
    before = last_mail_id()
    assert escalation.run(AT_DAY) == 1
    [mail] = new_mails(before)
    assert mail.sent_at is None and mail.due_at is not None and mail.attempts == 1
    assert len(steps(made)) == 1


def test_no_notice_says_anything_of_the_report(app, chain):
    w = chain
    made = arrived(w["school"], AT_DAY)
    before = last_mail_id()
    for minutes in (0, 10, 25, 45):
        escalation.run(AT_DAY + timedelta(minutes=minutes))
    mails = new_mails(before)
    assert len(mails) == 4
    for mail in mails:
        text = mail.subject + mail.body
        for secret in (STORY, made.label, w["school"].name, opaque(made.id)):
            assert secret not in text
    assert "/staff/escalation" in mails[0].body and "/desk/inbox" in mails[-1].body
