"""Uploads: the type comes from the content, images lose their metadata, the rest is refused."""

from __future__ import annotations

import functools
import io
import os
import resource
import signal
import struct
import subprocess
import sys
import zlib
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask.testing import EnvironBuilder
from flask_babel import force_locale, lazy_gettext
from markupsafe import escape
from PIL import Image, ImageCms
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject
from sqlalchemy import func, select

from extensions import db
from incidents.intake import uploads
from incidents.intake.models import Attachment, Message, Report
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


def test_the_pages_of_a_pdf_together_are_drawn_within_the_pixel_bound(app):
    """20 pages that each claim 14000 x 9000 points would be 216 megapixels at 4096 pixels a
    side: they are drawn smaller, all pages kept."""
    cleaned = uploads.clean_file(risky_pdf(pages=uploads.MAX_PDF_PAGES, size=(14000, 9000)))
    pages = PdfReader(io.BytesIO(cleaned.data)).pages
    assert len(pages) == uploads.MAX_PDF_PAGES
    drawn = [page.images[0].image.size for page in pages]
    assert sum(width * height for width, height in drawn) <= uploads.MAX_PIXELS
    assert min(width for width, _ in drawn) > 1000  # smaller, still readable


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


# --- bounded work: pixels counted from the headers, cleaning in bounded memory (issue 14, 4) --


