"""Download names: any name in any script reaches the browser (RFC 6266), and the header stays
ASCII, as a WSGI server must write it (gunicorn failed on «6Ә» with UnicodeEncodeError)."""

import re
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.downloads import content_disposition
from insights import surveys
from school.models import Role
from tests import factories
from tests.insights import factories as f


def parse(header: str) -> tuple[str, str, str | None]:
    kind = header.split(";")[0]
    fallback = re.search(r'filename="([^"]*)"', header).group(1)
    extended = re.search(r"filename\*=UTF-8''(\S+)", header)
    return kind, fallback, unquote(extended.group(1)) if extended else None


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ("survey-6Ә-baseline.pdf", "survey-6A-baseline.pdf"),
        ("survey-3А-follow_up.pdf", "survey-3A-follow_up.pdf"),  # a Cyrillic А
        ("Шымкент Қала.csv", "Shymkent_Qala.csv"),
        ('a "quoted"\\name.pdf', "a_quoted_name.pdf"),
        ("ұқсас.pdf", "uqsas.pdf"),
        ("…", "download"),
    ],
)
def test_any_name_gets_an_ascii_fallback_and_its_own_utf8_name(name, fallback):
    header = content_disposition(name)
    header.encode("ascii")
    assert parse(header) == ("attachment", fallback, name)


def test_an_ascii_name_is_sent_as_it_is():
    assert content_disposition("lesson-kk.pdf", inline=True) == 'inline; filename="lesson-kk.pdf"'


@given(st.text(min_size=1, max_size=40))
def test_every_name_makes_a_header_a_server_can_write(name):
    header = content_disposition(name)
    header.encode("ascii")
    assert "\r" not in header and "\n" not in header
    kind, fallback, extended = parse(header)
    assert kind == "attachment"
    assert extended in (name, None)
    assert extended == name or fallback == name


@pytest.mark.parametrize("letter", ["Ә", "Б", "А"])
def test_survey_slips_of_a_class_with_a_kazakh_or_russian_letter_download(client, login, letter):
    school = factories.school("School A")
    teacher = factories.user(Role.teacher, school)
    classroom = factories.classroom(school, 6, letter, teachers=[teacher], language="kk")
    wave, codes = f.wave(classroom, teacher, students=3)
    login(teacher)
    response = client.get(f"/insights/surveys/{wave.id}/slips.pdf")
    assert response.status_code == 200
    header = response.headers["Content-Disposition"]
    header.encode("ascii")  # what gunicorn could not do
    assert parse(header)[2] == f"survey-6{letter}-baseline.pdf"
    assert surveys.format_code(codes[0]).encode() not in header.encode()
