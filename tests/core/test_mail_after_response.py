"""No request waits on the mail server (issue 14, finding 5).

A request that queues notices answers first; the outbox is tried just after the answer has been
written, with a short time-out (``MAIL_TIMEOUT``), and after a failure the worker leaves the
outbox to the job (``flask --app app mail send``) for a minute instead of waiting again. The
faults are real: a mail server that accepts the connection and never greets, on loopback.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from bench.common import Browser, Gunicorn, hidden_fields, receipt_code
from core.mail import OutgoingMail
from extensions import db
from school.models import Role
from tests import factories
from tests.incidents.case_factories import staffed_school
from tests.incidents.factories import form_data
from tests.smtp_servers import HangingServer, SMTPSink


def send_report(child: Browser, school_code: str):
    fields = hidden_fields(child.get(f"/r/{school_code}").text)
    return child.post(f"/r/{school_code}", {**form_data(), **fields})


def outbox() -> list[OutgoingMail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)))


def serve(app, port: int, **settings) -> Gunicorn:
    """The app under gunicorn, one sync worker, its mail going to 127.0.0.1:``port``."""
    return Gunicorn(
        app.config["SQLALCHEMY_DATABASE_URI"],
        Path(app.instance_path),
        workers=1,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        **settings,
    )


def test_the_receipt_is_shown_before_the_mail_server_has_said_a_word(app):
    """The mail server takes the connection but greets only once the child has the receipt: a
    request that waited on it would answer only at its time-out, and the notice would fail."""
    school = factories.school()
    counselor = factories.user(Role.counselor, school)
    greet = threading.Event()
    sink = SMTPSink(gate=greet)
    try:
        with serve(app, sink.port, MAIL_TIMEOUT=30) as server:
            reply = send_report(Browser(server.base), school.code)
            assert reply.status == 200 and receipt_code(reply.text)
            # Answered while the notice is still untried: its try is under way, after the answer.
            [notice] = outbox()
            assert notice.attempts == 0 and notice.sent_at is None
            greet.set()
            sink.thread.join(timeout=30)
            assert [to for to, _ in sink.received] == [[counselor.email]]
            Browser(server.base).get("/healthz")  # the worker has finished with the outbox
            [notice] = outbox()
            assert notice.sent_at is not None and notice.due_at is None
    finally:
        greet.set()
        sink.close()


def test_a_hanging_mail_server_holds_the_worker_once_and_the_job_sends_the_notices(app):
    """Three reports in a row, one worker, a server that never answers: one short try after
    the first answer, then the worker leaves the outbox to the job; nothing is lost."""
    school = factories.school()
    counselor = factories.user(Role.counselor, school)
    hanging = HangingServer()
    try:
        with serve(app, hanging.port, MAIL_TIMEOUT=1) as server:
            child = Browser(server.base)
            replies = [send_report(child, school.code) for _ in range(3)]
            assert all(r.status == 200 and receipt_code(r.text) for r in replies)
            Browser(server.base).get("/healthz")  # the one worker is done with the outbox
        assert hanging.accepted == 1
    finally:
        hanging.close()
    first, *others = outbox()
    assert first.attempts == 1 and "timed out" in first.last_error and first.due_at
    assert [(mail.attempts, mail.sent_at) for mail in others] == [(0, None), (0, None)]

    # The job, a minute later, with the server back: every notice goes out.
    sink = SMTPSink(sessions=3)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port)
    first.due_at = first.created_at
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["mail", "send"])
    sink.close()
    assert "sent 3; waiting for a later try: 0" in result.output
    assert [to for to, _ in sink.received] == [[counselor.email]] * 3


def make_counselor(client, staff) -> None:
    """The school administrator gives a teacher the counselor role (mail to the witnesses)."""
    response = client.post(
        f"/staff/accounts/{staff.teacher.id}",
        data={
            "full_name": staff.teacher.full_name,
            "email": staff.teacher.email,
            "role": "counselor",
            "locale": "en",
            "active": "y",
        },
        buffered=False,
    )
    assert response.status_code == 302
    return response


def teacher_report(client, staff) -> None:
    """A teacher files a named report (mail to the school's counselors)."""
    response = client.post(
        "/staff/my-reports/new",
        data={
            "forms": ["physical"],
            "perpetrator": "students",
            "place": "corridor",
            "happened": "this_week",
            "description": "Pushed on the stairs.",
        },
        buffered=False,
    )
    assert response.status_code == 302
    return response


@pytest.mark.parametrize(
    ("action", "who"), [(make_counselor, "admin"), (teacher_report, "teacher")]
)
def test_staff_actions_that_queue_mail_answer_before_the_mail_server_is_tried(
    app, client, login, action, who
):
    hanging = HangingServer()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=hanging.port, MAIL_TIMEOUT=1)
    staff = staffed_school()
    login(getattr(staff, who))
    try:
        response = action(client, staff)
        # The answer is made and nothing was tried: no connection, every notice untried.
        queued = outbox()
        assert queued and all(mail.attempts == 0 for mail in queued)
        assert hanging.accepted == 0
        # The server writes the answer and closes it: now the outbox is tried, once.
        response.close()
        first, *others = outbox()
        assert first.attempts == 1 and "timed out" in first.last_error
        assert all(mail.attempts == 0 for mail in others)
    finally:
        hanging.close()
