"""Nothing lost (issues 7 and 14), with real faults.

- A worker killed under load: 30 students submit at once to gunicorn with 3 workers, one worker
  is killed mid-run, and every receipt shown opens its own report through the student pages.
  The full run (200 reports, SQLite and PostgreSQL) is ``bench/load_reports.py``. Run alone:
  ``.venv/bin/pytest -m load``.
- The database refusing a write: a second connection holds a lock (SQLite: ``BEGIN EXCLUSIVE``;
  PostgreSQL: ``LOCK TABLE``), and the app gives up after a short wait instead of its usual ten
  seconds. Before the commit, nothing is kept and the child gets their form back as they filled
  it in; after it, the receipt is shown whatever fails (issue 14, findings 2 and 6).
- A database where nothing listens, and an upload store that cannot be written.
- The same for a child's message written back in the conversation, and for a teacher's report
  (its notice queued in its own transaction, the form given back when it cannot be saved).
"""

from __future__ import annotations

import re
import socket
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, event, func, select, text
from sqlalchemy.orm import Session

from app import create_app
from bench.common import Gunicorn
from bench.load_reports import load, verify
from core.mail import OutgoingMail
from extensions import db
from incidents.cases.models import TeacherReport
from incidents.intake.models import Attachment, Message, Report
from school.models import Role
from tests import factories
from tests.incidents.case_factories import staffed_school
from tests.incidents.factories import form_data, jpeg_bytes, report, upload

REPORTS = 30
CONCURRENCY = 8
CODE = re.compile(r"\b\d{4} \d{4} \d{4} \d{4}\b")
WRITTEN = "Мені үзілісте итеріп жіберді, ешкімге айтпаңыз"
NOT_SAVED = "We could not save your report."
MAY_NOT_SAVE = "Right now we may not be able to save reports."
NOT_SENT = "We could not send your message."
TEACHER_NOT_SAVED = "Your report could not be saved."


@pytest.mark.load
def test_every_receipt_shown_while_a_worker_is_killed_opens_its_own_stored_report(app):
    school = factories.school()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with Gunicorn(url, Path(app.instance_path), workers=3) as server:
        run = load(server, school.code, REPORTS, CONCURRENCY, kill_at=0.3)
        check = verify(app, server, run, school.code, CONCURRENCY)

    assert len(run.killed) == 1
    assert len(run.outcomes) == REPORTS
    # Only what the killed worker had in hand can fail: one request at a time per sync worker.
    assert check.failed <= len(run.killed), [o.error for o in run.failed]
    assert check.not_opened == [] and check.opened == check.shown
    assert check.shown_not_stored == 0
    assert check.unknown_stored == 0
    # Stored = receipts shown + at most one report whose answer died with its worker.
    assert check.stored_not_delivered <= len(run.killed)
    assert check.stored == check.shown + check.stored_not_delivered
    # Every stored report's text and photo (one report in three sends one) read back as sent.
    assert check.bad == [] and check.files > 0
    assert check.holds


