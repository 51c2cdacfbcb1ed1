"""The name a download is saved under (``Content-Disposition``), safe for any name.

A header is Latin-1 on the wire, and a class called «6Ә» or a case label in Cyrillic cannot be
put in it as it is (gunicorn fails to write the response). RFC 6266: ``filename*`` carries the
real name in UTF-8, percent-encoded, and ``filename`` an ASCII stand-in for old clients
(Cyrillic and Kazakh letters spelt in Latin letters, anything else left out)."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

_ONE = str.maketrans("абвгдеёзийклмнопрстуфыэәғқңөұүһі", "abvgdeeziiklmnoprstufyeagqnouuhi", "ъь")
_MORE = str.maketrans(
    {"ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ю": "yu", "я": "ya"}
)


def _ascii(name: str) -> str:
    spelt = "".join(
        ch.lower().translate(_ONE).translate(_MORE).capitalize() if ch.isupper() else ch
        for ch in name
    )
    spelt = spelt.translate(_ONE).translate(_MORE)
    plain = unicodedata.normalize("NFKD", spelt).encode("ascii", "ignore").decode("ascii")
    plain = re.sub(r"[^A-Za-z0-9._-]+", "_", plain).strip("_.")
    return plain or "download"


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """The header's value: ``attachment`` (or ``inline``) with the file's name."""
    kind = "inline" if inline else "attachment"
    fallback = _ascii(filename)
    if fallback == filename:
        return f'{kind}; filename="{filename}"'
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
