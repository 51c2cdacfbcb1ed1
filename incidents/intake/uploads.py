"""Files a student adds: checked from their content, cleaned, and kept under random names.

Accepted, whatever the file is called:
- images Pillow recognises as JPEG, PNG, WebP or GIF. They are decoded and re-encoded into a new
  image that carries pixels only, so EXIF (with GPS position, phone model, time), XMP, ICC
  profiles and comments are gone. The EXIF orientation is applied (the picture stays
  upright), a colour profile is converted to sRGB before it is dropped, and sides longer than
  4096 pixels are scaled down. Photos are stored as JPEG; pictures with transparency, PNGs and
  GIFs (first frame) as PNG.
- PDF files, recognised by their ``%PDF-`` signature, opened with PDFium and drawn page by
  page (150 dpi, at most ``MAX_PDF_PAGES`` pages); the pictures of the pages become a new PDF.
  What the file carried besides what it shows (scripts, forms, links, attachments, its author
  and the program that made it) is left behind, like an image's metadata.

Anything else is refused with a message in the student's language. At most ``MAX_FILES`` files
of ``MAX_BYTES`` each.

A small file can unpack into a huge picture (a flat 8000 x 8000 PNG is 200 KB and 256 MB decoded),
so the work is bounded by the pixels a file decodes into, read from its header (a PDF: from its
pages' sizes) before anything is decoded: at most ``MAX_PIXELS`` a file (a PDF's pages are drawn
smaller to fit) and ``MAX_REPORT_PIXELS`` for all files sent together. A JPEG is decoded at a reduced scale when it is
larger than needed (what counts is the decoded size). Cleaning keeps at most about two full-size
copies of the decoded picture at once, and frees them as soon as the picture is scaled down
(``tests/incidents/test_uploads.py::test_cleaning_stays_within_a_memory_bound``: the largest
accepted picture is cleaned with 450 MB of address space; it needs about 330 MB).

The store keeps bytes under random names in ``<instance>/uploads/``, encrypted with the data key
(``core.crypto``; the file's name is its associated data, so files cannot be swapped). Everything
goes through ``save_bytes``, ``load_bytes`` and ``delete_bytes``: the one place that encrypts.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError, features
from werkzeug.datastructures import FileStorage

from core import crypto

MAX_FILES = 5
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # decoded, per file: a long screenshot or a 40-megapixel photo
MAX_REPORT_PIXELS = 100_000_000  # decoded, all files of one report or message together
MAX_SIDE = 4096
MAX_PDF_PAGES = 20
PDF_DPI = 150
IMAGE_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF"})
PDF_MAGIC = b"%PDF-"
_KEY = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class CleanFile:
    """A file ready to be stored: its cleaned bytes and the type found in its content."""

    data: bytes
    content_type: str

    @property
    def size(self) -> int:
        return len(self.data)


class UploadRefused(Exception):
    """A file that may not be stored; ``message`` is shown to the student, ``status`` returned."""

    def __init__(self, message, status: int = 400) -> None:
        super().__init__(str(message))
        self.message = message
        self.status = status


TOO_MANY = _l("You can add at most %(count)d files.", count=MAX_FILES)
TOO_LARGE = _l("Each file may be at most 10 MB. Nothing was saved: please choose a smaller file.")
NOT_ALLOWED = _l(
    "This file cannot be added. You can add photos and screenshots (JPEG, PNG, WebP, GIF) or PDF "
    "files."
)
EMPTY = _l("One of the files is empty.")
TOO_MANY_PIXELS = _l("This picture is too large. Please send a smaller photo or a screenshot.")
TOO_MANY_PIXELS_TOGETHER = _l(
    "These files are too large to add together. Nothing was saved: please add fewer files at "
    "once, or smaller ones."
)
NOT_STORED = _l(
    "Your files could not be saved just now, so nothing was sent. Please try again in a few "
    "minutes."
)
TOO_MANY_PAGES = lazy_ngettext(
    "This PDF has more than %(num)d page. Please send only the pages that matter, or "
    "screenshots of them.",
    "This PDF has more than %(num)d pages. Please send only the pages that matter, or "
    "screenshots of them.",
    MAX_PDF_PAGES,
)
UNREADABLE_PDF = _l(
    "This PDF cannot be opened (it may be damaged or locked with a password). Please send "
    "screenshots of it instead."
)


def chosen_files(files: Iterable[FileStorage]) -> list[FileStorage]:
    """The file inputs that carry a file (an empty input still sends an empty part)."""
    return [item for item in files if item and item.filename]


def clean_uploads(files: Iterable[FileStorage]) -> list[CleanFile]:
    """Check and clean every chosen file; raise ``UploadRefused`` for the first bad one.

    Every file's size, and the pixels it decodes into, are checked before any file is decoded."""
    files = chosen_files(files)
    if len(files) > MAX_FILES:
        raise UploadRefused(TOO_MANY)
    contents = []
    for item in files:
        data = item.stream.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise UploadRefused(TOO_LARGE, status=413)
        contents.append(data)
    if sum(decoded_pixels(data) for data in contents) > MAX_REPORT_PIXELS:
        raise UploadRefused(TOO_MANY_PIXELS_TOGETHER)
    return [clean_file(data) for data in contents]