# --- faults of the database and the upload store -----------------------------------------------


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def postgresql(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


@pytest.fixture
def impatient(app):
    """The app's connections wait 0.3 s for a lock (not the usual 10 s on SQLite, or for ever)."""

    def short_wait(dbapi_connection, *args):
        cursor = dbapi_connection.cursor()
        if postgresql(app):
            cursor.execute("SET lock_timeout = '300ms'")
        else:
            cursor.execute("PRAGMA busy_timeout = 300")
        cursor.close()

    event.listen(db.engine, "checkout", short_wait)
    yield
    event.remove(db.engine, "checkout", short_wait)


class Lock:
    """A second connection that takes a lock when asked and keeps it until released: on
    PostgreSQL on ``tables`` only, in ``mode`` (``EXCLUSIVE`` lets others read, ``ACCESS
    EXCLUSIVE`` does not); on SQLite a write lock on the whole database (it has no table locks;
    in WAL mode others still read)."""

    def __init__(self, app, *tables: str, mode: str = "EXCLUSIVE") -> None:
        self.app, self.tables, self.mode, self.held = app, tables, mode, None

    def take(self) -> None:
        url = self.app.config["SQLALCHEMY_DATABASE_URI"]
        if postgresql(self.app):
            self.engine = create_engine(url)
            self.held = self.engine.connect()
            names = ", ".join(f'"{table}"' for table in self.tables)
            self.held.execute(text(f"LOCK TABLE {names} IN {self.mode} MODE"))
        else:
            self.held = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            self.held.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        if self.held is not None:
            self.held.rollback() if postgresql(self.app) else self.held.execute("ROLLBACK")
            self.held.close()
            if postgresql(self.app):
                self.engine.dispose()
            self.held = None

    @contextmanager
    def __call__(self):
        self.take()
        try:
            yield self
        finally:
            self.release()


@contextmanager
def outbox_refused(app):
    """Every new row of the outbox is refused by the database: on PostgreSQL a second connection
    locks the table; SQLite, with no table locks, refuses through a trigger."""
    if postgresql(app):
        with Lock(app, "mail_outbox")():
            yield
        return
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TRIGGER refuse_mail BEFORE INSERT ON mail_outbox "
                "BEGIN SELECT RAISE(ABORT, 'the outbox refuses'); END"
            )
        )
    try:
        yield
    finally:
        with db.engine.begin() as connection:
            connection.execute(text("DROP TRIGGER refuse_mail"))


def test_once_the_report_is_committed_the_receipt_is_shown_whatever_fails_after(
    app, client, english, impatient
):
    """Finding 2: another connection locks the outbox just after the report's commit (on
    PostgreSQL the reports' table too, against reading: the receipt needs nothing from the
    database any more); the notice was committed with the report, the receipt is shown, and the
    notice waits for the next round of ``mail send``."""
    school = factories.school()
    counselor = factories.user(Role.counselor, school)
    lock = Lock(app, "mail_outbox", "reports", mode="ACCESS EXCLUSIVE")
    event.listen(Session, "after_commit", lambda session: lock.take(), once=True)
    try:
        response = client.post(f"/r/{school.code}", data=form_data(description=WRITTEN))
    finally:
        lock.release()
    assert response.status_code == 200
    code = CODE.search(response.get_data(as_text=True)).group(0)
    [report] = db.session.scalars(select(Report)).all()
    [notice] = db.session.scalars(select(OutgoingMail)).all()
    assert notice.to == counselor.email and notice.due_at is not None and notice.sent_at is None
    assert client.post("/r/check", data={"code": code}).status_code == 303
    assert report.description == WRITTEN
    result = app.test_cli_runner().invoke(args=["mail", "send"])
    assert "sent 1; waiting for a later try: 0" in result.output


def test_a_message_written_back_is_committed_with_its_notice_whatever_fails_after(
    app, client, impatient
):
    """Finding 2, for the student's answers in the conversation: the follow-up notice is
    committed with the message, and a lock on the outbox after the commit changes nothing."""
    school = factories.school()
    factories.user(Role.counselor, school)
    made, code = report(school)
    db.session.execute(delete(OutgoingMail))  # the report's own notice
    db.session.commit()
    assert client.post("/r/check", data={"code": code}).status_code == 303
    lock = Lock(app, "mail_outbox")
    event.listen(Session, "after_commit", lambda session: lock.take(), once=True)
    try:
        response = client.post("/r/conversation", data={"body": WRITTEN})
    finally:
        lock.release()
    assert response.status_code == 303
    assert [m.body for m in db.session.scalars(select(Message))] == [WRITTEN]
    [notice] = db.session.scalars(select(OutgoingMail)).all()
    assert notice.due_at is not None and notice.sent_at is None


def test_a_notice_that_cannot_be_queued_keeps_nothing_and_gives_the_form_back(
    app, client, english, impatient, caplog
):
    """Finding 2 (and 6): the notice fails before the commit, so neither the report nor the
    notice is kept, and the child has their form back, to send again."""
    school = factories.school()
    factories.user(Role.counselor, school)
    with outbox_refused(app):
        response = client.post(f"/r/{school.code}", data=form_data(description=WRITTEN))
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert NOT_SAVED in page and WRITTEN in page
    assert re.search(r'value="daily"[^>]*checked|checked[^>]*value="daily"', page)
    assert CODE.search(page) is None
    assert count(Report) == 0 and count(OutgoingMail) == 0
    assert WRITTEN not in caplog.text
    # Sent again (the same form page, the same token), it is saved once, with its notice.
    response = client.post(f"/r/{school.code}", data=form_data(description=WRITTEN))
    assert response.status_code == 200 and CODE.search(response.get_data(as_text=True))
    assert count(Report) == 1 and count(OutgoingMail) == 1


