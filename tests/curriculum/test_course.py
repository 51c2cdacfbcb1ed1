"""The staff course: shuffled quizzes scored right, the pass mark, retries, the certificate and its
public check."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from curriculum import course
from curriculum.models import Certificate, QuizAttempt
from extensions import db
from school.models import Role
from tests import factories
from tests.curriculum.factories import modules, pdf_text


class QuizPage(HTMLParser):
    """The radio buttons of a quiz page: {field name: {label text: value}} and the seed."""

    def __init__(self, html: str):
        super().__init__()
        self.fields: dict[str, dict[str, str]] = {}
        self.order: list[str] = []
        self.seed = None
        self._radio: tuple[str, str] | None = None
        self._label: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "radio":
            self._radio = (attrs["name"], attrs["value"])
            if attrs["name"] not in self.order:
                self.order.append(attrs["name"])
        if tag == "input" and attrs.get("name") == "seed":
            self.seed = attrs.get("value")

    def handle_data(self, data):
        if self._radio:
            self._label.append(data)

    def handle_endtag(self, tag):
        if tag == "label" and self._radio:
            name, value = self._radio
            self.fields.setdefault(name, {})[" ".join("".join(self._label).split())] = value
            self._radio, self._label = None, []


def right_answers_by_text(page: QuizPage, module, locale: str) -> dict[str, str]:
    """Choose, for every question, the radio whose *label* is the right option's text."""
    questions = module.text(locale).questions
    data = {}
    for name, labels in page.fields.items():
        index = int(name[1:])
        right_text = questions[index]["options"][module.answers[index]]
        data[name] = labels[" ".join(right_text.split())]
    return data


@pytest.fixture
def staff(app, content):
    return factories.user(
        Role.teacher, factories.school(), full_name="Айгерім Сәрсенова", locale="en"
    )


def pass_module(user, module) -> None:
    course.record_attempt(user, module, dict(enumerate(module.answers)))
    db.session.commit()


def attempts() -> int:
    return db.session.scalar(select(func.count(QuizAttempt.id)))


def test_pass_mark_is_eighty_percent():
    assert course.Score(4, 5).passed  # exactly 80%
    assert course.Score(5, 6).passed
    assert not course.Score(4, 6).passed
    assert not course.Score(0, 0).passed
    assert course.Score(5, 6).percent == 83


def test_scoring_counts_right_answers_by_place_in_the_file(staff):
    module = modules()[0]
    right = dict(enumerate(module.answers))
    assert course.score(module, right) == course.Score(len(right), len(right))
    wrong_one = {**right, 0: (module.answers[0] + 1) % 3}
    assert course.score(module, wrong_one).correct == len(right) - 1
    assert course.score(module, {}).correct == 0


def test_shuffling_changes_the_order_but_never_the_score(staff):
    module = modules()[0]
    orders = set()
    for seed in range(25):
        shown = course.shown_questions(module, "ru", seed)
        orders.add(tuple((q.index, tuple(i for i, _ in q.options)) for q in shown))
        questions = module.text("ru").questions
        answers = {}
        for question in shown:
            right_text = questions[question.index]["options"][module.answers[question.index]]
            answers[question.index] = next(i for i, text in question.options if text == right_text)
        assert course.score(module, answers).passed
        assert course.score(module, answers).correct == len(module.answers)
    assert len(orders) > 20  # questions and options really move
    assert course.shown_questions(module, "ru", 7) == course.shown_questions(module, "ru", 7)


def test_staff_member_passes_a_module_through_the_shuffled_quiz(client, login, staff):
    module = modules()[0]
    login(staff)
    assert module.text("en").title in client.get(f"/course/{module.slug}").get_data(as_text=True)
    page = QuizPage(client.get(f"/course/{module.slug}/quiz").get_data(as_text=True))
    assert len(page.fields) == len(module.answers)
    data = right_answers_by_text(page, module, "en")
    result = client.post(f"/course/{module.slug}/quiz", data={**data, "seed": page.seed}).get_data(
        as_text=True
    )
    total = len(module.answers)
    assert f"{total} of {total} right answers (100%)" in result
    attempt = db.session.scalar(select(QuizAttempt))
    assert attempt.passed and attempt.score == 100
    assert module.text("en").questions[0]["explain"] in result


def test_a_failed_attempt_can_be_retried(client, login, staff):
    module = modules()[1]
    login(staff)
    page = QuizPage(client.get(f"/course/{module.slug}/quiz").get_data(as_text=True))
    right = right_answers_by_text(page, module, "en")
    wrong = {
        name: next(v for v in labels.values() if v != right[name])
        for name, labels in page.fields.items()
    }
    failed = client.post(f"/course/{module.slug}/quiz", data={**wrong, "seed": page.seed})
    html = failed.get_data(as_text=True)
    assert "0 of" in html and "Not passed yet: 80% is needed." in html
    assert (
        module.text("en").questions[module.answers.index(module.answers[0])]["explain"] not in html
    )

    page = QuizPage(client.get(f"/course/{module.slug}/quiz").get_data(as_text=True))
    client.post(
        f"/course/{module.slug}/quiz",
        data={**right_answers_by_text(page, module, "en"), "seed": page.seed},
    )
    assert [a.passed for a in db.session.scalars(select(QuizAttempt).order_by(QuizAttempt.id))] == [
        False,
        True,
    ]
    overview = client.get("/course").get_data(as_text=True)
    assert "Passed" in overview and "best score 100%" in overview


