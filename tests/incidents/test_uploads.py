"""Uploads: the type comes from the content, images lose their metadata, the rest is refused."""

from __future__ import annotations

import io
import os

import pytest
from flask.testing import EnvironBuilder
from PIL import Image, ImageCms
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject
from sqlalchemy import func, select

from extensions import db
from incidents import uploads
from incidents.models import Attachment, Report
from tests import factories
from tests.incidents.factories import MINIMAL_PDF, form_data, jpeg_bytes, png_bytes, upload

pytestmark = pytest.mark.usefixtures("english")

GPS_IFD = 0x8825


def exif_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X-1000"  # Model
    exif[0x0112] = 6  # Orientation: rotated 90°
    exif[0x0132] = "2026:11:29 10:42:00"  # DateTime
    exif.get_ifd(GPS_IFD).update(
        {1: "N", 2: (43.0, 15.0, 20.5), 3: "E", 4: (76.0, 56.0, 44.1)}  # Almaty
    )
    return exif.tobytes()


def stored_files(app) -> list[bytes]:
    """What the store keeps, decrypted (the files themselves are encrypted at rest)."""
    root = os.path.join(app.instance_path, "uploads")
    if not os.path.isdir(root):
        return []
    return [uploads.load_bytes(name) for name in sorted(os.listdir(root))]


def post_report(client, school, *files, **overrides):
    data = form_data(**overrides)
    data["files"] = list(files)
    return client.post(f"/r/{school.code}", data=data, content_type="multipart/form-data")


def test_photo_with_gps_is_stored_without_any_exif_and_upright(app, client):
    original = jpeg_bytes(size=(80, 40), exif=exif_with_gps())
    with Image.open(io.BytesIO(original)) as check:
        assert check.getexif().get_ifd(GPS_IFD)  # the test photo really carries a position
    school = factories.school()
    response = post_report(client, school, upload(original, "IMG_0001.JPG", "image/jpeg"))
    assert response.status_code == 200
    [data] = stored_files(app)
    assert b"Model X-1000" not in data and b"PhoneMaker" not in data and b"Exif" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert len(image.getexif()) == 0
        assert not image.getexif().get_ifd(GPS_IFD)
        assert "exif" not in image.info and "icc_profile" not in image.info
        assert image.size == (40, 80)  # the orientation was applied before it was dropped


def test_png_loses_text_chunks_and_colour_profile(app):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Aigerim Secret")
    info.add_text("XML:com.adobe.xmp", "<x:xmpmeta>GPS 43.25</x:xmpmeta>")
    out = io.BytesIO()
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.new("RGB", (20, 20), (1, 2, 3)).save(out, "PNG", pnginfo=info, icc_profile=srgb)
    cleaned = uploads.clean_file(out.getvalue())
    assert cleaned.content_type == "image/png"
    assert b"Aigerim" not in cleaned.data and b"xmpmeta" not in cleaned.data
    with Image.open(io.BytesIO(cleaned.data)) as image:
        assert "icc_profile" not in image.info and not image.text


def test_jpeg_comment_is_dropped():
    out = io.BytesIO()
    Image.new("RGB", (16, 16)).save(out, "JPEG", comment=b"taken at school 12")
    assert b"school 12" not in uploads.clean_file(out.getvalue()).data


def test_pdf_is_accepted_by_its_signature(app, client):
    school = factories.school()
    response = post_report(client, school, upload(MINIMAL_PDF, "scan", "text/plain"))
    assert response.status_code == 200
    attachment = db.session.scalar(select(Attachment))
    assert attachment.content_type == "application/pdf"
    stored = uploads.load_bytes(attachment.storage_key)
    assert stored.startswith(b"%PDF") and len(PdfReader(io.BytesIO(stored)).pages) == 1


def risky_pdf(pages: int = 2, size=(595, 842)) -> bytes:
    """A PDF that shows a sentence on each page and carries what a PDF can hide: a script run
    on opening, its author's name and a file attached inside it."""
    from weasyprint import HTML

    shown = "".join(
        f"<p style='page-break-after: always'>Мені мазақтайды, бет {n}</p>" for n in range(pages)
    )
    css = f"@page {{ size: {size[0]}pt {size[1]}pt; margin: 20pt }}"
    made = HTML(string=f"<style>{css}</style>{shown}").write_pdf()
    writer = PdfWriter(clone_from=io.BytesIO(made))
    script = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('Hidden script');"),
        }
    )
    writer.root_object[NameObject("/OpenAction")] = writer._add_object(script)
    writer.add_metadata({"/Author": "Айгерім Сәрсенова", "/Title": "Менің арызым"})
    writer.add_attachment("hidden.txt", b"A file inside the PDF")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_pdf_keeps_only_what_it_shows_page_by_page(app, client):
    original = risky_pdf(pages=3)
    reader = PdfReader(io.BytesIO(original))
    # The test file really carries them.
    assert reader.trailer["/Root"]["/OpenAction"]["/S"] == "/JavaScript"
    assert reader.metadata.author == "Айгерім Сәрсенова" and "hidden.txt" in reader.attachments
    assert "Мені мазақтайды" in reader.pages[0].extract_text()
    school = factories.school()
    assert (
        post_report(client, school, upload(original, "арыз.pdf", "application/pdf")).status_code
        == 200
    )
    [stored] = stored_files(app)
    cleaned = PdfReader(io.BytesIO(stored))
    assert len(cleaned.pages) == 3
    assert b"JavaScript" not in stored and b"/JS" not in stored and b"hidden.txt" not in stored
    assert b"EmbeddedFile" not in stored and b"A file inside" not in stored
    assert not any(value and "Айгерім" in str(value) for value in (cleaned.metadata or {}).values())
    for page in cleaned.pages:
        assert page.extract_text().strip() == ""  # no text layer: pictures of the pages
        assert len(page.images) == 1
        image = page.images[0].image
        assert image.width == round(595 * 150 / 72) or abs(image.width - 595 * 150 / 72) < 2
        # The page was drawn: dark pixels where the sentence is, not a blank sheet.
        assert image.convert("L").getextrema()[0] < 100


