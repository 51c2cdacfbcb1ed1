"""The QR poster: a warning when the public address is a local one, no "something else" among
the forms, 112 among the numbers, and the school code that /r/ asks for (issue 20)."""

from __future__ import annotations

import io

import pytest
from flask_babel import force_locale
from pypdf import PdfReader

from incidents.intake.forms import FORM_EXPLANATIONS
from incidents.intake.models import ViolenceForm
from incidents.intake.poster import is_local_address
from school.models import Role
from tests import factories

pytestmark = pytest.mark.usefixtures("english")


@pytest.mark.parametrize(
    ("link", "local"),
    [
        ("http://127.0.0.1:5000/r/abc", True),
        ("http://localhost/r/abc", True),
        ("http://192.168.1.20/r/abc", True),
        ("http://10.0.0.5/r/abc", True),
        ("http://qamqor.local/r/abc", True),
        ("http://[::1]/r/abc", True),
        ("https://qamqor.example.kz/r/abc", False),
        ("https://8.8.8.8/r/abc", False),
    ],
)
def test_local_addresses_are_recognised(link, local):
    assert is_local_address(link) is local


def test_the_poster_page_warns_about_a_local_address(app, client, login):
    school = factories.school()
    login(factories.user(Role.counselor, school))
    app.config["PUBLIC_URL"] = "http://127.0.0.1:5000"
    page = client.get("/school/poster").get_data(as_text=True)
    assert "opens only on this computer" in page
    assert f"School code: {school.code}" in page
    app.config["PUBLIC_URL"] = "https://qamqor.example.kz"
    assert "opens only on this computer" not in client.get("/school/poster").get_data(as_text=True)


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_the_poster_names_112_and_the_school_code_and_not_something_else(
    app, client, login, language
):
    app.config["PUBLIC_URL"] = "https://qamqor.example.kz"
    school = factories.school()
    login(factories.user(Role.school_admin, school))
    response = client.get(f"/school/poster.pdf?lang={language}")
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    assert "112" in text
    assert school.code in text.replace(f"/r/{school.code}", "")
    with app.test_request_context(), force_locale(language):
        other = str(ViolenceForm.other.title)
        named = [str(form.title) for form in FORM_EXPLANATIONS if form != ViolenceForm.other]
    assert other not in text
    assert all(title.split()[0] in text for title in named)