def decoded_pixels(data: bytes) -> int:
    """The pixels a file will be decoded into, from its header; refused if over ``MAX_PIXELS``."""
    if not data:
        raise UploadRefused(EMPTY)
    if data.startswith(PDF_MAGIC):
        with _pdf(data) as document:
            return _pdf_scale(document)[1]
    with _refusing_broken_images(), _open_image(data) as image:
        return image.width * image.height


def clean_file(data: bytes) -> CleanFile:
    """One file's content, checked and cleaned (see the module's description)."""
    if not data:
        raise UploadRefused(EMPTY)
    if data.startswith(PDF_MAGIC):
        return _redraw_pdf(data)
    with _refusing_broken_images():
        return _reencode(_open_image(data))


@contextmanager
def _refusing_broken_images() -> Iterator[None]:
    """Whatever Pillow says of a file it cannot read (or that would unpack into a bomb)
    becomes the student's "cannot be added"."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except UploadRefused:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
    ) as error:
        raise UploadRefused(NOT_ALLOWED) from error


def _open_image(data: bytes) -> Image.Image:
    """The image with only its header read, checked: an allowed format, and no more than
    ``MAX_PIXELS`` once decoded (a JPEG set to decode at the smallest scale still wide enough)."""
    image = Image.open(io.BytesIO(data))
    try:
        if image.format not in IMAGE_FORMATS:
            raise UploadRefused(NOT_ALLOWED)
        if image.format == "JPEG":
            # Its scaled-down side may end up to a quarter under MAX_SIDE: no one sees it.
            wanted = max(1, MAX_SIDE * 3 // 4)
            image.draft("RGB", _fitting(image.size, wanted))
        if image.width * image.height > MAX_PIXELS:
            raise UploadRefused(TOO_MANY_PIXELS)
    except BaseException:
        image.close()
        raise
    return image


def _fitting(size: tuple[int, int], side: int) -> tuple[int, int]:
    """``size`` scaled down so that its longer side is at most ``side`` (never scaled up)."""
    width, height = size
    scale = min(1.0, side / max(width, height, 1))
    return max(1, int(width * scale)), max(1, int(height * scale))


@contextmanager
def _pdf(data: bytes):
    """The PDF opened with PDFium, refused if it cannot be read or has too many pages."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        raise UploadRefused(UNREADABLE_PDF) from error
    try:
        if len(document) == 0:
            raise UploadRefused(UNREADABLE_PDF)
        if len(document) > MAX_PDF_PAGES:
            raise UploadRefused(TOO_MANY_PAGES)
        yield document
    except pdfium.PdfiumError as error:
        raise UploadRefused(UNREADABLE_PDF) from error
    finally:
        document.close()


def _pdf_scale(document) -> tuple[list[float], int]:
    """The scale each page is drawn at and the pixels they make together: 150 dpi, never a side
    over ``MAX_SIDE`` pixels (a page may claim to be huge), and all pages together at most
    ``MAX_PIXELS`` (a long document is drawn smaller rather than refused)."""
    sizes = [document[index].get_size() for index in range(len(document))]
    scales = [min(PDF_DPI / 72, MAX_SIDE / max(w, h, 1)) for w, h in sizes]
    drawn = sum(max(w, 1) * max(h, 1) * s * s for (w, h), s in zip(sizes, scales, strict=True))
    if drawn > MAX_PIXELS:
        shrink = (MAX_PIXELS / drawn) ** 0.5 * 0.999  # 0.999: the rounding stays under
        scales = [scale * shrink for scale in scales]
    pixels = sum(
        max(1, round(w * s)) * max(1, round(h * s)) for (w, h), s in zip(sizes, scales, strict=True)
    )
    return scales, pixels


