"""Before/after timings of the statistics pages on bench databases made by ``dashboards.py``.

The machine is shared: a change is only measured against the old code in the same minutes. This
script alternates two checkouts (``--before``, a copy of the old commit with its ``.venv``, and
this one) round by round, each in its own process on the same PostgreSQL databases
(``qamqor_bench_<level>``, made and kept by ``dashboards.py --reuse``), and records the load
average with every number. Each child logs in as the national and the Almaty analyst (made by
``dashboards.py``), warms each page once, then times ``--repeat`` requests of each page: median
and fastest page ms, median SQL ms, statements and bytes.

Run: ``.venv/bin/python bench/ab_pages.py --before /tmp/old-checkout --levels 100000,1000000``
(prints a table; ``--save`` appends it to ``bench/RESULTS.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    ("regional", "almaty@bench.invalid", "/insights/"),
    ("national", "national@bench.invalid", "/insights/"),
    ("kpis regional", "almaty@bench.invalid", "/insights/kpis"),
    ("kpis national", "national@bench.invalid", "/insights/kpis"),
]


def child(level: int, repeat: int) -> None:
    """Runs inside the checkout being measured (its own ``sys.path``)."""
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [os.getcwd(), os.path.join(os.getcwd(), "bench")] + [
        p for p in sys.path if p and str(Path(p).resolve()) != here
    ]
    from dashboards import PASSWORD, PG_SERVER, SqlClock, _check  # the checkout's own bench helpers
    from sqlalchemy.engine import make_url

    import app as application
    from extensions import db

    create_app = application.create_app
    if not application.__file__.startswith(os.getcwd()):
        raise SystemExit(f"measuring the wrong checkout: {application.__file__}")

    url = make_url(PG_SERVER).set(database=f"qamqor_bench_{level}")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
            "SECRET_KEY": "bench",
            "PUBLIC_URL": "http://localhost",
            "RATELIMIT_ENABLED": False,
            "TWO_FACTOR_ROLES": "",
            "WTF_CSRF_ENABLED": False,
            "INSTANCE_PATH": "/tmp/qamqor-bench-instance-postgresql",  # noqa: S108 - scratch
        }
    )
    with app.app_context():
        clock = SqlClock(db.engine)
    clients = {}
    for name, email, page in PAGES:
        if email not in clients:
            client = app.test_client()
            client.get("/lang/en")
            response = client.post("/login", data={"email": email, "password": PASSWORD})
            _check(response, 302)
            clients[email] = client
        client = clients[email]
        _check(client.get(page), 200)  # warm-up
        pages, sql, queries, size = [], [], 0, 0
        for _ in range(repeat):
            clock.records.clear()
            started = time.perf_counter()
            response = client.get(page)
            pages.append(time.perf_counter() - started)
            _check(response, 200)
            sql.append(sum(r[0] for r in clock.records))
            queries, size = len(clock.records), len(response.data)
        print(
            json.dumps(
                {
                    "page": name,
                    "ms": statistics.median(pages) * 1000,
                    "fastest": min(pages) * 1000,
                    "sql": statistics.median(sql) * 1000,
                    "queries": queries,
                    "bytes": size,
                    "load": os.getloadavg()[0],
                }
            ),
            flush=True,
        )


def run(root: Path, level: int, repeat: int) -> list[dict]:
    done = subprocess.run(
        [str(root / ".venv/bin/python"), str(ROOT / "bench/ab_pages.py"), "--child", str(level)]
        + ["--repeat", str(repeat)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": f"{root}:{root / 'bench'}"},
        capture_output=True,
        text=True,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, help="a checkout of the old code")
    parser.add_argument("--levels", default="100000,1000000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.repeat)
        return
    results: dict = {}
    for level in (int(x) for x in args.levels.split(",")):
        for round_ in range(args.rounds):
            for label, root in (("before", args.before), ("after", ROOT)):
                for row in run(root, level, args.repeat):
                    results.setdefault((level, row["page"], label), []).append(row)
                    print(level, round_, label, row, flush=True)
    lines = [
        f"A/B of the statistics pages — {datetime.now(UTC):%Y-%m-%d %H:%M UTC}, "
        f"{args.rounds} rounds alternating before/after, {args.repeat} requests each",
        "",
        "| reports | page | code | median ms per round | fastest ms | sql ms | queries | bytes"
        " | load (1 min) |",
        "| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for (level, page, label), rows in results.items():
        medians = ", ".join(f"{r['ms']:.0f}" for r in rows)
        loads = ", ".join(f"{r['load']:.1f}" for r in rows)
        lines.append(
            f"| {level:,} | {page} | {label} | {medians}"
            f" | {min(r['fastest'] for r in rows):.0f}"
            f" | {statistics.median(r['sql'] for r in rows):.0f} | {rows[-1]['queries']}"
            f" | {rows[-1]['bytes']:,} | {loads} |"
        )
    report = "\n".join(lines)
    print(report)
    if args.save:
        with (ROOT / "bench" / "RESULTS.md").open("a", encoding="utf-8") as handle:
            handle.write("\n" + report + "\n")


if __name__ == "__main__":
    main()