@functools.cache
def flat_png(width: int, height: int, alpha: bool = False) -> bytes:
    """A one-colour PNG made row by row (never held decoded here): 8000 x 8000 is about 200 KB
    and would decode into 256 MB."""
    channels = 4 if alpha else 3
    row = b"\x00" + bytes([90, 20, 160, 200][:channels]) * width
    packer = zlib.compressobj(9)
    rows = 256
    stream = b"".join(packer.compress(row * rows) for _ in range(height // rows))
    stream += packer.compress(row * (height % rows)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            png_chunk(b"IHDR", header),
            png_chunk(b"IDAT", stream),
            png_chunk(b"IEND", b""),
        )
    )


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


OVER_THE_FILE_BOUND = (8000, 8000)  # 64 megapixels, the pictures
# Each under the file bound, three of them over the report bound.
UNDER_THE_FILE_BOUND = (6000, 6000)
AT_THE_FILE_BOUND = (6324, 6324)  # the largest accepted square, just under 40 megapixels


def test_the_bounds_of_these_tests_are_the_modules():
    assert OVER_THE_FILE_BOUND[0] * OVER_THE_FILE_BOUND[1] > uploads.MAX_PIXELS
    one = UNDER_THE_FILE_BOUND[0] * UNDER_THE_FILE_BOUND[1]
    assert one <= uploads.MAX_PIXELS and 3 * one > uploads.MAX_REPORT_PIXELS
    assert AT_THE_FILE_BOUND[0] * AT_THE_FILE_BOUND[1] <= uploads.MAX_PIXELS


def post_closing_the_body(client, path: str, data: dict):
    """A POST whose request body (a temporary file once it is large) is closed after."""
    request = EnvironBuilder(client.application, path, method="POST", data=data).get_request()
    try:
        return client.open(request)
    finally:
        request.environ["wsgi.input"].close()


def shown(app, message, locale: str) -> str:
    """A message as the page shows it in a language (escaped as the template escapes it)."""
    with app.test_request_context(), force_locale(locale):
        return str(escape(str(message)))


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
@pytest.mark.parametrize(
    ("pictures", "refusal"),
    [
        ([OVER_THE_FILE_BOUND] * 5, "TOO_MANY_PIXELS"),
        ([UNDER_THE_FILE_BOUND] * 3, "TOO_MANY_PIXELS_TOGETHER"),
    ],
    ids=["five pictures over the file bound", "three under it, over the report bound"],
)
def test_small_files_of_too_many_pixels_get_the_form_again_with_a_message_and_nothing_saved(
    app, client, locale, pictures, refusal
):
    school = factories.school()
    client.get(f"/lang/{locale}")
    files = [upload(flat_png(*size), f"{n}.png", "image/png") for n, size in enumerate(pictures)]
    assert sum(len(f[0].getvalue()) for f in files) < 1_500_000  # well under the size limits
    data = form_data(files=files, description="Мені мазақтайды, көмектесіңіз")
    response = post_closing_the_body(client, f"/r/{school.code}", data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert shown(app, getattr(uploads, refusal), locale) in page
    assert "Мені мазақтайды, көмектесіңіз" in page  # what the child typed is still there
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0
    assert stored_files(app) == []


MEASURE_CLEANING = """
import resource, sys
from werkzeug.datastructures import FileStorage
from incidents.intake import uploads

def vm_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmSize:"):
            return int(line.split()[1])

budget = int(sys.argv[1])
limit = vm_kib() * 1024 + budget
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
for group in sys.argv[2:]:
    files = [FileStorage(open(path, "rb"), path) for path in group.split(",")]
    try:
        cleaned = uploads.clean_uploads(files)
    except uploads.UploadRefused as refused:
        names = [name for name in dir(uploads) if getattr(uploads, name) is refused.message]
        print("refused", *names)
    else:
        print("cleaned", *(f"{c.content_type}:{max(c.size, 1)}" for c in cleaned))
"""


def test_cleaning_stays_within_a_memory_bound(tmp_path):
    """Run in a process whose address space may grow by at most 450 MB over what the imports
    took: the issue's five pictures, three just within the file bound, and the largest
    accepted picture (with transparency, the costliest to clean) all get their answer."""
    paths = {}
    for name, size, alpha in [
        ("over", OVER_THE_FILE_BOUND, False),
        ("under", UNDER_THE_FILE_BOUND, False),
        ("largest", AT_THE_FILE_BOUND, True),
    ]:
        paths[name] = tmp_path / f"{name}.png"
        paths[name].write_bytes(flat_png(*size, alpha=alpha))
    groups = [",".join([str(paths["over"])] * 5), ",".join([str(paths["under"])] * 3)]
    groups.append(str(paths["largest"]))
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", MEASURE_CLEANING, str(450 * 2**20), *groups],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    over, under, largest = result.stdout.splitlines()
    assert over == "refused TOO_MANY_PIXELS"
    assert under == "refused TOO_MANY_PIXELS_TOGETHER"
    assert largest.startswith("cleaned image/png:")


# --- the store: nothing left behind when the disk refuses, the folder synced (issue 14, 7) ----


@contextmanager
def files_may_grow_to(size: int):
    """A real write fault: this process may not make a file larger than ``size`` bytes, so a
    write past it fails with EFBIG, as on a full disk (SIGXFSZ ignored, as a server would)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)


def noisy_png() -> bytes:
    """A picture whose stored form is well over the 16 KB the disk accepts below."""
    out = io.BytesIO()
    Image.effect_noise((200, 200), 80).save(out, "PNG")
    return out.getvalue()


def upload_folder(app) -> list[str]:
    root = os.path.join(app.instance_path, "uploads")
    return sorted(os.listdir(root)) if os.path.isdir(root) else []


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
def test_a_file_the_disk_refuses_leaves_nothing_and_the_child_keeps_the_form(app, client, locale):
    school = factories.school()
    client.get(f"/lang/{locale}")
    picture = upload(noisy_png(), "photo.png", "image/png")
    with files_may_grow_to(16_384):
        response = post_report(client, school, picture, description="Мені мазақтайды")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    # A report's files are stored with it: the report was not saved, and the page says so as for
    # any failed save (try again in a minute, call 150), what was typed kept.
    assert shown(app, lazy_gettext("We could not save your report."), locale) in page
    assert "Мені мазақтайды" in page
    assert upload_folder(app) == []  # no file, and no ".<key>.new" half-written
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_a_message_whose_file_the_disk_refuses_is_not_sent_and_stays_typed(app, client):
    school = factories.school()
    client.get("/lang/ru")
    assert post_report(client, school).status_code == 200  # the receipt; the conversation opens
    data = {"body": "Ещё одно фото", "files": [upload(noisy_png(), "photo.png", "image/png")]}
    with files_may_grow_to(16_384):
        response = client.post("/r/conversation", data=data, content_type="multipart/form-data")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert shown(app, uploads.NOT_STORED, "ru") in page and "Ещё одно фото" in page
    assert upload_folder(app) == []
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0


def test_a_stored_file_is_synced_and_then_its_folder(app, monkeypatch):
    """os.fsync is watched (and still done): the file's data first, then the folder that now
    holds its name, so a power cut cannot leave the name pointing nowhere."""
    synced = []
    real_fsync = os.fsync

    def watched(fd):
        synced.append(os.path.realpath(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", watched)
    key = uploads.save_bytes(b"one")
    folder = os.path.realpath(os.path.join(app.instance_path, "uploads"))
    assert synced[-1] == folder
    assert [os.path.basename(path) for path in synced[:-1]] == [f".{key}.new"]
    assert upload_folder(app) == [key]
