"""The cost of one report submission, split into its parts, so that what sits above the
unavoidable receipt hash is visible.

Parts, each timed on its own (median of ``--repeat`` runs) with the production settings:
- receipt hash: ``incidents.intake.receipts.hash_code`` (HMAC, then Argon2id, 64 MiB, 3 passes);
- encryption at rest (AES-GCM, ``core.crypto``, issue 7) of a long narrative and of the cleaned
  photo, when the code has it;
- image cleaning: ``incidents.intake.uploads.clean_uploads`` of a 12-megapixel phone photo with EXIF
  (GPS) and of a phone screenshot (PNG); a 5-page PDF redrawn as pictures of its pages;
- file store: ``incidents.intake.uploads.save_bytes`` (encrypt when the code does, write, fsync);
- insert and commit: ``incidents.intake.reporting.submit_report`` without its hash and file store
  (the report, its forms, the label and receipt checks, the audit entry, the commit);
- the whole request: ``POST /r/<code>`` through the app (form parsing and validation, all of
  the above, the notice to counselors, the receipt page), without and with the photo, and the
  same request less the time its own receipt hash took.

Run: ``.venv/bin/python bench/intake.py`` (SQLite and PostgreSQL, about a minute). Prints a
table and appends it to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402 - after the path is set
    append_results,
    heading,
    make_app,
    scratch,
    seed_demo,
    table,
    throwaway_database,
)


def phone_photo() -> bytes:
    """A 4000×3000 JPEG as a phone makes it (noisy, so it compresses like a photo), with EXIF
    holding a GPS position and the phone model."""
    from PIL import Image

    base = Image.effect_noise((1000, 750), 40).convert("RGB").resize((4000, 3000))
    grain = Image.effect_noise((4000, 3000), 24).convert("RGB")
    photo = Image.blend(base, grain, 0.35)
    exif = Image.Exif()
    exif[0x010F] = "Samsung"  # Make
    exif[0x0110] = "Galaxy A14"  # Model
    exif[0x0112] = 6  # Orientation: rotated
    exif.get_ifd(0x8825).update({1: "N", 2: (51.0, 7.0, 30.0), 3: "E", 4: (71.0, 26.0, 10.0)})
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=88, exif=exif)
    return out.getvalue()


def screenshot() -> bytes:
    """A 1080×2400 PNG screenshot of a chat (flat colours with text-like noise)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1080, 2400), (236, 229, 221))
    draw = ImageDraw.Draw(image)
    for row in range(40):
        top = 40 + row * 58
        left = 40 if row % 2 else 360
        draw.rounded_rectangle((left, top, left + 680, top + 48), 14, fill=(255, 255, 255))
        for word in range(12):
            x = left + 16 + word * 54
            draw.rectangle((x, top + 18, x + 40, top + 30), fill=(60, 60, 60))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def school_letter() -> bytes:
    """A 5-page A4 PDF of text (made by WeasyPrint), as a student might send a document."""
    from weasyprint import HTML

    page = "<p>" + "Мектептегі оқиға туралы. " * 120 + "</p>"
    body = "".join(f"<section style='page-break-after: always'>{page}</section>" for _ in range(5))
    return HTML(string=body).write_pdf()


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


@contextmanager
def stopwatch(module, name: str, spent: list[float]):
    """Adds the time spent in ``module.name`` to ``spent`` while the block runs."""
    original = getattr(module, name)

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    setattr(module, name, timed)
    try:
        yield
    finally:
        setattr(module, name, original)


def encryption_functions():
    """The encryption at rest of issue 7 (``core.crypto``), when the code has it (else None)."""
    try:
        from core import crypto
    except ImportError:
        return None
    return crypto if hasattr(crypto, "encrypt_text") and hasattr(crypto, "encrypt_bytes") else None


def form_fields(token: str, photo: bytes | None) -> dict:
    from werkzeug.datastructures import FileStorage

    data = {
        "forms": ["bullying", "verbal"],
        "victim": "me",
        "perpetrator": "students",
        "place": "corridor",
        "frequency": "daily",
        "happened": "today",
        "grade_band": "5-9",
        "description": "Екі бала күнде мені мазақтайды, сөмкемді лақтырады. " * 8,
        "token": token,
    }
    if photo is not None:
        data["files"] = [FileStorage(io.BytesIO(photo), "IMG_2041.jpg", content_type="image/jpeg")]
    return data