def test_a_pdf_page_that_claims_to_be_huge_is_drawn_at_most_4096_pixels(app):
    cleaned = uploads.clean_file(risky_pdf(pages=1, size=(14000, 9000)))
    [image] = [i.image for i in PdfReader(io.BytesIO(cleaned.data)).pages[0].images]
    assert max(image.size) == uploads.MAX_SIDE


def test_a_long_or_unreadable_pdf_is_refused_and_nothing_saved(app, client):
    school = factories.school()
    client.get("/lang/en")
    long = risky_pdf(pages=uploads.MAX_PDF_PAGES + 1)
    response = post_report(client, school, upload(long, "book.pdf", "application/pdf"))
    assert response.status_code == 400
    assert "more than 20 pages" in response.get_data(as_text=True)
    damaged = b"%PDF-1.4\n" + b"\x00garbage" * 50
    response = post_report(client, school, upload(damaged, "scan.pdf", "application/pdf"))
    assert response.status_code == 400
    assert "cannot be opened" in response.get_data(as_text=True)
    assert stored_files(app) == []
    assert db.session.scalar(select(func.count(Report.id))) == 0


@pytest.mark.parametrize(
    ("content", "name", "claimed"),
    [
        (b"MZ\x90\x00 this is a program", "photo.jpg", "image/jpeg"),
        (b"<html><script>alert(1)</script></html>", "scan.pdf", "application/pdf"),
        (b"GIF89a broken", "funny.gif", "image/gif"),
    ],
)
def test_a_file_whose_content_is_not_an_image_or_pdf_is_refused_and_nothing_saved(
    app, client, content, name, claimed
):
    school = factories.school()
    response = post_report(client, school, upload(content, name, claimed), description="Көмек")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This file cannot be added" in page
    assert "Көмек" in page  # what was typed stays
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0
    assert stored_files(app) == []


def test_a_file_over_10_mb_gets_a_localized_413_and_nothing_is_saved(app, client):
    school = factories.school()
    client.get("/lang/ru")
    big = upload(b"%PDF-1.4\n" + b"0" * uploads.MAX_BYTES, "big.pdf", "application/pdf")
    data = form_data(files=[upload(jpeg_bytes(), "ok.jpg"), big])
    # Built here so that the request body, a temporary file of 10 MB, can be closed after.
    request = EnvironBuilder(client.application, f"/r/{school.code}", method="POST", data=data)
    request = request.get_request()
    try:
        response = client.open(request)
    finally:
        request.environ["wsgi.input"].close()
    assert response.status_code == 413
    assert "10 МБ" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert stored_files(app) == []


def test_a_request_over_the_total_limit_gets_the_student_413_page(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 200_000
    school = factories.school()
    response = post_report(client, school, upload(b"%PDF-" + b"1" * 300_000, "a.pdf"))
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "quick-exit" in page and "nothing was saved" in page
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0


def test_more_than_five_files_are_refused(app, client):
    school = factories.school()
    files = [upload(png_bytes(), f"{n}.png") for n in range(6)]
    response = post_report(client, school, *files)
    assert response.status_code == 400
    assert "at most 5 files" in response.get_data(as_text=True)
    assert stored_files(app) == []


def test_transparent_picture_is_kept_as_png_and_gif_as_its_first_frame():
    assert uploads.clean_file(png_bytes()).content_type == "image/png"
    out = io.BytesIO()
    frames = [Image.new("P", (10, 10), i) for i in (1, 2)]
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    assert uploads.clean_file(out.getvalue()).content_type == "image/png"


def test_huge_photo_is_scaled_down():
    cleaned = uploads.clean_file(jpeg_bytes(size=(6000, 1000)))
    with Image.open(io.BytesIO(cleaned.data)) as image:
        assert max(image.size) <= uploads.MAX_SIDE


def test_store_keys_are_random_and_cannot_leave_the_folder(app):
    key = uploads.save_bytes(b"one")
    assert len(key) == 32 and uploads.load_bytes(key) == b"one"
    assert uploads.save_bytes(b"one") != key
    with pytest.raises(ValueError):
        uploads.load_bytes("../secret_key")
    uploads.delete_bytes(key)
    assert not os.path.exists(os.path.join(app.instance_path, "uploads", key))
