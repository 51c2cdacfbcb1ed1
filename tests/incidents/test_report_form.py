"""The report form: a student finds the school, tells, and gets a receipt; bad input saves nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from extensions import db
from incidents.intake.models import Attachment, Priority, Report, ViolenceForm
from tests import factories
from tests.incidents.factories import form_data, jpeg_bytes, upload

pytestmark = pytest.mark.usefixtures("english")

CODE = re.compile(r"\b\d{4} \d{4} \d{4} \d{4}\b")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def stored_files(app) -> list:
    root = app.instance_path + "/uploads"
    import os

    return os.listdir(root) if os.path.isdir(root) else []


def test_report_in_kazakh_with_a_photo_is_committed_before_its_receipt_is_shown(app, client):
    school = factories.school()
    client.get("/lang/kk")
    data = form_data(files=[upload(jpeg_bytes(), "IMG_2041.jpg", "image/jpeg")])
    response = client.post(f"/r/{school.code}", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    code = CODE.search(page).group(0)
    report = db.session.scalar(select(Report))
    assert report is not None and report.school_id == school.id
    assert {f for f in report.violence_forms} == {ViolenceForm.bullying, ViolenceForm.verbal}
    assert report.priority == Priority.high  # daily bullying
    assert report.description == "Екі бала күнде мені мазақтайды."
    assert report.receipt_hash != code.replace(" ", "")
    assert len(report.attachments) == 1 and report.attachments[0].content_type == "image/jpeg"
    assert len(stored_files(app)) == 1
    assert "құпия" in page.lower()  # "secret" in Kazakh: the advice to keep the code secret


def test_invalid_form_keeps_what_was_typed_and_saves_nothing(app, client):
    school = factories.school()
    data = form_data(victim=None, place=None, forms=[], description="Мені итеріп жіберді")
    data["files"] = [upload(jpeg_bytes(), "a.jpg", "image/jpeg")]
    response = client.post(f"/r/{school.code}", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Мені итеріп жіберді" in page
    assert 'value="corridor"' not in page or "checked" in page
    assert re.search(r'value="daily"[^>]*checked|checked[^>]*value="daily"', page)
    assert count(Report) == 0 and count(Attachment) == 0
    assert stored_files(app) == []


def test_description_longer_than_the_limit_is_refused_and_kept(client):
    school = factories.school()
    text = "ә" * 3001
    response = client.post(f"/r/{school.code}", data=form_data(description=text))
    assert response.status_code == 400
    assert text in response.get_data(as_text=True)
    assert count(Report) == 0


def test_form_shows_the_length_limit_without_javascript(client):
    school = factories.school()
    page = client.get(f"/r/{school.code}").get_data(as_text=True)
    assert 'maxlength="3000"' in page
    assert "<script" not in page


def test_danger_now_shows_whom_to_call_first_and_records_a_critical_report(client):
    school = factories.school()
    response = client.post(
        f"/r/{school.code}", data={"danger_now": "y", "token": "b" * 32, "description": ""}
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for number in ("112", "102", "150", "111"):
        assert f'href="tel:{number}"' in page
    assert page.index('href="tel:112"') < CODE.search(page).start()
    report = db.session.scalar(select(Report))
    assert report.is_danger_now and report.priority == Priority.critical
    assert report.place is None and report.frequency is None


def test_danger_page_helps_at_once_and_its_short_form_records_a_critical_report(client):
    school = factories.school()
    page = client.get(f"/r/{school.code}/danger").get_data(as_text=True)
    assert 'href="tel:112"' in page and "<form" in page
    response = client.post(
        f"/r/{school.code}/danger", data={"description": "Мен дәретханадамын", "token": "c" * 32}
    )
    assert CODE.search(response.get_data(as_text=True))
    report = db.session.scalar(select(Report))
    assert report.priority == Priority.critical and report.description == "Мен дәретханадамын"


def test_the_same_form_sent_twice_makes_one_report(client):
    school = factories.school()
    first = client.post(f"/r/{school.code}", data=form_data(token="d" * 32))
    again = client.post(f"/r/{school.code}", data=form_data(token="d" * 32))
    assert CODE.search(first.get_data(as_text=True))
    assert not CODE.search(again.get_data(as_text=True))
    assert count(Report) == 1


def test_each_form_page_carries_a_fresh_token(client):
    school = factories.school()
    tokens = {
        re.search(r'name="token" type="hidden" value="([0-9a-f]{32})"', page).group(1)
        for page in (client.get(f"/r/{school.code}").get_data(as_text=True) for _ in range(2))
    }
    assert len(tokens) == 2


def test_unknown_school_code_is_a_404_with_the_school_finder(client):
    factories.school()
    response = client.get("/r/nosuch")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "/r/?region=" in page
    assert response.headers["Cache-Control"] == "no-store"


def test_school_finder_searches_kazakh_and_russian_names_whatever_the_case(client):
    wanted = factories.school(name="№ 12 Мектеп-гимназия")
    factories.school(name="Школа-лицей № 7")
    region = wanted.region_id
    page = client.get(f"/r/?region={region}&q=мектеп 12").get_data(as_text=True)
    assert f"/r/{wanted.code}" in page and "Школа-лицей" not in page
    page = client.get(f"/r/?region={region}&q=ЛИЦЕЙ").get_data(as_text=True)
    assert "Школа-лицей № 7" in page and "Мектеп-гимназия" not in page


def test_school_finder_lists_regions_first(client):
    factories.school()
    page = client.get("/r/").get_data(as_text=True)
    assert page.count("/r/?region=") >= 17


def test_a_code_from_the_poster_leads_to_the_form(client):
    school = factories.school()
    response = client.get(f"/r/go?code=+{school.code.upper()}+")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/r/{school.code}")


def test_home_page_links_to_the_school_finder(client):
    assert 'href="/r/"' in client.get("/").get_data(as_text=True)


PAGES_IN = {
    "kk": {
        "/r/": ["Мектебіңді тап", "Облысыңды немесе қалаңды таңда"],
        "/r/{code}": [
            "Мұның бәрі — зорлық-зомбылық",
            "Бір адам немесе бір топ сені қайта-қайта, әдейі ренжітеді",
            "Қай сыныпта оқисың?",
            "Тез шығу",
            "Үйде",
        ],
        "/r/{code}/danger": ["Мектеп психологына да айт", "Балалар мен жастарға"],
        "/r/check": ["Хабарламаңды аш", "16 цифр"],
    },
    "ru": {
        "/r/": ["Найди свою школу", "Выбери свою область или город"],
        "/r/{code}": [
            "Всё это — насилие",
            "Один и тот же человек или компания обижает тебя снова и снова",
            "В каком ты классе?",
            "Быстрый выход",
            "Дома",
        ],
        "/r/{code}/danger": ["Сообщи и школьному психологу", "Национальный телефон доверия"],
        "/r/check": ["Открыть своё сообщение", "16 цифр"],
    },
}


def test_student_pages_speak_kazakh_and_russian(client):
    school = factories.school()
    for locale, pages in PAGES_IN.items():
        client.get(f"/lang/{locale}")
        for url, phrases in pages.items():
            page = client.get(url.format(code=school.code)).get_data(as_text=True)
            assert f'<html lang="{locale}">' in page
            for phrase in phrases:
                assert phrase in page, (locale, url, phrase)
