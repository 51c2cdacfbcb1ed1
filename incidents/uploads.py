"""Files a student adds: checked from their content, cleaned, and kept under random names.

Accepted, whatever the file is called:
- images Pillow recognises as JPEG, PNG, WebP or GIF. They are decoded and re-encoded into a new
  image that carries pixels only, so EXIF (with GPS position, phone model, time), XMP, ICC
  profiles and comments are gone. The EXIF orientation is applied first (the picture stays
  upright), a colour profile is converted to sRGB before it is dropped, and sides longer than
  4096 pixels are scaled down. Photos are stored as JPEG; pictures with transparency, PNGs and
  GIFs (first frame) as PNG.
- PDF files, recognised by their ``%PDF-`` signature, opened with PDFium and drawn page by
  page (150 dpi, at most ``MAX_PDF_PAGES`` pages); the pictures of the pages become a new PDF.
  What the file carried besides what it shows (scripts, forms, links, attachments, its author
  and the program that made it) is left behind, like an image's metadata.

Anything else is refused with a message in the student's language. At most ``MAX_FILES`` files
of ``MAX_BYTES`` each.

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
MAX_PIXELS = 64_000_000
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
    """Check and clean every chosen file; raise ``UploadRefused`` for the first bad one."""
    files = chosen_files(files)
    if len(files) > MAX_FILES:
        raise UploadRefused(TOO_MANY)
    cleaned = []
    for item in files:
        data = item.stream.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise UploadRefused(TOO_LARGE, status=413)
        cleaned.append(clean_file(data))
    return cleaned


def clean_file(data: bytes) -> CleanFile:
    """One file's content, checked and cleaned (see the module's description)."""
    if not data:
        raise UploadRefused(EMPTY)
    if data.startswith(PDF_MAGIC):
        return _redraw_pdf(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in IMAGE_FORMATS:
                    raise UploadRefused(NOT_ALLOWED)
                if image.width * image.height > MAX_PIXELS:
                    raise UploadRefused(TOO_MANY_PIXELS)
                return _reencode(image)
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


def _redraw_pdf(data: bytes) -> CleanFile:
    """A new PDF made of pictures of the sent PDF's pages: only what it shows is kept."""
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
        pages = []
        for index in range(len(document)):
            page = document[index]
            width, height = page.get_size()
            # 150 dpi, but never a side over MAX_SIDE pixels (a page may claim to be huge).
            scale = min(PDF_DPI / 72, MAX_SIDE / max(width, height, 1))
            pages.append(page.render(scale=scale).to_pil().convert("RGB"))
            page.close()
    except pdfium.PdfiumError as error:
        raise UploadRefused(UNREADABLE_PDF) from error
    finally:
        document.close()
    out = io.BytesIO()
    pages[0].save(
        out, "PDF", save_all=True, append_images=pages[1:], resolution=PDF_DPI, quality=85
    )
    return CleanFile(out.getvalue(), "application/pdf")


def _reencode(image: Image.Image) -> CleanFile:
    source_format = image.format
    if source_format == "JPEG":
        image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # decode big photos at a reduced scale
    image.seek(0)
    image.load()
    upright = ImageOps.exif_transpose(image)
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    pixels = upright.convert("RGBA" if has_alpha else "RGB")
    icc = image.info.get("icc_profile")
    if icc and features.check("littlecms2"):
        pixels = _to_srgb(pixels, icc)
    pixels.thumbnail((MAX_SIDE, MAX_SIDE))
    # A new image from the raw pixels: no info dictionary, nothing for an encoder to copy.
    fresh = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
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
    """Store bytes, encrypted, under a new random key and return the key."""
    key = secrets.token_hex(16)
    path = _path(key)
    # Written aside and linked in whole: nobody (a key rotation) ever reads half a file.
    temporary = path.with_name(f".{key}.new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(crypto.encrypt_bytes(data, _context(key)))
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(temporary, path)
    finally:
        temporary.unlink()
    return key


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
