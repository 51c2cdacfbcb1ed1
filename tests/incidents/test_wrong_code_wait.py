"""The wait after wrong receipt codes costs the server nothing (issue 13.3).

The growing wait is a time the client is told ("try again in N seconds", ``Retry-After``) and
held to: an attempt before it is over is refused at once, without looking at the code. It is
kept per client in the limiter's storage, keyed as the limits are. No request handler sleeps, so
one client sending wrong codes in parallel does not stall a worker for everybody else.
"""

from __future__ import annotations

import inspect
import threading
from pathlib import Path

import pytest

from bench.common import Browser, Gunicorn, hidden_fields
from core.anonymity import client_key
from incidents.intake import receipts
from tests import factories
from tests.incidents.factories import report

WRONG = "0000 0000 0000 0001"
OTHER_CLIENT = {"REMOTE_ADDR": "10.7.7.7"}


@pytest.fixture
def growing_wait(app):
    app.config.update(RECEIPT_DELAY_UNIT=30.0, RECEIPT_DELAY_MAX=120.0)


def test_parallel_wrong_codes_do_not_delay_another_clients_request(app):
    """One sync worker: if a wrong code held it while the client waits, the staff page (and the
    wrong-code answers themselves) would come only after the 60-second wait."""
    with Gunicorn(
        app.config["SQLALCHEMY_DATABASE_URI"],
        Path(app.instance_path),
        workers=1,
        RECEIPT_DELAY_UNIT=60,
        RECEIPT_DELAY_MAX=120,
    ) as server:
        child = Browser(server.base, timeout=30)
        token = hidden_fields(child.get("/r/check").text)["csrf_token"]
        answers: list[tuple[str, object]] = []

        def wrong_code() -> None:
            one = Browser(server.base, timeout=30)
            one.cookies = dict(child.cookies)
            try:
                reply = one.post("/r/check", {"csrf_token": token, "code": WRONG})
            except OSError as error:  # a timeout: the answer waited out the delay
                answers.append(("child", error))
            else:
                answers.append(("child", reply))

        threads = [threading.Thread(target=wrong_code) for _ in range(4)]
        for thread in threads:
            thread.start()
        staff = Browser(server.base, timeout=30).get("/login")
        answers.append(("staff", staff))
        for thread in threads:
            thread.join(timeout=60)
        # The child is still told to wait: everything above was answered inside its wait.
        again = child.post("/r/check", {"csrf_token": token, "code": WRONG})

    assert staff.status == 200
    replies = [reply for who, reply in answers if who == "child"]
    assert len(replies) == 4 and all(not isinstance(r, Exception) for r in replies), replies
    assert {reply.status for reply in replies} <= {200, 429}
    assert any("аша алмадық" in reply.text for reply in replies if reply.status == 200)  # kk
    assert all(1 <= int(reply.headers["Retry-After"]) <= 120 for reply in replies)
    assert again.status == 429 and 1 <= int(again.headers["Retry-After"]) <= 120


def test_a_wrong_code_is_answered_at_once_with_the_wait_and_an_early_attempt_is_refused(
    app, client, english, growing_wait
):
    made, code = report(factories.school())
    wrong = client.post("/r/check", data={"code": WRONG})
    page = wrong.get_data(as_text=True)
    assert wrong.status_code == 200 and "could not open a report" in page
    assert wrong.headers["Retry-After"] == "30" and "try again in 30 seconds" in page

    early = client.post("/r/check", data={"code": receipts.format_code(code)})
    page = early.get_data(as_text=True)
    assert early.status_code == 429 and 1 <= int(early.headers["Retry-After"]) <= 30
    assert "Wait a little" in page and "seconds" in page
    assert all(number in page for number in ("112", "102", "150")) and "/r/exit" in page
    assert early.headers["Cache-Control"] == "no-store"
    assert early.headers["Referrer-Policy"] == "no-referrer"
    with client.session_transaction() as session:
        assert "report" not in session  # the right code was not even looked at
    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        assert receipts.failure_count(client_key()) == 1  # and an early attempt counts nothing

    other = app.test_client()
    opened = other.post(
        "/r/check", data={"code": receipts.format_code(code)}, environ_base=OTHER_CLIENT
    )
    assert opened.status_code == 303  # the wait is this client's only


def test_the_wait_grows_with_each_wrong_code_and_is_bounded(app, client, growing_wait):
    waits = []
    for earlier in range(4):
        address = {"REMOTE_ADDR": f"10.0.0.{earlier + 1}"}
        with app.test_request_context(environ_base=address):
            for _ in range(earlier):
                receipts.record_failure(client_key())
        answer = client.post("/r/check", data={"code": WRONG}, environ_base=address)
        waits.append(int(answer.headers["Retry-After"]))
    assert waits == [30, 60, 120, 120]


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("kk", "секундтан кейін қайта байқап көр"),
        ("ru", "Попробуй снова через"),
        ("en", "You can try again in"),
    ],
)
def test_the_wait_page_speaks_to_the_child_in_their_language(
    app, client, growing_wait, language, words
):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    client.post("/r/check", data={"code": WRONG})
    page = client.post("/r/check", data={"code": WRONG}).get_data(as_text=True)
    assert words in page


def test_no_request_handler_sleeps(app):
    """Every module that holds a view or a request hook of the app: none calls sleep()."""
    handlers = list(app.view_functions.values())
    for hooks in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        handlers += [hook for functions in hooks.values() for hook in functions]
    modules = {inspect.getmodule(inspect.unwrap(handler)) for handler in handlers}
    ours = [module for module in modules if module and not module.__name__.startswith("flask")]
    assert any(module.__name__ == "incidents.intake.student_pages" for module in ours)
    sleeping = [module.__name__ for module in ours if "sleep(" in inspect.getsource(module)]
    assert sleeping == []
