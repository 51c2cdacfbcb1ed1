"""Case views per second when many schools' counselors read cases at once (issue 19).

Every case view writes one audit entry in the request's transaction (``core.audit.record``, then
the page's own statements, then the commit). Before 0017 every entry of the country took one
installation-wide lock, held until the commit; with one chain per school, only writers of the
same school wait for each other. Each writer is a process with its own app and connection (as a
gunicorn worker), looping for ``--seconds``: the audit entry, a read of the school as the page
does, the commit. Measured with every writer in its own school, and with all in one school.

    .venv/bin/python bench/audit_writes.py [--writers 8] [--seconds 10] [--no-save]

It uses only ``audit.record``, so the same script measures an older commit (copy it there).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common  # noqa: E402


def _writer(url: str, instance: str, school_id: int, seconds: float, start, out) -> None:
    from sqlalchemy import text

    from core import audit
    from extensions import db

    app = common.make_app(url, Path(instance))
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.commit()
        start.wait()
        deadline, done, waited = time.perf_counter() + seconds, 0, 0.0
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            audit.record("case.view", school_id=school_id, actor_kind="system", narrative=True)
            waited += time.perf_counter() - began
            db.session.execute(text("SELECT name FROM schools WHERE id = :id"), {"id": school_id})
            db.session.commit()
            done += 1
        db.session.remove()
        db.engine.dispose()
    out.put((done, waited))


def _run(url: str, instance: Path, schools: list[int], seconds: float) -> float:
    ctx = multiprocessing.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(url, str(instance), s, seconds, start, out))
        for s in schools
    ]
    for proc in procs:
        proc.start()
    time.sleep(2)  # every writer connected
    start.set()
    results = [out.get(timeout=seconds + 60) for _ in procs]
    for proc in procs:
        proc.join()
    done = sum(r[0] for r in results)
    return done / seconds, 1000 * sum(r[1] for r in results) / max(done, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--dialect", default="postgresql", choices=["postgresql", "sqlite"])
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    rows = []
    with (
        common.scratch("qamqor-audit-") as folder,
        common.throwaway_database(args.dialect, folder) as url,
    ):
        from sqlalchemy import select

        from extensions import db
        from school import services
        from school.models import Region

        app = common.make_app(url, folder / "instance")
        with app.app_context():
            db.create_all()
            services.load_regions()
            region = db.session.scalars(select(Region)).first()
            schools = [
                services.create_school(region=region, name=f"School {i}", languages=["kk"]).id
                for i in range(args.writers)
            ]
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        for label, chosen in [
            (f"{args.writers} writers, each in its own school", schools),
            (f"{args.writers} writers, all in one school", [schools[0]] * args.writers),
        ]:
            rate, in_record = _run(url, folder / "instance", chosen, args.seconds)
            rows.append([label, f"{rate:,.0f}", f"{in_record:.1f}"])
            print(label, f"{rate:,.0f}/s", f"{in_record:.1f} ms in record", flush=True)
        with app.app_context():
            from core.audit_verify import verify_chain

            checked, broken = verify_chain()
            rows.append(
                [
                    f"audit verify afterwards: {checked} entries",
                    "intact" if broken is None else f"broken at {broken}",
                ]
            )
            db.session.remove()
            db.engine.dispose()
    text = common.heading(f"Audit writes: case views per second ({args.dialect})")
    text += (
        f"\nEach writer a process with its own connection, {args.seconds:.0f} s: audit entry, "
        "one read, commit (the write part of a case view). The time in ``audit.record`` is mostly "
        "waiting for the chain's lock.\n\n"
    )
    text += (
        common.table(
            ["writers", "case views per second", "ms per view in audit.record (lock wait)"], rows
        )
        + "\n"
    )
    print(text)
    if not args.no_save:
        common.append_results(text)


if __name__ == "__main__":
    main()
