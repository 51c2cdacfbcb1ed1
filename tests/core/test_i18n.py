"""Language choice: explicit choice → Accept-Language → Kazakh; complete, fresh catalogs."""

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from core.i18n import LOCALES
from school.models import Role
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


def test_kazakh_is_the_default(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="kk">' in html
    assert "әр балаға қауіпсіз мектеп" in html


def test_browser_language_is_used_when_nothing_was_chosen(client):
    html = client.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}).get_data(
        as_text=True
    )
    assert '<html lang="ru">' in html
    assert "безопасная школа для каждого ребёнка" in html


def test_switcher_remembers_the_choice_over_the_browser(client):
    response = client.get("/lang/en?next=/login")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    html = client.get("/login", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert '<html lang="en">' in html and "Staff log-in" in html


def test_switcher_is_a_plain_link_on_every_page(client):
    html = client.get("/login").get_data(as_text=True)
    for code in LOCALES:
        assert f'href="/lang/{code}?next=/login"' in html


def test_switcher_never_redirects_off_site(client):
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = client.get("/lang/ru", query_string={"next": target})
        assert response.headers["Location"] == "/"


def test_unknown_language_changes_nothing(client):
    client.get("/lang/xx")
    assert '<html lang="kk">' in client.get("/").get_data(as_text=True)


def test_staff_choice_is_kept_in_the_account(app, client, login):
    user = factories.user(Role.teacher)
    login(user)
    client.get("/lang/ru")
    from extensions import db

    db.session.refresh(user)
    assert user.locale == "ru"
    other = app.test_client()
    other.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert '<html lang="ru">' in other.get("/staff").get_data(as_text=True)


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_catalog_is_complete_and_has_no_fuzzy_entries(locale):
    with (ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            problems.append(message.id)
    assert problems == [], f"{len(problems)} untranslated or fuzzy in {locale}: {problems[:10]}"


def test_catalogs_are_not_stale(tmp_path):
    """Re-extract every string from the code and compare with the catalogs' entries."""
    pot = tmp_path / "fresh.pot"
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            str(Path(sys.executable).parent / "pybabel"),
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-k",
            "lazy_ngettext:1,2",
            "--no-location",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        fresh = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    for locale in LOCALES:
        path = ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as handle:
            known = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
        assert fresh - known == set(), f"{locale}: not in the catalog, run `make catalogs`"
        assert known - fresh == set(), f"{locale}: obsolete entries, run `make catalogs`"


def test_dates_and_numbers_follow_the_locale(app):
    from datetime import UTC, datetime

    with app.test_request_context(headers={"Accept-Language": "ru"}):
        render = app.jinja_env.from_string("{{ d|date('long') }} {{ n|number }}").render
        text = render(d=datetime(2026, 3, 8, 12, tzinfo=UTC), n=12345)
    assert "марта 2026" in text and "12\xa0345" in text