def test_an_unanswered_question_is_asked_again_in_the_same_order(client, login, staff):
    module = modules()[0]
    login(staff)
    page = QuizPage(client.get(f"/course/{module.slug}/quiz").get_data(as_text=True))
    data = right_answers_by_text(page, module, "en")
    missing = page.order[2]
    del data[missing]
    response = client.post(f"/course/{module.slug}/quiz", data={**data, "seed": page.seed})
    html = response.get_data(as_text=True)
    assert "Please choose one." in html
    again = QuizPage(html)
    assert again.order == page.order and again.seed == page.seed
    assert attempts() == 0


def test_completing_every_module_gives_a_certificate_a_stranger_can_check(
    app, client, login, staff
):
    *first, last = modules()
    assert len(first) >= 1
    for module in first:
        pass_module(staff, module)
    assert course.certificate_of(staff) is None
    login(staff)
    assert client.get("/course/certificate.pdf").status_code == 404

    page = QuizPage(client.get(f"/course/{last.slug}/quiz").get_data(as_text=True))
    done = client.post(
        f"/course/{last.slug}/quiz",
        data={**right_answers_by_text(page, last, "en"), "seed": page.seed},
    )
    assert "Your certificate is ready." in done.get_data(as_text=True)
    certificate = db.session.scalar(select(Certificate))
    assert certificate.full_name == "Айгерім Сәрсенова"
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{20}", certificate.code)

    pdf = client.get("/course/certificate.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    shown_code = course.format_code(certificate.code)
    assert "Айгерім Сәрсенова" in text
    assert shown_code in text
    assert f"/verify/{shown_code}" in text

    stranger = app.test_client()
    check = stranger.get(f"/verify/{shown_code}")
    assert check.status_code == 200
    html = check.get_data(as_text=True)
    assert "This certificate is valid" in html or "Сертификат жарамды" in html
    assert "Айгерім Сәрсенова" in html
    assert staff.email not in html and staff.school.name not in html
    assert check.headers["Cache-Control"] == "no-store"
    # Typed by hand: lower case, spaces, an O for a zero.
    typed = " ".join(certificate.code[i : i + 5] for i in range(0, 20, 5)).lower()
    follow = stranger.get("/verify", query_string={"code": typed.replace("0", "o")})
    assert follow.status_code == 302
    assert stranger.get(follow.headers["Location"]).status_code == 200


def test_the_course_page_in_russian_ends_the_certificates_date_with_one_point(client, login, staff):
    """«Сертификат выдан 7 дек. 2026 г..»: the Russian date ends with «г.» (issue 20's slips)."""
    for module in modules():
        pass_module(staff, module)
    login(staff)
    client.get("/lang/ru")
    page = client.get("/course").get_data(as_text=True)
    assert "Сертификат выдан" in page
    assert "г.." not in page


def test_certificate_is_issued_once(staff):
    for module in modules():
        pass_module(staff, module)
    first = course.certificate_of(staff)
    pass_module(staff, modules()[0])
    assert db.session.scalar(select(func.count(Certificate.id))) == 1
    assert course.certificate_of(staff).code == first.code


def test_an_unknown_code_gets_a_clear_message(client):
    client.get("/lang/en")
    for code in ("ABCD-EFGH-JKMN-PQRS-TVWX", "nonsense", "x" * 200):
        response = client.get(f"/verify/{code}")
        assert response.status_code == 404
        assert "No certificate has this code" in response.get_data(as_text=True)
    assert client.get("/verify").status_code == 200


def test_a_withdrawn_certificate_is_shown_as_withdrawn(client, staff):
    for module in modules():
        pass_module(staff, module)
    certificate = course.certificate_of(staff)
    certificate.revoked_at = certificate.created_at
    db.session.commit()
    client.get("/lang/en")
    html = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert "This certificate has been withdrawn" in html
    assert "This certificate is valid" not in html


@pytest.mark.parametrize("role", [Role.partner, Role.analyst])
def test_roles_outside_schools_do_not_take_the_course(client, login, content, role):
    login(factories.user(role))
    module = modules()[0]
    assert client.get("/course").status_code == 403
    assert client.get(f"/course/{module.slug}").status_code == 403
    assert client.post(f"/course/{module.slug}/quiz", data={}).status_code == 403
    assert client.get("/course/certificate.pdf").status_code == 403


def test_anonymous_visitor_cannot_take_the_quiz(client, content):
    module = modules()[0]
    response = client.post(f"/course/{module.slug}/quiz", data={})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert attempts() == 0


def test_an_operator_withdraws_a_certificate_with_a_reason_in_the_audit_log(app, client, staff):
    from core.audit import AuditEntry

    for module in modules():
        pass_module(staff, module)
    certificate = course.certificate_of(staff)
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["curriculum", "withdraw-certificate", certificate.code])
    assert refused.exit_code != 0 and "--reason" in refused.output  # a reason is required
    done = runner.invoke(
        args=[
            "curriculum",
            "withdraw-certificate",
            course.format_code(certificate.code),
            "--reason",
            "Issued to the wrong account",
        ]
    )
    assert done.exit_code == 0, done.output
    db.session.refresh(certificate)
    assert not certificate.is_valid
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "certificate.withdraw")
    ).all()
    assert (
        "Issued to the wrong account" in entry.detail and entry.school_id == certificate.school_id
    )
    client.get("/lang/en")
    assert "has been withdrawn" in client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    again = runner.invoke(
        args=["curriculum", "withdraw-certificate", certificate.code, "--reason", "x"]
    )
    assert again.exit_code != 0 and "already" in again.output
    unknown = runner.invoke(
        args=["curriculum", "withdraw-certificate", "AAAA-BBBB", "--reason", "x"]
    )
    assert unknown.exit_code != 0 and "No certificate" in unknown.output
