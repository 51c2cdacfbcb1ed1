"""Survey slips for a class with a Kazakh letter in its name, in a real Chromium (issue 20: the
server failed to write «6Ә» into the download's name and the browser spun): a teacher opens a
wave for class 6Ә and prints the slips; the PDF arrives, named in UTF-8 with an ASCII
stand-in, and carries the class and its codes."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from playwright.sync_api import expect

from insights.models import WAVE_KIND_TITLES, WaveKind
from school.models import Role
from tests import factories
from tests.browser.helpers import log_in, pdf_text

pytestmark = pytest.mark.browser

CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b")


def teacher_of_6a() -> dict:
    school = factories.school(name="Слип мектебі")
    teacher = factories.user(Role.teacher, school, full_name="Дана Ержанова")
    factories.classroom(school, grade=6, letter="Ә", language="kk", teachers=[teacher])
    return {"email": teacher.email, "name": teacher.full_name}


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_slips_of_a_class_named_in_kazakh_download(browsing, seed, tr, lang):
    data = seed(teacher_of_6a)
    page = browsing.page()
    log_in(page, tr, lang, data["email"], data["name"])
    page.get_by_role("link", name=tr(lang, "Class climate surveys"), exact=True).click()
    page.get_by_role("link", name=tr(lang, "Class %(label)s", label="6Ә")).click()
    group = page.get_by_role("group", name=re.compile("^" + re.escape(tr(lang, "Which wave"))))
    group.get_by_label(tr(lang, WAVE_KIND_TITLES[WaveKind.baseline]), exact=True).check()
    page.get_by_label(tr(lang, "Number of students"), exact=True).fill("12")
    page.get_by_role("button", name=tr(lang, "Open the wave and make the codes")).click()
    expect(page.get_by_role("status")).to_contain_text(
        tr(lang, "The wave is open. Print the slips and hand one to each student.")
    )

    received = []

    def keep(route) -> None:
        response = route.fetch()
        received.append((response.status, response.headers, response.body()))
        route.fulfill(response=response)

    page.route(re.compile(r"/slips\.pdf"), keep)
    page.get_by_role("link", name=tr(lang, "Print the code slips (PDF)")).click()
    expect(page).to_have_url(re.compile(r"/slips\.pdf"))
    status, headers, body = received[0]
    assert status == 200 and headers["content-type"] == "application/pdf"
    disposition = headers["content-disposition"]
    assert 'filename="survey-6A-baseline.pdf"' in disposition, disposition
    encoded = re.search(r"filename\*=UTF-8''([^;]+)", disposition).group(1)
    assert unquote(encoded) == "survey-6Ә-baseline.pdf"
    text = pdf_text(body)
    assert "6Ә" in text
    assert len(set(CODE.findall(text))) == 12