def test_a_locked_database_gives_the_child_the_form_back_and_the_next_form_says_so(
    app, client, english, impatient, caplog
):
    """Finding 6: another connection holds the reports' table; the report form and the danger
    form answer 503 with what the child wrote and the notice; the blank form, even the shared
    one, says so up front; once the lock is gone the same form is saved."""
    school = factories.school()
    assert MAY_NOT_SAVE not in client.get(f"/r/{school.code}").get_data(as_text=True)
    with Lock(app, "reports")():
        response = client.post(f"/r/{school.code}", data=form_data(description=WRITTEN))
        danger = client.post(
            f"/r/{school.code}/danger", data={"description": WRITTEN, "token": "b" * 32}
        )
    for answer in (response, danger):
        page = answer.get_data(as_text=True)
        assert answer.status_code == 503 and NOT_SAVED in page and WRITTEN in page
        assert "150" in page and CODE.search(page) is None
    assert "If you had chosen files, please choose them again." in response.get_data(as_text=True)
    assert count(Report) == 0
    assert WRITTEN not in caplog.text and "could not be saved: OperationalError" in caplog.text
    blank = client.get(f"/r/{school.code}").get_data(as_text=True)
    assert MAY_NOT_SAVE in blank and WRITTEN not in blank
    response = client.post(f"/r/{school.code}", data=form_data(description=WRITTEN))
    assert response.status_code == 200 and CODE.search(response.get_data(as_text=True))
    assert MAY_NOT_SAVE not in client.get(f"/r/{school.code}").get_data(as_text=True)


