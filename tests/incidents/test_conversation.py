"""Coming back with the receipt: status in a child's words, replies, answers, 30 minutes idle."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from core.anonymity import client_key
from extensions import db
from incidents.intake import receipts
from incidents.intake.models import AuthorKind, Message
from school.models import Role
from tests import factories
from tests.incidents.factories import jpeg_bytes, report, staff_message, upload

pytestmark = pytest.mark.usefixtures("english")

WRONG = "We could not open a report with this code"


def open_with(client, code):
    return client.post("/r/check", data={"code": code})


def test_the_receipt_opens_the_conversation_with_the_status_in_child_words(client):
    school = factories.school()
    made, code = report(school, description="They hid my bag.")
    response = open_with(client, receipts.format_code(code))
    assert response.status_code == 303 and response.headers["Location"].endswith("/r/conversation")
    page = client.get("/r/conversation").get_data(as_text=True)
    assert "They hid my bag." in page and "Received" in page
    counselor = factories.user(Role.counselor, school)
    staff_message(made, counselor, "Come to room 12 at the long break.")
    page = client.get("/r/conversation").get_data(as_text=True)
    assert "Come to room 12 at the long break." in page
    assert "An adult is looking into it" in page
    message = db.session.scalar(select(Message).where(Message.author_kind == AuthorKind.staff))
    assert message.read_at is not None
    assert made.last_reporter_activity_at.minute == 0 and made.last_reporter_activity_at.second == 0


def test_the_student_answers_with_a_photo(app, client):
    school = factories.school()
    made, code = report(school)
    open_with(client, code)
    response = client.post(
        "/r/conversation",
        data={"body": "Бүгін тағы болды.", "files": [upload(jpeg_bytes(), "x.jpg")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    db.session.refresh(made)
    [message] = made.messages
    assert message.author_kind == AuthorKind.reporter and message.body == "Бүгін тағы болды."
    assert [a.message_id for a in made.attachments] == [message.id]
    assert "Бүгін тағы болды." in client.get("/r/conversation").get_data(as_text=True)


def test_an_empty_answer_is_refused(client):
    made, code = report(factories.school())
    open_with(client, code)
    response = client.post("/r/conversation", data={"body": "  "})
    assert response.status_code == 400 and "Write something or add a file" in response.get_data(
        as_text=True
    )
    assert made.messages == []


def test_a_wrong_code_gets_the_same_message_as_an_unknown_or_malformed_one(app, client):
    report(factories.school())
    answers = [
        open_with(client, typed).get_data(as_text=True)
        for typed in ("0000 0000 0000 0000", "1234", "abcd")
    ]
    messages = [re.search(rf"{WRONG}[^<]*", page).group(0) for page in answers]
    assert len(set(messages)) == 1
    assert client.get("/r/conversation").status_code == 303


def test_wrong_codes_are_counted_per_client_for_the_growing_delay(app, client):
    for _ in range(3):
        open_with(client, "0000 0000 0000 0001")
    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        assert receipts.failure_count(client_key()) == 3
    with app.test_request_context(environ_base={"REMOTE_ADDR": "10.1.1.1"}):
        assert receipts.failure_count(client_key()) == 0


def test_the_conversation_closes_after_30_idle_minutes(client):
    made, code = report(factories.school())
    open_with(client, code)
    with client.session_transaction() as session:
        assert set(session["report"]) == {"id", "seen"}
        session["report"] = {"id": made.id, "seen": int(time.time()) - 29 * 60}
    assert client.get("/r/conversation").status_code == 200
    with client.session_transaction() as session:
        session["report"] = {"id": made.id, "seen": int(time.time()) - 31 * 60}
    response = client.get("/r/conversation")
    assert response.status_code == 303 and response.headers["Location"].endswith("/r/check")
    with client.session_transaction() as session:
        assert "report" not in session
    assert "30 minutes" in client.get("/r/check").get_data(as_text=True)


def test_after_sending_the_student_can_go_straight_to_the_conversation(client):
    school = factories.school()
    client.post(f"/r/{school.code}", data={"danger_now": "y", "token": "e" * 32})
    assert client.get("/r/conversation").status_code == 200


def test_quick_exit_clears_the_session_and_shows_a_neutral_page(client):
    made, code = report(factories.school())
    open_with(client, code)
    response = client.get("/r/exit")
    assert response.status_code == 200
    assert '"cookies"' in response.headers["Clear-Site-Data"]
    page = response.get_data(as_text=True)
    assert "Qamqor" not in page and "<script" not in page and "href=" not in page.split("<body")[1]
    with client.session_transaction() as session:
        assert dict(session) == {}
    assert client.get("/r/conversation").status_code == 303


def test_quick_exit_can_leave_for_a_configured_neutral_site(app, client):
    app.config["QUICK_EXIT_URL"] = "https://weather.example/"
    response = client.get("/r/exit")
    assert (
        response.status_code == 303 and response.headers["Location"] == "https://weather.example/"
    )


def test_every_student_page_has_the_quick_exit(client):
    school = factories.school()
    for url in ("/r/", f"/r/{school.code}", f"/r/{school.code}/danger", "/r/check", "/r/nosuch"):
        assert 'class="quick-exit" href="/r/exit"' in client.get(url).get_data(as_text=True), url


def test_done_when_a_student_reports_in_kazakh_with_a_photo_reads_a_reply_and_answers(app):
    """The issue's "done when", as a student's phone would do it: plain forms, no script."""
    from incidents.intake.models import Report
    from tests.incidents.factories import form_data

    school = factories.school()
    counselor = factories.user(Role.counselor, school)
    phone = app.test_client()
    phone.get("/lang/kk")
    form_page = phone.get(f"/r/{school.code}").get_data(as_text=True)
    assert "<script" not in form_page and "Не болғанын айт" in form_page
    sent = phone.post(
        f"/r/{school.code}",
        data=form_data(files=[upload(jpeg_bytes(), "IMG_20261129.jpg", "image/jpeg")]),
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "<script" not in sent and "Сенің құпия кодың" in sent
    code = re.search(r"\d{4} \d{4} \d{4} \d{4}", sent).group(0)
    phone.get("/r/exit")  # the student leaves; later the counselor answers
    made = db.session.scalar(select(Report))
    staff_message(made, counselor, "Сәлем! Ертең бірінші үзілісте кабинетке келе аласың ба?")
    later = app.test_client()
    later.get("/lang/kk")
    assert later.post("/r/check", data={"code": code}).status_code == 303
    page = later.get("/r/conversation").get_data(as_text=True)
    assert "Ертең бірінші үзілісте" in page and "Ересек адам айналысып жатыр" in page
    assert "<script" not in page
    later.post("/r/conversation", data={"body": "Иә, келемін."})
    db.session.refresh(made)
    assert [m.body for m in made.messages][-1] == "Иә, келемін."
    assert len(made.attachments) == 1 and made.attachments[0].content_type == "image/jpeg"