def _redraw_pdf(data: bytes) -> CleanFile:
    """A new PDF made of pictures of the sent PDF's pages: only what it shows is kept."""
    with _pdf(data) as document:
        scales, _pixels = _pdf_scale(document)
        pages = []
        for index, scale in enumerate(scales):
            page = document[index]
            pages.append(page.render(scale=scale).to_pil().convert("RGB"))
            page.close()
    out = io.BytesIO()
    pages[0].save(
        out, "PDF", save_all=True, append_images=pages[1:], resolution=PDF_DPI, quality=85
    )
    return CleanFile(out.getvalue(), "application/pdf")


def _reencode(image: Image.Image) -> CleanFile:
    """Decode, scale down first (the full-size pixels are freed), then turn upright, convert
    the colours and encode a new image from the pixels alone."""
    source_format = image.format
    try:
        image.seek(0)
        image.load()
        icc = image.info.get("icc_profile")
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        # Each step makes a new picture and frees the one before: at most two full-size copies.
        # A transparent picture is scaled in premultiplied form (RGBa), as Pillow's own resize
        # does, but without keeping the original next to it.
        modes = ["RGBA"] if has_alpha else ["RGB"]
        if has_alpha and max(image.size) > MAX_SIDE:
            modes.append("RGBa")
        for mode in modes:
            if image.mode != mode:
                converted = image.convert(mode)  # keeps the info, so the orientation below
                image.close()
                image = converted
        image.thumbnail((MAX_SIDE, MAX_SIDE))  # in place: the full-size pixels go now
        if image.mode == "RGBa":
            image = image.convert("RGBA")
        ImageOps.exif_transpose(image, in_place=True)
        if icc and features.check("littlecms2"):
            image = _to_srgb(image, icc)
        # A new image from the raw pixels: no info dictionary, nothing for an encoder to copy.
        fresh = Image.new(image.mode, image.size)
        fresh.paste(image)
    finally:
        image.close()
    out = io.BytesIO()
    if has_alpha or source_format in ("PNG", "GIF"):
        fresh.save(out, "PNG", optimize=True)
        return CleanFile(out.getvalue(), "image/png")
    # No ``optimize``: its extra Huffman pass cost 140 of 450 ms per phone photo for 4% fewer
    # bytes (bench/intake.py).
    fresh.save(out, "JPEG", quality=90)
    return CleanFile(out.getvalue(), "image/jpeg")


def _to_srgb(image: Image.Image, icc: bytes) -> Image.Image:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(
            image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken profile: keep the pixels as they are
    return converted or image


# --- the store --------------------------------------------------------------------------------


def _root() -> Path:
    root = Path(current_app.instance_path) / "uploads"
    root.mkdir(mode=0o700, exist_ok=True)
    return root


def _path(key: str) -> Path:
    if not _KEY.fullmatch(key):
        raise ValueError("not a storage key")
    return _root() / key


def _context(key: str) -> str:
    return f"uploads/{key}"


def save_bytes(data: bytes) -> str:
    """Store bytes, encrypted, under a new random key and return the key.

    Written aside, synced, linked in whole and the folder synced: nobody (a key rotation) ever
    reads half a file, and a stored file survives a power cut. When the disk refuses (full, an
    I/O error) nothing is left behind, not even the temporary file, and ``UploadRefused`` says
    so in the student's language."""
    key = secrets.token_hex(16)
    path = None
    try:
        path = _path(key)
        temporary = path.with_name(f".{key}.new")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(crypto.encrypt_bytes(data, _context(key)))
                handle.flush()
                os.fsync(handle.fileno())
            os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        _sync_folder(path.parent)
    except OSError as error:
        if path is not None:
            with suppress(OSError):
                path.unlink(missing_ok=True)
        current_app.logger.error("An upload could not be stored: %s", error.strerror)
        raise UploadRefused(NOT_STORED, status=503) from error
    return key


def _sync_folder(folder: Path) -> None:
    """fsync a folder, so that the names just linked or removed in it are on the disk."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load_bytes(key: str) -> bytes:
    return crypto.decrypt_bytes(_path(key).read_bytes(), _context(key))


def delete_bytes(key: str) -> None:
    _path(key).unlink(missing_ok=True)


def stored_keys() -> Iterator[tuple[str, Path]]:
    """Every stored file: its key and path."""
    for path in _root().iterdir():
        if _KEY.fullmatch(path.name):
            yield path.name, path


def stored_files() -> Iterator[tuple[Path, str]]:
    """Every stored file with its encryption context (for the key rotation)."""
    for key, path in stored_keys():
        yield path, _context(key)