def app_without_database(tmp_path):
    """The app with a database URL that leads where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://qamqor@127.0.0.1:{closed_port}/x",
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "INSTANCE_PATH": str(tmp_path / "instance"),
        }
    )


def test_with_no_database_the_form_says_so_and_keeps_what_was_typed(tmp_path, caplog):
    """Finding 6: the database URL leads where nothing listens."""
    app = app_without_database(tmp_path)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    for path in ("/r/demo01", "/r/demo01/danger"):
        response = client.get(path)
        page = response.get_data(as_text=True)
        assert response.status_code == 503 and "We cannot take reports right now" in page
        assert "150" in page and "112" in page
    response = client.post("/r/demo01", data=form_data(description=WRITTEN))
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and NOT_SAVED in page and WRITTEN in page
    assert 'action="/r/demo01"' in page
    assert WRITTEN not in caplog.text


def test_with_no_database_the_danger_page_reads_correctly_without_the_school_name(tmp_path, caplog):
    """The school cannot be looked up: its sentence is said without the name, in every
    language (not "the school psychologist of  will see")."""
    client = app_without_database(tmp_path).test_client()
    for language, sentence in (
        ("en", "The school psychologist will see at once that it is urgent."),
        ("ru", "Психолог твоей школы сразу увидит, что это срочно."),
        ("kk", "Мектебіңнің психологы мұның шұғыл екенін бірден көреді."),
    ):
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        response = client.post("/r/demo01/danger", data={"description": WRITTEN, "token": "c" * 32})
        page = response.get_data(as_text=True)
        assert response.status_code == 503 and WRITTEN in page
        assert sentence in page, language
    assert WRITTEN not in caplog.text


def test_an_upload_store_that_cannot_be_written_gives_the_form_back(app, client, english, caplog):
    """Finding 6: the uploads folder cannot be made (a file stands in its place: tests may run
    as root, for whom a read-only folder is still writable); nothing is kept."""
    school = factories.school()
    Path(app.instance_path, "uploads").write_text("not a folder")
    data = form_data(description=WRITTEN, files=[upload(jpeg_bytes(), "a.jpg", "image/jpeg")])
    response = client.post(f"/r/{school.code}", data=data, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and NOT_SAVED in page and WRITTEN in page
    assert "If you had chosen files, please choose them again." in page
    assert count(Report) == 0 and count(Attachment) == 0
    assert (
        WRITTEN not in caplog.text and "a report could not be saved: UploadRefused" in caplog.text
    )


# --- the conversation, and a teacher's report (the same promise) --------------------------------


def test_a_message_that_cannot_be_saved_is_given_back_with_the_notice(
    app, client, english, impatient, caplog
):
    """The child writes back while another connection holds the messages' table: 503, the
    conversation with what they wrote and the notice; nothing kept, nothing of it logged; once
    the lock is gone the same message is sent."""
    school = factories.school()
    factories.user(Role.counselor, school)
    made, code = report(school)
    db.session.execute(delete(OutgoingMail))  # the report's own notice
    db.session.commit()
    assert client.post("/r/check", data={"code": code}).status_code == 303
    with Lock(app, "messages")():
        response = client.post("/r/conversation", data={"body": WRITTEN})
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and NOT_SENT in page and WRITTEN in page
    assert "150" in page and made.description in page  # the conversation is still there
    assert count(Message) == 0 and count(OutgoingMail) == 0
    assert WRITTEN not in caplog.text and "could not be saved: OperationalError" in caplog.text
    assert client.post("/r/conversation", data={"body": WRITTEN}).status_code == 303
    assert [m.body for m in db.session.scalars(select(Message))] == [WRITTEN]


def test_with_no_database_a_message_written_back_is_given_back(tmp_path, caplog):
    """The database is away while the conversation is open: what the child wrote comes back."""
    client = app_without_database(tmp_path).test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    with client.session_transaction() as session:
        session["report"] = {"id": 1, "seen": int(time.time())}
    response = client.post("/r/conversation", data={"body": WRITTEN})
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and NOT_SENT in page and WRITTEN in page
    assert "150" in page and 'action="/r/conversation"' in page
    assert WRITTEN not in caplog.text


def test_a_teacher_report_is_committed_with_its_notice_whatever_fails_after(
    app, client, login, impatient
):
    """The notice is queued in the report's own transaction: a lock taken on the outbox just
    after the commit cannot lose it; the teacher is thanked and ``mail send`` sends it."""
    staff = staffed_school()
    login(staff.teacher)
    db.session.execute(delete(OutgoingMail))
    db.session.commit()
    lock = Lock(app, "mail_outbox")
    event.listen(Session, "after_commit", lambda session: lock.take(), once=True)
    try:
        response = client.post("/staff/my-reports/new", data=TEACHER_REPORT)
    finally:
        lock.release()
    assert response.status_code == 302
    assert count(TeacherReport) == 1
    [notice] = db.session.scalars(select(OutgoingMail)).all()
    assert notice.to == staff.counselor.email and notice.sent_at is None


def test_a_teacher_report_that_cannot_be_saved_gives_the_form_back(
    app, client, login, impatient, caplog
):
    """Another connection holds the teachers' reports: 503, the form as typed and a message for
    the teacher; nothing kept, nothing of it logged; then the same form is saved."""
    staff = staffed_school()
    login(staff.teacher)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    db.session.execute(delete(OutgoingMail))
    db.session.commit()
    with Lock(app, "teacher_reports")():
        response = client.post("/staff/my-reports/new", data=TEACHER_REPORT)
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and TEACHER_NOT_SAVED in page
    assert TEACHER_REPORT["description"] in page
    assert re.search(r'<input checked[^>]*value="physical"', page)
    assert count(TeacherReport) == 0 and count(OutgoingMail) == 0
    assert TEACHER_REPORT["description"] not in caplog.text
    assert "could not be saved: OperationalError" in caplog.text
    assert client.post("/staff/my-reports/new", data=TEACHER_REPORT).status_code == 302
    assert count(TeacherReport) == 1 and count(OutgoingMail) == 1


TEACHER_REPORT = {
    "forms": ["physical"],
    "perpetrator": "students",
    "place": "yard",
    "happened": "today",
    "description": "Ерлан итеріп жіберді, балалар күлді.",
}
