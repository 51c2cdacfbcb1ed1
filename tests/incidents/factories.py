"""Factory helpers for reports, built through the same service the student pages use."""

from __future__ import annotations

import io

from PIL import Image

from extensions import db
from incidents.intake.models import (
    AuthorKind,
    Frequency,
    Message,
    Perpetrator,
    Place,
    Report,
    Victim,
    ViolenceForm,
    WhenHappened,
)
from incidents.intake.reporting import ReportInput, submit_report
from school.models import School, User


def report(school: School, **fields) -> tuple[Report, str]:
    """A committed report and its receipt code (its notices wait in the outbox)."""
    data = ReportInput(
        victim=fields.pop("victim", Victim.me),
        perpetrator=fields.pop("perpetrator", Perpetrator.students),
        forms=fields.pop("forms", [ViolenceForm.verbal]),
        place=fields.pop("place", Place.yard),
        frequency=fields.pop("frequency", Frequency.once),
        happened=fields.pop("happened", WhenHappened.today),
        description=fields.pop("description", "They took my hat."),
        **fields,
    )
    report, code, _notices = submit_report(school, data)
    return report, code


def staff_message(
    report_: Report, author: User, body: str = "Thank you for telling us."
) -> Message:
    message = Message(report=report_, author_kind=AuthorKind.staff, author=author, body=body)
    db.session.add(message)
    db.session.commit()
    return message


def form_data(**overrides) -> dict:
    """What the report form sends for a complete, valid report."""
    data = {
        "forms": ["bullying", "verbal"],
        "victim": "me",
        "perpetrator": "students",
        "place": "corridor",
        "frequency": "daily",
        "happened": "today",
        "grade_band": "5-9",
        "description": "Екі бала күнде мені мазақтайды.",
        "token": "a" * 32,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def jpeg_bytes(size=(64, 48), color=(200, 30, 30), exif=None) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", exif=exif or b"")
    return out.getvalue()


def png_bytes(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 120, 0, 128)).save(out, "PNG")
    return out.getvalue()


MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def upload(data: bytes, name: str, content_type: str = "application/octet-stream"):
    """A file as the test client sends it: (stream, file name, claimed type)."""
    return (io.BytesIO(data), name, content_type)
