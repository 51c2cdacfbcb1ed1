"""The staff minimum: a content-free notice to the school's counselors, the list of new
reports, and the QR poster."""

from __future__ import annotations

import io
import logging
import re
import socket
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from core.mail import send_mail
from extensions import db
from incidents.intake.models import Priority, ViolenceForm
from school.models import Role
from tests import factories
from tests.incidents.factories import form_data, report
from tests.smtp_servers import SMTPSink

pytestmark = pytest.mark.usefixtures("english")

KAZAKH_LETTERS = "әғқңөұүһі"


def test_counselors_of_the_school_get_a_notice_without_content(app, client, caplog):
    caplog.set_level(logging.INFO)
    school = factories.school()
    counselor = factories.user(Role.counselor, school, locale="ru")
    other_school_counselor = factories.user(Role.counselor)
    teacher = factories.user(Role.teacher, school)
    client.post(f"/r/{school.code}", data=form_data(description="Секретный текст 4711"))
    mails = [r.getMessage() for r in caplog.records if "Mail not sent" in r.getMessage()]
    assert len(mails) == 1
    [mail] = mails
    assert counselor.email in mail
    assert other_school_counselor.email not in mail and teacher.email not in mail
    assert "4711" not in mail and "Секретный" not in mail
    assert "/staff/inbox" in mail


def test_critical_report_notice_says_it_is_urgent_and_nothing_else(client, caplog):
    caplog.set_level(logging.INFO)
    school = factories.school()
    factories.user(Role.counselor, school, locale="en")
    client.post(
        f"/r/{school.code}/danger", data={"description": "at the garages", "token": "f" * 32}
    )
    [mail] = [r.getMessage() for r in caplog.records if "Mail not sent" in r.getMessage()]
    assert "URGENT" in mail and "garages" not in mail


def test_counselor_sees_new_reports_of_their_school_most_urgent_first(client, login):
    school = factories.school()
    counselor = factories.user(Role.counselor, school)
    low, _ = report(school, forms=[ViolenceForm.verbal], description="low one")
    high, _ = report(school, forms=[ViolenceForm.sexual])
    elsewhere, _ = report(factories.school())
    assert low.priority == Priority.low and high.priority == Priority.high
    login(counselor)
    # The old address of the list (in mails of earlier versions) leads to the inbox's list.
    moved = client.get("/staff/reports/new")
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith("/staff/inbox#new-reports")
    page = client.get("/staff/inbox").get_data(as_text=True)
    assert 'id="new-reports"' in page
    assert high.label in page and low.label in page and elsewhere.label not in page
    assert page.index(high.label) < page.index(low.label)
    assert "low one" not in page  # no narrative in the list


@pytest.mark.parametrize("role", [Role.teacher, Role.school_admin, Role.analyst, Role.partner])
def test_other_roles_cannot_see_the_new_reports(client, login, role):
    login(factories.user(role))
    assert client.get("/staff/reports/new").status_code == 403


