"""Error pages, headers, the PDF renderer."""

import io

import pypdf
import pytest

from core.pdf import _static_resource, render_pdf


def test_404_page_is_localized(client):
    response = client.get("/no-such-page", headers={"Accept-Language": "ru"})
    assert response.status_code == 404
    assert "Страница не найдена" in response.get_data(as_text=True)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_a_method_a_page_does_not_take_gets_a_localized_405(client, method):
    """Statuses without texts of their own (405 here) are localized too, with their headers."""
    response = client.open("/r/check", method=method, headers={"Accept-Language": "ru"})
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    page = response.get_data(as_text=True)
    assert "С запросом что-то не так" in page and "Method Not Allowed" not in page


def test_security_headers_on_every_page(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_session_cookie_is_httponly_and_samesite(client):
    response = client.get("/lang/ru")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pdf_keeps_every_kazakh_letter(app, tmp_path):
    (tmp_path / "probe.html").write_text(
        '{% extends "pdf/base.html" %}{% block content %}<h1>{{ text }}</h1>{% endblock %}',
        encoding="utf-8",
    )
    from jinja2 import ChoiceLoader, FileSystemLoader

    app.jinja_loader  # noqa: B018 - make sure the app loader exists before wrapping it
    app.jinja_env.loader = ChoiceLoader([FileSystemLoader(tmp_path), app.jinja_env.loader])
    with app.test_request_context():
        data = render_pdf("probe.html", locale="kk", text="Әділет ғана қамқор: ң ө ұ ү һ і")
    text = pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text()
    for letter in "әғқңөұүһі":
        assert letter in text.lower()
    assert "Әділет" in text


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://pdf.invalid/static/../../app.py",
        "http://example.com/static/css/print.css/../../../../etc/passwd",
        "http://pdf.invalid/etc/passwd",
        "ftp://pdf.invalid/static/css/print.css",
    ],
)
def test_pdf_fetcher_refuses_anything_but_static_files(app, url):
    with app.test_request_context(), pytest.raises(ValueError):
        _static_resource(url)


def test_pdf_fetcher_serves_the_print_stylesheet(app):
    with app.test_request_context():
        body, mime = _static_resource("http://pdf.invalid/static/css/print.css")
    assert b"@page" in body and mime == "text/css"


def test_https_deployment_sends_hsts_and_secure_cookies(tmp_path, database_url):
    from app import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "x",
            "HTTPS": True,
            "PUBLIC_URL": "https://qamqor.example",
            "INSTANCE_PATH": str(tmp_path),
        }
    )
    client = app.test_client()
    response = client.get("/lang/ru", base_url="https://qamqor.example")
    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
