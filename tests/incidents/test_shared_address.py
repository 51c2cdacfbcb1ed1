"""A whole school behind one address (issue 20): one Wi-Fi, one NAT, a thousand pupils.

Only saved reports count; the address has a ceiling sized for a school and each school one for
its volume; over a limit the child gets their page back with what they typed, in their own
register, with the help numbers and the quick exit; the help on the danger page always answers.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from extensions import db, limiter
from incidents.intake.models import Report
from tests import factories
from tests.incidents.factories import form_data
from tests.incidents.factories import report as made_report

CODE = re.compile(r"\b\d{4} \d{4} \d{4} \d{4}\b")
TYPED = "Мені сыныпта үш бала ұрады"


@pytest.fixture
def limited(app):
    app.config.update(RATELIMIT_ENABLED=True)
    limiter.init_app(app)
    limiter.reset()
    yield app
    limiter.reset()
    app.config["RATELIMIT_ENABLED"] = False
    limiter.init_app(app)


def report(app, school, n: int, **fields):
    """Pupil ``n``: their own browser, the school's one address."""
    child = app.test_client()
    data = form_data(token=f"{n:032d}", **fields)
    return child.post(f"/r/{school.code}", data=data, environ_base={"REMOTE_ADDR": "10.0.0.1"})


def reports() -> int:
    return db.session.scalar(select(func.count()).select_from(Report))


def test_forty_pupils_behind_one_address_all_get_receipts(limited):
    school = factories.school()
    replies = [report(limited, school, n) for n in range(40)]
    assert [reply.status_code for reply in replies] == [200] * 40
    assert all(CODE.search(reply.get_data(as_text=True)) for reply in replies)
    assert reports() == 40


def test_forms_sent_back_with_mistakes_do_not_count(limited):
    limited.config["REPORT_RATE_LIMIT"] = "3 per hour"
    school = factories.school()
    wrong = [report(limited, school, n, victim=None).status_code for n in range(10)]
    sent = [report(limited, school, 100 + n).status_code for n in range(4)]
    assert wrong == [400] * 10
    assert sent == [200, 200, 200, 429]
    assert reports() == 3


def test_a_flood_of_forms_never_saved_meets_the_backstop_with_its_text_kept(limited):
    """Mistakes do not count toward the report limits, but every send counts toward a much
    higher backstop per address: a flood of forms that are never saved still ends."""
    limited.config["REPORT_ATTEMPT_LIMIT"] = "5 per hour"
    school = factories.school()
    wrong = [report(limited, school, n, victim=None) for n in range(6)]
    assert [reply.status_code for reply in wrong] == [400] * 5 + [429]
    over = report(limited, school, 7, description=TYPED)
    assert over.status_code == 429 and TYPED in over.get_data(as_text=True)
    assert reports() == 0


@pytest.mark.parametrize(
    ("locale", "kind"),
    [
        ("kk", "сенің кінәң емес"),
        ("ru", "Ты ни в чём не виноват"),
        ("en", "It is not your fault"),
    ],
)
def test_a_flood_gets_its_form_back_as_typed_with_help_and_quick_exit(limited, locale, kind):
    limited.config["REPORT_RATE_LIMIT"] = "2 per hour"
    school = factories.school()
    for n in range(2):
        assert report(limited, school, n).status_code == 200
    child = limited.test_client()
    child.get(f"/lang/{locale}")
    refused = child.post(
        f"/r/{school.code}",
        data=form_data(token="9" * 32, description=TYPED),
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert TYPED in page  # what the child typed, back on the page
    assert kind in page
    assert not re.search(r"(?i)(?<!\w)(сіз|вы|вас|вам)(?!\w)", page)  # the child's «сен», «ты»
    assert all(f'href="tel:{number}"' in page for number in ("112", "102", "150"))
    assert 'href="/r/exit"' in page
    assert refused.headers["Cache-Control"] == "no-store"
    assert reports() == 2


def test_the_danger_page_always_answers_with_the_help(limited):
    limited.config["REPORT_RATE_LIMIT"] = "1 per hour"
    school = factories.school()
    assert report(limited, school, 0).status_code == 200
    child = limited.test_client()
    address = {"REMOTE_ADDR": "10.0.0.1"}
    for _ in range(30):
        shown = child.get(f"/r/{school.code}/danger", environ_base=address)
        assert shown.status_code == 200
    sent = child.post(
        f"/r/{school.code}/danger",
        data={"description": TYPED, "token": "8" * 32},
        environ_base=address,
    )
    page = sent.get_data(as_text=True)
    assert sent.status_code == 429
    assert TYPED in page
    assert all(f'href="tel:{number}"' in page for number in ("112", "102", "150"))
    assert 'href="/r/exit"' in page


def test_the_school_volume_ceiling_holds_whatever_the_address(limited):
    limited.config["SCHOOL_REPORT_RATE_LIMIT"] = "3 per hour"
    school, other = factories.school(), factories.school()
    statuses = [
        limited.test_client()
        .post(
            f"/r/{school.code}",
            data=form_data(token=f"{n:032d}"),
            environ_base={"REMOTE_ADDR": f"10.1.0.{n}"},
        )
        .status_code
        for n in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]
    assert report(limited, other, 99).status_code == 200  # another school is not held back


def test_a_message_over_the_limit_comes_back_as_written_with_help_and_quick_exit(limited):
    limited.config["MESSAGE_RATE_LIMIT"] = "1 per hour"
    school = factories.school()
    _, code = made_report(school)
    child = limited.test_client()
    child.get("/lang/ru")
    child.post("/r/check", data={"code": code})
    assert child.post("/r/conversation", data={"body": "Первое"}).status_code == 303
    refused = child.post("/r/conversation", data={"body": TYPED})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert TYPED in page and "Ты ни в чём не виноват" in page
    assert not re.search(r"(?i)(?<!\w)(вы|вас|вам)(?!\w)", page)
    assert all(f'href="tel:{number}"' in page for number in ("112", "102", "150"))
    assert 'href="/r/exit"' in page
