"""Markdown from content files and staff, rendered by markdown-it and sanitized by nh3."""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
ALLOWED_TAGS = {"p", "ul", "ol", "li", "strong", "em", "h3", "h4", "br", "blockquote", "hr", "code"}


def render_markdown(text: str) -> Markup:
    html = _md.render(text or "")
    return Markup(nh3.clean(html, tags=ALLOWED_TAGS, attributes={}))  # noqa: S704 - sanitized by nh3


_CHECK_ITEM = "<li>[ ] "
_BLANK_LINE = re.compile(r"^(_{3,}.*)$", re.MULTILINE)


def render_worksheet(text: str) -> Markup:
    """Markdown of a handout to print and fill in: each line that starts with a blank to write
    on (``___``) is its own line, not run together with the next; a list item ``[ ] ...`` is
    a box to tick (``li.check``, drawn by the print stylesheet), not the characters «[ ]»."""
    spaced = _BLANK_LINE.sub(lambda m: "\n" + m.group(1) + "\n", text or "")
    html = str(render_markdown(spaced))
    # After nh3: the class is ours, added to markup that is already clean.
    return Markup(html.replace(_CHECK_ITEM, '<li class="check">'))  # noqa: S704
