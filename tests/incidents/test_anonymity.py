"""Anonymity, tested: after a report and a follow-up from a distinctive device, no table, log
line, stored file or limiter key holds the address, the user agent or the receipt code."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from core.anonymity import QuietRequestLogFilter, is_quiet_path, quiet_paths
from extensions import db, limiter
from incidents.intake import receipts
from school.models import Role
from tests import factories
from tests.incidents.factories import form_data, jpeg_bytes, staff_message, upload

pytestmark = pytest.mark.usefixtures("english")

ADDRESS = "203.0.113.77"
AGENT = "Mozilla/5.0 (Linux; Android 9; QamqorTestPhone-ZX81) Chrome/99.0 ZebraBrowser/7.7"
DEVICE = {"REMOTE_ADDR": ADDRESS, "HTTP_USER_AGENT": AGENT}
CODE = re.compile(r"\b(\d{4}) (\d{4}) (\d{4}) (\d{4})\b")


def every_value_in_the_database() -> str:
    """All columns of all rows of every table, as text."""
    parts = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).all():
            for value in row:
                parts.append(value.hex() if isinstance(value, bytes) else str(value))
                if isinstance(value, bytes):
                    parts.append(value.decode("latin-1"))
    return "\n".join(parts)


def every_stored_file(app) -> bytes:
    root = os.path.join(app.instance_path, "uploads")
    return b"".join(Path(root, name).read_bytes() for name in os.listdir(root))


def assert_nothing_identifying(text: str, code: str) -> None:
    assert ADDRESS not in text
    assert "QamqorTestPhone" not in text and "ZebraBrowser" not in text
    assert code not in text and receipts.format_code(code) not in text


def test_a_report_and_a_follow_up_leave_no_address_agent_or_code_anywhere(app, caplog):
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    school = factories.school()
    counselor = factories.user(Role.counselor, school)
    data = form_data(files=[upload(jpeg_bytes(), "IMG_20261129_104200.jpg", "image/jpeg")])
    response = client.post(
        f"/r/{school.code}", data=data, content_type="multipart/form-data", environ_base=DEVICE
    )
    code = "".join(CODE.search(response.get_data(as_text=True)).groups())
    from incidents.intake.models import Report

    made = db.session.scalar(select(Report))
    staff_message(made, counselor, "Рахмет! Ертең кездесейік.")
    client.post("/r/check", data={"code": code}, environ_base=DEVICE)
    client.post("/r/check", data={"code": "9999 9999 9999 9999"}, environ_base=DEVICE)
    client.post(
        "/r/conversation",
        data={"body": "Жарайды.", "files": [upload(jpeg_bytes(), "screen.jpg")]},
        content_type="multipart/form-data",
        environ_base=DEVICE,
    )
    page = client.get("/r/conversation", environ_base=DEVICE).get_data(as_text=True)
    assert "Жарайды." in page  # the follow-up really happened

    database = every_value_in_the_database()
    assert "Жарайды." in database and made.label in database  # the dump really has the data
    assert_nothing_identifying(database, code)
    assert_nothing_identifying(every_stored_file(app).decode("latin-1"), code)
    assert b"IMG_20261129" not in every_stored_file(app)
    logs = "\n".join(record.getMessage() for record in caplog.records)
    assert "Mail not sent" in logs  # the log really was captured (the counselor's notice)
    assert_nothing_identifying(logs, code)
    assert "Екі бала" not in logs and "Жарайды" not in logs  # no content in the notice


def test_the_limiter_keys_hold_no_address(app):
    app.config["RATELIMIT_ENABLED"] = True
    limiter.init_app(app)
    try:
        client = app.test_client()
        client.post("/r/check", data={"code": "1"}, environ_base=DEVICE)
        storage = limiter.storage
        keys = " ".join(storage.storage) if hasattr(storage, "storage") else ""
        assert keys  # the limit really was counted
        assert ADDRESS not in keys
        failures = app.extensions["qamqor_receipt_failures"].in_process
        assert ADDRESS not in " ".join(failures.storage)
    finally:
        app.config["RATELIMIT_ENABLED"] = False
        limiter.init_app(app)


def test_student_pages_are_not_cached_and_send_no_referrer(client):
    school = factories.school()
    pages = ("/r/", f"/r/{school.code}", f"/r/{school.code}/danger", "/r/check", "/r/exit")
    for url in (*pages, "/r/no/such/page"):
        response = client.get(url)
        assert response.headers["Cache-Control"] == "no-store", url
        assert response.headers["Referrer-Policy"] == "no-referrer", url
        if '<meta name="referrer"' in response.get_data(as_text=True):
            assert 'content="no-referrer"' in response.get_data(as_text=True)


def test_no_cookie_but_the_session_cookie(app, client):
    school = factories.school()
    responses = [
        client.get(f"/r/{school.code}"),
        client.post(f"/r/{school.code}", data=form_data()),
        client.get("/r/conversation"),
        client.post("/r/check", data={"code": "1"}),
    ]
    names = {
        header.split("=", 1)[0]
        for response in responses
        for header in response.headers.getlist("Set-Cookie")
    }
    assert names <= {app.config["SESSION_COOKIE_NAME"]}
    assert names  # the conversation really is kept in the session cookie


def test_the_session_holds_only_the_report_id_and_the_last_request_time(client):
    school = factories.school()
    client.post(f"/r/{school.code}", data=form_data())
    with client.session_transaction() as session:
        assert set(session) <= {"report", "locale", "csrf_token", "_flashes"}
        assert set(session["report"]) == {"id", "seen"}


def test_the_dev_server_writes_no_request_line_for_student_pages(app):
    quiet = QuietRequestLogFilter(quiet_paths(app))
    for path, kept in [
        ("/r/demo01", False),
        ("//r/demo01", False),
        ("/%72/check", False),
        ("/./s", False),
        ("/static/css/q.css", False),
        ("/login", True),
    ]:
        record = logging.LogRecord(
            "werkzeug",
            logging.INFO,
            "",
            0,
            '"%s" %s %s',
            (f"GET {path} HTTP/1.1", "200", "-"),
            None,
        )
        assert quiet.filter(record) is kept, path
    assert is_quiet_path("/lang/kk?next=/r/demo01", app) and is_quiet_path("/", app)
    assert not is_quiet_path("/staff/reports/new", app) and not is_quiet_path("/rules", app)
