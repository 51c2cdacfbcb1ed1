"""The student's files on the case page: a counselor of the school opens them, each opening is
in the audit log; nobody else reaches them, and their content can do nothing in the browser."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from core.audit import AuditEntry
from core.model_types import utcnow
from core.opaque import opaque
from extensions import db
from incidents.cases import state_machine
from incidents.intake import uploads
from incidents.intake.models import Report
from incidents.intake.reporting import add_reporter_message
from school.models import Role
from tests import factories
from tests.incidents.case_factories import new_case, staffed_school
from tests.incidents.factories import MINIMAL_PDF, form_data, jpeg_bytes, upload


def case_with_files(client):
    """A case from a report sent with a photo, and a PDF the student sent later in a message."""
    staff = staffed_school()
    data = form_data(description="Суреті бар")
    data["files"] = [upload(jpeg_bytes(size=(60, 30)), "IMG_0042.JPG", "image/jpeg")]
    sent = client.post(f"/r/{staff.school.code}", data=data, content_type="multipart/form-data")
    assert sent.status_code == 200
    report = db.session.scalar(select(Report).order_by(Report.id.desc()))
    case = state_machine.open_case(report, by=staff.counselor, now=utcnow())
    add_reporter_message(report, "Тағы бір құжат", [uploads.clean_file(MINIMAL_PDF)])
    db.session.commit()
    return staff, case


def file_links(page: str, case) -> list[str]:
    marker = f"/staff/cases/{opaque(case.id)}/files/"
    return sorted({page[i : page.index('"', i)] for i in _find_all(page, marker)})


def _find_all(text: str, needle: str):
    start = text.find(needle)
    while start != -1:
        yield start
        start = text.find(needle, start + 1)


def test_the_counselor_sees_the_photo_and_downloads_the_pdf_and_each_opening_is_logged(
    app, client, login
):
    staff, case = case_with_files(client)
    login(staff.counselor)
    page = client.get(f"/staff/cases/{opaque(case.id)}").get_data(as_text=True)
    photo_url, pdf_url = file_links(page, case)
    assert "IMG_0042" not in page  # the student's file name is never kept

    photo = client.get(photo_url)
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert photo.headers["Content-Disposition"].startswith("inline;")
    assert "sandbox" in photo.headers["Content-Security-Policy"]
    assert photo.headers["Cache-Control"] == "no-store"
    with Image.open(io.BytesIO(photo.data)) as image:
        assert image.size == (60, 30) and not image.getexif()

    pdf = client.get(pdf_url)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Disposition"].startswith("attachment;")
    assert pdf.headers["Content-Disposition"].endswith('.pdf"')

    opened = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "attachment.view")
    ).all()
    assert len(opened) == 2 and {e.object_id for e in opened} == {case.id}
    assert all(e.actor_id == staff.counselor.id for e in opened)


def test_nobody_else_opens_the_files(app, client, login):
    staff, case = case_with_files(client)
    other = staffed_school("Басқа мектеп", region_code="KZ-75")
    other_case = new_case(other)
    login(staff.counselor)
    photo_url, _pdf = file_links(
        client.get(f"/staff/cases/{opaque(case.id)}").get_data(as_text=True), case
    )
    file_id = photo_url.rsplit("/", 1)[1]
    # The file under another case's address (even one the counselor may open) is not found.
    own_other_case = new_case(staff)
    assert (
        client.get(f"/staff/cases/{opaque(own_other_case.id)}/files/{file_id}").status_code == 404
    )
    for user in (other.counselor, staff.admin, staff.teacher, factories.user(Role.analyst)):
        browser = app.test_client()
        login(user, using=browser)
        assert browser.get(photo_url).status_code in (403, 404), user.role
        if user is other.counselor:  # their own case's address does not lead to it either
            url = f"/staff/cases/{opaque(other_case.id)}/files/{file_id}"
            assert browser.get(url).status_code == 404
    assert app.test_client().get(photo_url).status_code == 302  # to the log-in page
    assert not db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "attachment.view")
    ).all()


def test_a_file_removed_under_the_retention_rule_is_not_found(app, client, login):
    staff, case = case_with_files(client)
    login(staff.counselor)
    photo_url, _pdf = file_links(
        client.get(f"/staff/cases/{opaque(case.id)}").get_data(as_text=True), case
    )
    for attachment in case.report.attachments:
        uploads.delete_bytes(attachment.storage_key)
    assert client.get(photo_url).status_code == 404