def measure(dialect: str, repeat: int, photo: bytes, shot: bytes) -> list[tuple[str, float]]:
    import secrets

    from sqlalchemy import select
    from werkzeug.datastructures import FileStorage

    from extensions import db
    from incidents.intake import receipts, reporting, uploads
    from incidents.intake.models import (
        Frequency,
        Perpetrator,
        Place,
        Victim,
        ViolenceForm,
        WhenHappened,
    )
    from school.models import School

    rows: list[tuple[str, float]] = []
    with scratch(f"qamqor-intake-{dialect}-") as folder, throwaway_database(dialect, folder) as url:
        app = make_app(url, folder / "instance", WTF_CSRF_ENABLED=False)
        info = seed_demo(app)
        with app.test_request_context():
            school = db.session.scalar(select(School).where(School.id == info["school_id"]))
            code = receipts.new_code()
            rows.append(
                ("receipt hash (Argon2id)", median_ms(lambda: receipts.hash_code(code), repeat))
            )
            cleaned_photo = uploads.clean_uploads([FileStorage(io.BytesIO(photo), "a.jpg")])
            crypto = encryption_functions()
            narrative = "Екі бала күнде мені мазақтайды, сөмкемді лақтырады. " * 55
            if crypto is None:
                rows.append(("encryption at rest", None))
            else:
                rows.append(
                    (
                        f"encryption at rest: the narrative ({len(narrative):,} characters)",
                        median_ms(
                            lambda: crypto.encrypt_text(narrative, "reports.description"), repeat
                        ),
                    )
                )
                data_bytes = cleaned_photo[0].data
                rows.append(
                    (
                        f"encryption at rest: the cleaned photo ({len(data_bytes) / 1e6:.1f} MB)",
                        median_ms(lambda: crypto.encrypt_bytes(data_bytes, "uploads/x"), repeat),
                    )
                )
            rows.append(
                (
                    f"image cleaning: phone photo 4000×3000 JPEG ({len(photo) / 1e6:.1f} MB)",
                    median_ms(
                        lambda: uploads.clean_uploads([FileStorage(io.BytesIO(photo), "a.jpg")]),
                        repeat,
                    ),
                )
            )
            rows.append(
                (
                    f"image cleaning: screenshot 1080×2400 PNG ({len(shot) / 1e3:.0f} KB)",
                    median_ms(
                        lambda: uploads.clean_uploads([FileStorage(io.BytesIO(shot), "s.png")]),
                        repeat,
                    ),
                )
            )
            document = school_letter()
            rows.append(
                (
                    f"PDF redrawn page by page: a 5-page A4 letter ({len(document) / 1e3:.0f} KB)",
                    median_ms(
                        lambda: uploads.clean_uploads([FileStorage(io.BytesIO(document), "d.pdf")]),
                        repeat,
                    ),
                )
            )
            stored = cleaned_photo[0].data
            rows.append(
                (
                    f"file store: write and fsync ({len(stored) / 1e6:.1f} MB cleaned photo)",
                    median_ms(lambda: uploads.save_bytes(stored), repeat),
                )
            )
            data = reporting.ReportInput(
                victim=Victim.me,
                perpetrator=Perpetrator.students,
                forms=[ViolenceForm.bullying, ViolenceForm.verbal],
                place=Place.corridor,
                frequency=Frequency.daily,
                happened=WhenHappened.today,
                description="Екі бала күнде мені мазақтайды. " * 10,
            )
            rest, hashing = [], []
            for _ in range(repeat):
                hashing.clear()
                with stopwatch(receipts, "hash_code", hashing):
                    started = time.perf_counter()
                    reporting.submit_report(school, data)
                    rest.append(time.perf_counter() - started - sum(hashing))
            rows.append(
                (
                    "insert and commit (report, forms, audit entry; label and receipt checks)",
                    statistics.median(rest) * 1000,
                )
            )
            db.session.remove()
        client = app.test_client()
        for label, with_photo in (("without a file", None), ("with the phone photo", photo)):
            totals, rests = [], []
            for _ in range(repeat):
                hashing: list[float] = []
                with stopwatch(receipts, "hash_code", hashing):
                    started = time.perf_counter()
                    _post(client, info, with_photo, secrets)
                    total = time.perf_counter() - started
                totals.append(total)
                rests.append(total - sum(hashing))
            name = f"whole request: POST /r/{info['school_code']} {label}"
            rows.append((name, statistics.median(totals) * 1000))
            rows.append(
                (
                    f"{name}: all but its receipt hash",
                    statistics.median(rests) * 1000,
                )
            )
        with app.app_context():
            db.engine.dispose()
    return rows


def _post(client, info, photo, secrets) -> None:
    response = client.post(
        f"/r/{info['school_code']}",
        data=form_fields(secrets.token_hex(16), photo),
        content_type="multipart/form-data",
    )
    if response.status_code != 200 or b"secret-code" not in response.data:
        raise SystemExit(f"submission answered {response.status_code}")


def render(results: dict[str, list[tuple[str, float]]], repeat: int) -> str:
    names = [name for name, _ in next(iter(results.values()))]
    rows = []
    for index, name in enumerate(names):
        row = [name]
        for dialect_rows in results.values():
            value = dialect_rows[index][1]
            row.append(
                "not yet (no encryption at rest in the code)"
                if value is None
                else f"{value:,.3f}"
                if value < 1
                else f"{value:,.1f}"
            )
        rows.append(row)
    text = heading("Intake: the cost of one submission")
    text += f"\nMedian of {repeat} runs, milliseconds, production Argon2id settings.\n\n"
    text += table(["part", *[f"{d} ms" for d in results]], rows)
    summary = []
    for dialect, dialect_rows in results.items():
        values = dict(dialect_rows)
        whole = next(v for k, v in dialect_rows if k.startswith("whole request") and "without" in k)
        rest = next(v for k, v in dialect_rows if "without a file: all but" in k)
        summary.append(
            f"- {dialect}: a submission without files takes {whole:,.0f} ms; without its receipt"
            f" hash (Argon2id alone: {values['receipt hash (Argon2id)']:,.0f} ms) the rest of the"
            f" request is {rest:,.0f} ms ({rest / whole:.0%})."
        )
    return text + "\n\n" + "\n".join(summary) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialects", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    photo, shot = phone_photo(), screenshot()
    results = {d: measure(d, args.repeat, photo, shot) for d in args.dialects.split(",")}
    text = render(results, args.repeat)
    print(text)
    if not args.no_save:
        append_results(text)


if __name__ == "__main__":
    main()