def test_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get("/staff/reports/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_poster_pdf_has_the_link_the_numbers_and_kazakh_letters(app, client, login, language):
    app.config["PUBLIC_URL"] = "https://qamqor.example.kz"
    school = factories.school()
    login(factories.user(Role.school_admin, school))
    response = client.get(f"/school/poster.pdf?lang={language}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert f"https://qamqor.example.kz/r/{school.code}" in text.replace("\n", "")
    for number in ("150", "111", "102"):
        assert number in text
    if language == "kk":
        assert sum(letter in text for letter in KAZAKH_LETTERS) >= 5
        assert "Балалар мен жастарға" in text
    else:
        assert "Национальный телефон доверия" in text


def test_poster_link_uses_the_configured_address(app, client, login):
    school = factories.school()
    login(factories.user(Role.counselor, school))
    page = client.get("/school/poster").get_data(as_text=True)
    assert f"{app.config['PUBLIC_URL']}/r/{school.code}" in page


def test_teacher_cannot_print_the_poster_and_admin_needs_a_school_in_scope(client, login):
    school = factories.school()
    login(factories.user(Role.teacher, school))
    assert client.get("/school/poster.pdf").status_code == 403
    client.post("/logout")
    login(factories.user(Role.admin))
    assert client.get("/school/poster").status_code == 404
    assert client.get(f"/school/poster?school={school.id}").status_code == 200


def test_send_mail_speaks_smtp_to_the_configured_server(app):
    sink = SMTPSink()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port, MAIL_SENDER="q@school.kz")
    with app.test_request_context():
        send_mail(["a@school.kz", "b@school.kz"], "Qamqor: жаңа хабар", "Кіріп оқыңыз.")
    sink.close()
    assert [recipients for recipients, _ in sink.received] == [["a@school.kz"], ["b@school.kz"]]
    assert "From: q@school.kz" in sink.received[0][1]
    assert re.search(r"Subject: Qamqor: =\?utf-8\?", sink.received[0][1])


def test_a_failing_mail_server_does_not_lose_the_report(app, client, caplog):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port)
    school = factories.school()
    factories.user(Role.counselor, school)
    response = client.post(f"/r/{school.code}", data=form_data())
    assert response.status_code == 200 and "not sent (try 1)" in caplog.text
    from core.mail import OutgoingMail, deliver
    from incidents.intake.models import Report

    assert db.session.query(Report).count() == 1
    # The notice waits in the outbox, and goes out on a later try once the server answers.
    [waiting] = db.session.scalars(select(OutgoingMail)).all()
    assert waiting.sent_at is None and waiting.attempts == 1 and waiting.due_at is not None
    assert "Connection" in waiting.last_error
    assert deliver() == 0  # not due yet: a minute after the first try
    app.config["MAIL_SERVER"] = None  # the server is back (here: the log stands for it)
    caplog.set_level(logging.INFO)
    caplog.clear()
    result = app.test_cli_runner().invoke(args=["mail", "send"])
    assert "sent 0" in result.output  # still not due
    later = waiting.due_at + timedelta(seconds=1)
    assert deliver(now=later) == 1
    db.session.refresh(waiting)
    assert waiting.sent_at == later and waiting.due_at is None and waiting.attempts == 2
    assert "Mail not sent (no MAIL_SERVER)" in caplog.text and "Qamqor" in caplog.text


def test_a_notice_that_cannot_be_sent_for_a_day_is_given_up_and_logged(app, caplog):
    from core.mail import OutgoingMail, deliver, queue_mail

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port)
    mail = queue_mail("psy@school.kz", "Qamqor: a new report", "Log in to read it.")
    db.session.commit()
    moment = mail.created_at
    tries = 0
    while mail.due_at is not None:
        deliver([mail], now=moment)
        tries += 1
        moment = mail.due_at or moment
    assert mail.sent_at is None and mail.attempts == tries
    assert 25 <= tries <= 30  # 1, 5, 15, 30 and 60 minutes, then hourly, for a day
    assert "given up" in caplog.text
    assert db.session.get(OutgoingMail, mail.id).due_at is None


def test_sent_notices_are_forgotten_after_90_days(app):
    from core.mail import OutgoingMail, deliver, prune, queue_mail

    old, recent = queue_mail("a@school.kz", "s", "b"), queue_mail("b@school.kz", "s", "b")
    waiting = queue_mail("c@school.kz", "s", "b")
    db.session.commit()
    deliver([old, recent])
    old.created_at -= timedelta(days=91)
    waiting.created_at -= timedelta(days=91)  # not sent yet: kept whatever its age
    db.session.commit()
    assert prune() == 1
    db.session.commit()
    assert {m.to for m in db.session.scalars(select(OutgoingMail))} == {
        "b@school.kz",
        "c@school.kz",
    }


def test_one_failure_ends_the_round_and_the_others_wait_for_the_next(app, caplog):
    from core.mail import deliver, queue_mail

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port)
    mails = [queue_mail(f"psy{n}@school.kz", "Qamqor: a new report", "Log in.") for n in range(3)]
    db.session.commit()
    assert deliver(mails) == 0
    assert [m.attempts for m in mails] == [1, 0, 0]  # one time-out, not three
    assert all(m.due_at is not None for m in mails)
    app.config["MAIL_SERVER"] = None
    assert deliver() == 2  # the two never tried are due at once; the first in a minute
