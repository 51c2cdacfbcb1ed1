"""Page weight of the student report form: HTML and CSS, raw and gzip-compressed, per language.

Budget (issue 3): HTML + CSS of the report form at most 30 KB compressed, and no JavaScript.
Run: ``.venv/bin/python bench/page_weight.py``; prints a table and appends it to
``bench/RESULTS.md`` with the date, the machine and the commit.
"""

from __future__ import annotations

import gzip
import platform
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BUDGET = 30 * 1024


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def measure() -> list[tuple[str, int, int, int, int, int]]:
    from app import create_app
    from extensions import db
    from school import services
    from school.models import Region

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
                "SECRET_KEY": "bench",
                "INSTANCE_PATH": f"{tmp}/instance",
            }
        )
        with app.app_context():
            db.create_all()
            services.load_regions()
            region = db.session.query(Region).first()
            school = services.create_school(
                region=region, name="№ 1 мектеп-гимназия", languages=["kk", "ru"]
            )
            db.session.commit()
            code = school.code
        # Requests outside that context: each gets its own, as in production (language included).
        client = app.test_client()
        for locale in ("kk", "ru", "en"):
            client.get(f"/lang/{locale}")
            page = client.get(f"/r/{code}")
            html = page.data
            if page.status_code != 200 or f'<html lang="{locale}">'.encode() not in html:
                raise SystemExit(f"/r/{code} in {locale}: {page.status_code}")
            css_paths = re.findall(rb'<link rel="stylesheet" href="([^"]+)"', html)
            # Each stylesheet is a response of its own, compressed on its own.
            sheets = [client.get(path.decode()).data for path in css_paths]
            css, css_gz = sum(map(len, sheets)), sum(map(gz, sheets))
            scripts = len(re.findall(rb"<script\b", html))
            rows.append((locale, len(html), gz(html), css, css_gz, gz(html) + css_gz, scripts))
        with app.app_context():
            db.engine.dispose()
    return rows


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "?"


def main() -> None:
    rows = measure()
    lines = [
        "| language | HTML | HTML gz | CSS | CSS gz | total gz | budget | scripts |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for locale, html, html_gz, css, css_gz, total, scripts in rows:
        ok = "ok" if total <= BUDGET and scripts == 0 else "OVER"
        lines.append(
            f"| {locale} | {html:,} | {html_gz:,} | {css:,} | {css_gz:,} | {total:,} "
            f"| {ok} (≤ {BUDGET:,}) | {scripts} |"
        )
    table = "\n".join(lines)
    print(table)
    machine = f"{platform.node()}, {platform.machine()}, Python {platform.python_version()}"
    heading = (
        f"\n## Report form page weight — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n"
        f"Machine: {machine}; commit {commit()}. Bytes; gzip level 6.\n\n"
    )
    with (ROOT / "bench" / "RESULTS.md").open("a", encoding="utf-8") as handle:
        handle.write(heading + table + "\n")


if __name__ == "__main__":
    main()
