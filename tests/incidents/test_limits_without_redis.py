"""The rate-limit store (Redis) away or there (issue 14.3), against real gunicorn.

Away (a port where nothing listens): a child can still report and open their report, staff can
still log in, and no limit is lifted: the limits and the wait after wrong codes are counted in
the worker's memory, and the outage is logged once, not once per request. There: the limits and
the wait hold across workers, and Redis holds no address.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from pathlib import Path

import redis
from sqlalchemy import func, select

from bench.common import Browser, Gunicorn, free_port, hidden_fields, receipt_code
from extensions import db
from incidents.intake.models import Report
from school.models import Role
from tests import factories
from tests.incidents.factories import form_data

WRONG = "0000 0000 0000 0001"


def send_report(child: Browser, school_code: str):
    fields = hidden_fields(child.get(f"/r/{school_code}").text)
    return child.post(f"/r/{school_code}", {**form_data(), **fields})


def check(child: Browser, code: str):
    token = hidden_fields(child.get("/r/check").text)["csrf_token"]
    return child.post("/r/check", {"csrf_token": token, "code": code})


def serve(app, storage_uri: str, workers: int = 1, **settings) -> Gunicorn:
    return Gunicorn(
        app.config["SQLALCHEMY_DATABASE_URI"],
        Path(app.instance_path),
        workers=workers,
        RATELIMIT_ENABLED="true",
        RATELIMIT_STORAGE_URI=storage_uri,
        REPORT_RATE_LIMIT="2 per hour",
        RECEIPT_DELAY_UNIT=60,
        RECEIPT_DELAY_MAX=120,
        **settings,
    )


def test_with_redis_unreachable_children_report_staff_log_in_and_the_limits_still_apply(app):
    school = factories.school()
    teacher = factories.user(Role.teacher, school)
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    with serve(app, nowhere) as server:
        child = Browser(server.base)
        sent = [send_report(child, school.code) for _ in range(3)]
        codes = [receipt_code(reply.text) for reply in sent[:2]]
        opened = [check(Browser(server.base), code) for code in codes]
        wrong = check(child, WRONG)
        early = check(child, codes[0])
        Browser(server.base).login(teacher.email, factories.PASSWORD)  # raises if refused
        log = server.log.read_text(errors="replace")

    assert [reply.status for reply in sent] == [200, 200, 429]  # the limit, counted in memory
    assert all(codes) and len(set(codes)) == 2  # each stored report showed its receipt
    assert db.session.scalar(select(func.count()).select_from(Report)) == 2
    assert [reply.status for reply in opened] == [303, 303]
    assert wrong.status == 200 and wrong.headers["Retry-After"] == "60"
    assert early.status == 429  # the wait after a wrong code still applies
    assert "Traceback" not in log
    assert log.count("falling back to in-memory storage") == 1  # the limits
    assert log.count("counting wrong receipt codes in this process") == 1
    assert log.count("counting failed log-ins in this process") == 1  # the staff lock-out


def test_with_redis_the_limits_and_the_wait_hold_across_workers(app):
    school = factories.school()
    secret = uuid.uuid4().hex  # keys of their own in a Redis that others may share
    client = hmac.new(secret.encode(), b"client\x00127.0.0.1", hashlib.sha256).hexdigest()[:32]
    with serve(app, "redis://127.0.0.1:6379/0", workers=2, SECRET_KEY=secret) as server:
        statuses = [send_report(Browser(server.base), school.code).status for _ in range(4)]
        wrong = check(Browser(server.base), WRONG)
        early = [check(Browser(server.base), WRONG).status for _ in range(3)]
    store = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    keys = [key.decode() for key in store.scan_iter(f"*{client}*")]
    try:
        assert statuses == [200, 200, 429, 429]  # 2 per hour, whichever worker answers
        assert wrong.status == 200 and wrong.headers["Retry-After"] == "60"
        assert early == [429, 429, 429]
        assert keys and not any("127.0.0.1" in key for key in keys)
    finally:
        if keys:
            store.delete(*keys)
        store.close()
