"""The pages gunicorn itself answers with are in Kazakh, Russian and English (issue 14): a request
it cannot read, and a request whose worker is stopped at its time-out. Against real gunicorn
started with ``gunicorn.conf.py``."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bench.common import Gunicorn
from core.security import CSP

# The 400 and 500 titles of core.errors in each language (translations/*/messages.po).
BAD_REQUEST = (
    "Сұрауда қате шықты",
    "С запросом что-то не так",
    "Something went wrong with the request",
)
OUR_SIDE = (
    "Бізде бірдеңе дұрыс болмады",
    "У нас что-то пошло не так",
    "Something went wrong on our side",
)


def raw(base: str, data: bytes, timeout: float = 60) -> tuple[int, str, str]:
    """Send ``data`` as it is; the status, the headers and the body of the answer."""
    host, port = base.split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as connection:
        connection.sendall(data)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, head.decode("latin-1"), body.decode()


def assert_localized(head: str, body: str, titles: tuple[str, ...]) -> None:
    assert "charset=utf-8" in head
    assert f"Content-Security-Policy: {CSP}" in head and "X-Frame-Options: DENY" in head
    for lang, title in zip(("kk", "ru", "en"), titles, strict=True):
        assert f'lang="{lang}"' in body
        assert title in body
    assert "Bad Request" not in body and "Internal Server Error" not in body


@pytest.fixture
def server(app):
    with Gunicorn(
        app.config["SQLALCHEMY_DATABASE_URI"], Path(app.instance_path), workers=1
    ) as running:
        yield running


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"THIS IS NOT HTTP\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: localhost\r\n" + b"X-H: 1\r\n" * 200 + b"\r\n",
        b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n",
    ],
    ids=["bad request line", "header too long", "too many headers", "address too long"],
)
def test_a_request_gunicorn_cannot_read_gets_a_page_in_three_languages(server, request_bytes):
    status, head, body = raw(server.base, request_bytes)
    assert 400 <= status < 500
    assert_localized(head, body, BAD_REQUEST)


def test_a_request_stopped_at_the_worker_time_out_gets_a_page_in_three_languages(app):
    """A request whose body never comes in full keeps its worker until gunicorn's time-out."""
    server = Gunicorn(app.config["SQLALCHEMY_DATABASE_URI"], Path(app.instance_path), workers=1)
    server.env["GUNICORN_CMD_ARGS"] = "--timeout 2"
    with server:
        status, head, body = raw(
            server.base,
            b"POST /r/check HTTP/1.1\r\nHost: %s\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 100\r\n\r\ncode=1" % server.base.encode(),
        )
    assert "WORKER TIMEOUT" in server.log.read_text()
    assert status == 500
    assert_localized(head, body, OUR_SIDE)
