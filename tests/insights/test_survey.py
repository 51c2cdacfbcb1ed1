"""The class climate survey: waves, single-use codes, anonymous answers and their results."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select

from core.model_types import utcnow
from extensions import db
from insights import surveys
from insights.models import SurveyAnswer, SurveyCode, SurveyResponse, SurveyWave, WaveKind
from insights.questionnaire import questionnaire
from insights.results import survey_results, wave_conditions
from school.models import Role
from tests import factories
from tests.insights import factories as f

ONE_MESSAGE = "This code does not work."


@pytest.fixture(autouse=True)
def english(client):
    """The messages are checked in English (a student may choose any language)."""
    client.get("/lang/en")


@pytest.fixture
def school_class(app):
    school = factories.school("School A")
    teacher = factories.user(Role.teacher, school)
    classroom = factories.classroom(school, 6, "Б", teachers=[teacher], language="kk")
    counselor = factories.user(Role.counselor, school)
    return school, classroom, teacher, counselor


def responses_count() -> int:
    return db.session.scalar(select(func.count(SurveyResponse.id)))


def test_class_answers_baseline_and_follow_up_with_hand_computed_prevalence_and_change(
    client, login, school_class
):
    school, classroom, teacher, counselor = school_class
    baseline, codes = f.wave(classroom, counselor, WaveKind.baseline, students=12)
    # 4 of 12 bullied 2-3 times a month or more (values 2, 3, 4, 2); 8 never or once or twice.
    victim_values = [2, 3, 4, 2, 0, 0, 1, 0, 1, 0, 0, 1]
    for code, value in zip(codes, victim_values, strict=True):
        response = f.answer(client, code, victim=value, perpetrator=0, feel_safe=3)
        assert response.status_code == 302
    follow_up, codes = f.wave(classroom, teacher, WaveKind.follow_up, students=10)
    for code, value in zip(codes, [3, 0, 0, 1, 0, 0, 1, 0, 0, 0], strict=True):
        assert f.answer(client, code, victim=value, perpetrator=0).status_code == 302

    result = survey_results(wave_conditions(counselor, classroom_id=classroom.id))
    victim = result.indicator("victim")
    before, after = victim.shares[WaveKind.baseline], victim.shares[WaveKind.follow_up]
    # By hand (z = 1.959964): 4/12 -> centre 0.373749, half-width 0.235630.
    assert (before.k, before.n) == (4, 12)
    assert before.low == pytest.approx(0.138120, abs=1e-5)
    assert before.high == pytest.approx(0.609378, abs=1e-5)
    # 1/10 -> centre 0.211013, half-width 0.193137.
    assert (after.k, after.n) == (1, 10)
    assert after.low == pytest.approx(0.017876, abs=1e-5)
    assert after.high == pytest.approx(0.404150, abs=1e-5)
    # Newcombe: d = 0.1 - 0.333333; lower = d - sqrt(0.082124² + 0.276045²),
    # upper = d + sqrt(0.304150² + 0.195214²).
    change = victim.change
    assert change.value == pytest.approx(-0.233333, abs=1e-5)
    assert change.low == pytest.approx(-0.521335, abs=1e-5)
    assert change.high == pytest.approx(0.128074, abs=1e-5)
    assert not change.is_clear

    login(counselor)
    client.get("/lang/en")
    html = client.get(f"/insights/surveys/results?class={classroom.id}").get_data(as_text=True)
    assert "33.3% (13.8%–60.9%)" in html
    assert "10.0% (1.8%–40.4%)" in html
    assert "−23.3 pp (−52.1 pp to +12.8 pp)" in html


def test_results_of_fewer_than_ten_answers_are_not_shown(client, login, school_class):
    school, classroom, teacher, counselor = school_class
    _wave, codes = f.wave(classroom, counselor, students=12)
    for code in codes[:9]:
        f.answer(client, code, victim=3)
    result = survey_results(wave_conditions(counselor, classroom_id=classroom.id))
    assert result.answers[WaveKind.baseline] == 9
    assert not result.any_shown
    assert result.indicator("victim").shares[WaveKind.baseline] is None
    login(teacher)
    client.get("/lang/en")
    html = client.get(f"/insights/surveys/results?class={classroom.id}").get_data(as_text=True)
    assert "Not enough answers yet" in html
    assert not re.search(r"\d\.\d%", html)
    f.answer(client, codes[9], victim=3)
    html = client.get(f"/insights/surveys/results?class={classroom.id}").get_data(as_text=True)
    assert "100.0%" in html


def test_a_code_works_once(client, school_class):
    _school, classroom, _teacher, counselor = school_class
    _wave, codes = f.wave(classroom, counselor, students=3)
    assert f.answer(client, codes[0], victim=0).status_code == 302
    again = f.answer(client, codes[0], victim=4)
    assert ONE_MESSAGE in again.get_data(as_text=True)
    assert responses_count() == 1
    entry = client.post("/s", data={"code": codes[0]})
    assert ONE_MESSAGE in entry.get_data(as_text=True)


def test_bad_spent_expired_and_closed_codes_get_the_same_message(client, school_class):
    _school, classroom, _teacher, counselor = school_class
    wave, codes = f.wave(classroom, counselor, students=4)
    f.answer(client, codes[0], victim=0)
    other, other_codes = f.wave(classroom, counselor, WaveKind.follow_up, students=2)
    f.expire(other, utcnow() - timedelta(minutes=1))
    surveys.close_wave(wave)
    db.session.commit()
    pages = []
    for code in ("ZZZZ-ZZZZ", "hello", codes[0], other_codes[0], codes[1]):
        for response in (client.post("/s", data={"code": code}), f.answer(client, code, victim=2)):
            assert response.status_code == 200
            pages.append(response.get_data(as_text=True))
    messages = {page.split('class="error"', 1)[1].split("</p>", 1)[0] for page in pages}
    assert len(messages) == 1
    assert ONE_MESSAGE in messages.pop()
    assert responses_count() == 1


def test_a_typed_code_ignores_case_spaces_dashes_and_cyrillic_lookalikes(client, school_class):
    _school, classroom, _teacher, counselor = school_class
    wave = surveys.open_wave(classroom, WaveKind.baseline, 1, counselor)
    # A seed whose first code has letters that look the same in Cyrillic.
    wave.code_seed = next(
        seed
        for seed in (f"seed-{i}" for i in range(1000))
        if sum(c in "ABEKMHOPCTXY" for c in surveys.derive_code(seed, 0)) >= 3
    )
    db.session.commit()
    code = surveys.derive_code(wave.code_seed, 0)
    db.session.execute(SurveyCode.__table__.delete())
    db.session.add(SurveyCode(wave_id=wave.id, code_hash=surveys.hash_code(code)))
    db.session.commit()
    cyrillic = code.lower().translate(str.maketrans("abekmhopctxy", "авекмнорстху"))
    assert cyrillic.upper() != code
    typed = f" {cyrillic[:4]} - {cyrillic[4:]} "
    page = client.post("/s", data={"code": typed}).get_data(as_text=True)
    assert ONE_MESSAGE not in page
    assert 'name="victim"' in page
    assert f.answer(client, typed, victim=1).status_code == 302


def test_nothing_links_a_code_to_the_answers(app, school_class):
    _school, classroom, _teacher, counselor = school_class
    wave, codes = f.wave(classroom, counselor, students=2)
    student = app.test_client()  # a first visit: no language chosen, no cookie yet
    page = student.post("/s", data={"code": codes[0]})
    response = f.answer(student, codes[0], victim=2, v_verbal=3, by_students=True)
    # The response row has the wave and nothing else; the spent code row is gone.
    assert {c.name for c in inspect(SurveyResponse).columns} == {"id", "wave_id"}
    assert db.session.scalar(select(func.count(SurveyCode.id))) == 1
    answers = dict(db.session.execute(select(SurveyAnswer.item, SurveyAnswer.value)).all())
    assert answers == {"victim": 2, "v_verbal": 3, "by_students": 1}
    # No cookie, no caching, no referrer on the student pages.
    for r in (page, response, student.get("/s"), student.get("/s/thanks")):
        assert "Set-Cookie" not in r.headers
        assert r.headers["Cache-Control"] == "no-store"
        assert r.headers["Referrer-Policy"] == "no-referrer"
    assert codes[0] not in response.headers.get("Location", "")


def test_grades_3_and_4_get_the_shorter_survey_in_child_words(client, app, school_class):
    school, _classroom, _teacher, counselor = school_class
    young = factories.classroom(school, 4, "А")
    _wave, codes = f.wave(young, counselor, students=1)
    client.get("/lang/ru")
    page = client.post("/s", data={"code": codes[0]}).get_data(as_text=True)
    junior = questionnaire().items_in("junior")
    full = questionnaire().items_in("full")
    assert len(junior) < len(full)
    assert "v_sexual" not in junior and 'name="v_sexual"' not in page
    assert 'name="v_physical"' in page
    assert "Другие дети" in page  # the junior wording of "by whom"


def test_every_question_and_option_exists_in_kazakh_russian_and_english():
    content = questionnaire()
    for version in ("full", "junior"):
        for locale in ("kk", "ru", "en"):
            assert content.title(version, locale) and content.intro(version, locale)
            for section in content.sections_in(version):
                for question in section.questions_in(version):
                    assert question.text(version, locale)
            for scale in content.scales.values():
                labels = [label for _value, label in scale.choices(version, locale)]
                assert all(labels)
    kazakh = content.sections[0].questions[0].text("full", "kk")
    assert any(letter in kazakh for letter in "әғқңөұүһі")


def test_slips_pdf_has_the_unspent_codes_in_the_class_language(client, login, school_class):
    from io import BytesIO

    from pypdf import PdfReader

    _school, classroom, teacher, _counselor = school_class
    wave, codes = f.wave(classroom, teacher, students=5)
    f.answer(client, codes[0], victim=0)
    login(teacher)
    response = client.get(f"/insights/surveys/{wave.id}/slips.pdf")
    assert response.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(response.data)).pages)
    for code in codes[1:]:
        assert surveys.format_code(code) in text
    assert surveys.format_code(codes[0]) not in text
    assert "/s" in text
    assert "Сыныбымызда жағдай қалай?" in text  # the class learns in Kazakh


def test_slips_of_a_russian_class_end_the_date_with_one_point(client, login, school_class):
    """Issue 20: «Коды действуют до 7 декабря 2026 г..» — the long Russian date ends with «г.»."""
    from io import BytesIO

    from pypdf import PdfReader

    school, _classroom, teacher, _counselor = school_class
    russian = factories.classroom(school, 7, "В", teachers=[teacher], language="ru")
    wave, _codes = f.wave(russian, teacher, students=3)
    login(teacher)
    response = client.get(f"/insights/surveys/{wave.id}/slips.pdf")
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(response.data)).pages)
    assert "Коды действуют до" in text and "Код действует один раз, до" in text
    assert "г." in text and "г.." not in text.replace(" ", "").replace("\n", "")


@pytest.mark.parametrize(("lang", "kazakh_or_russian"), [("kk", "Бастапқы"), ("ru", "Исходный")])
def test_wave_kinds_are_named_in_the_readers_language(
    client, login, school_class, lang, kazakh_or_russian
):
    """Issue 20: the form to open a wave offered «Baseline / Follow-up» in English."""
    _school, classroom, _teacher, counselor = school_class
    login(counselor)
    client.get(f"/lang/{lang}")
    page = client.get(f"/insights/classes/{classroom.id}/survey").get_data(as_text=True)
    assert kazakh_or_russian in page
    assert "Baseline" not in page and "Follow-up" not in page


@pytest.mark.parametrize("role", [Role.teacher, Role.counselor])
def test_staff_of_another_school_cannot_open_a_wave_for_this_class(
    client, login, role, school_class
):
    _school, classroom, _teacher, _counselor = school_class
    stranger = factories.user(role, factories.school("School B"))
    login(stranger)
    url = f"/insights/classes/{classroom.id}/survey"
    assert client.get(url).status_code == 404
    assert (
        client.post(url, data={"kind": "baseline", "students": 5, "days_open": 7}).status_code
        == 404
    )
    assert db.session.scalar(select(func.count(SurveyWave.id))) == 0


def test_a_teacher_opens_a_wave_only_for_classes_they_teach(client, login, school_class):
    school, classroom, teacher, _counselor = school_class
    other_class = factories.classroom(school, 7, "А")
    login(teacher)
    data = {"kind": "baseline", "students": 5, "days_open": 7}
    assert client.post(f"/insights/classes/{other_class.id}/survey", data=data).status_code == 403
    response = client.post(f"/insights/classes/{classroom.id}/survey", data=data)
    assert response.status_code == 302
    wave = db.session.scalar(select(SurveyWave))
    assert (wave.classroom_id, wave.codes_issued) == (classroom.id, 5)
    assert surveys.unspent_count(wave) == 5


@pytest.mark.parametrize("role", [Role.school_admin, Role.analyst, Role.partner])
def test_other_roles_cannot_open_waves(client, login, role, school_class):
    school, classroom, _teacher, _counselor = school_class
    login(factories.user(role, school if role.is_school_role else None))
    assert client.get(f"/insights/classes/{classroom.id}/survey").status_code == 403


def test_opening_refuses_bad_input_and_a_second_open_wave(client, login, school_class):
    _school, classroom, _teacher, counselor = school_class
    login(counselor)
    client.get("/lang/en")
    url = f"/insights/classes/{classroom.id}/survey"
    page = client.post(url, data={"kind": "baseline", "students": 99, "days_open": 7})
    assert "From 1 to 60, please." in page.get_data(as_text=True)
    assert 'value="99"' in page.get_data(as_text=True)
    assert (
        client.post(url, data={"kind": "baseline", "students": 3, "days_open": 7}).status_code
        == 302
    )
    page = client.post(url, data={"kind": "baseline", "students": 3, "days_open": 7})
    assert "already has an open wave" in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count(SurveyWave.id))) == 1


def test_closing_a_wave_stops_its_codes(client, login, school_class):
    _school, classroom, teacher, _counselor = school_class
    wave, codes = f.wave(classroom, teacher, students=3)
    login(teacher)
    assert client.post(f"/insights/surveys/{wave.id}/close").status_code == 302
    assert ONE_MESSAGE in client.post("/s", data={"code": codes[1]}).get_data(as_text=True)
    assert client.get(f"/insights/surveys/{wave.id}/slips.pdf").status_code == 404


def test_staff_of_another_school_cannot_see_a_wave_or_class_results(client, login, school_class):
    _school, classroom, _teacher, counselor = school_class
    wave, _codes = f.wave(classroom, counselor, students=3)
    login(factories.user(Role.counselor, factories.school("School B")))
    assert client.get(f"/insights/surveys/{wave.id}").status_code == 404
    assert client.get(f"/insights/surveys/{wave.id}/slips.pdf").status_code == 404
    assert client.get(f"/insights/surveys/results?class={classroom.id}").status_code == 404


def test_running_totals_agree_with_a_recount_from_the_answers(client, school_class):
    from insights.models import SurveyTally

    _school, classroom, _teacher, counselor = school_class
    wave, codes = f.wave(classroom, counselor, students=6)
    sent = [
        {"victim": 3, "v_verbal": 2, "by_adults": True, "feel_safe": 4, "would_tell": 2},
        {"victim": 1, "v_verbal": 1, "feel_safe": 3, "would_tell": 1},
        {"victim": 0, "perpetrator": 2, "feel_safe": 1},
        {},  # everything skipped
        {"victim": 4, "by_students": True, "by_adults": True, "knows_report": 0},
    ]
    for code, answers in zip(codes, sent, strict=False):
        assert f.answer(client, code, **answers).status_code == 302

    def totals():
        db.session.expire_all()
        rows = db.session.execute(
            select(SurveyTally.item, SurveyTally.answers, SurveyTally.positive).where(
                SurveyTally.answers > 0
            )
        )
        return {item: (n, k) for item, n, k in rows}, db.session.get(SurveyWave, wave.id).answered

    running = totals()
    # By hand: victim answered 4 times, 2 at "2-3 times a month" or more (3 and 4); feel_safe 3
    # times, 2 "often" or "always"; by_adults ticked twice.
    assert running[0]["victim"] == (4, 2)
    assert running[0]["feel_safe"] == (3, 2)
    assert running[0]["would_tell"] == (2, 1)
    assert running[0]["by_adults"] == (2, 2)
    assert running[0]["perpetrator"] == (1, 1)
    assert running[1] == 5
    surveys.recount([wave.id])
    db.session.commit()
    assert totals() == running
