"""Markdown from content files and staff, rendered by markdown-it and sanitized by nh3."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
ALLOWED_TAGS = {"p", "ul", "ol", "li", "strong", "em", "h3", "h4", "br", "blockquote", "hr", "code"}


def render_markdown(text: str) -> Markup:
    html = _md.render(text or "")
    return Markup(nh3.clean(html, tags=ALLOWED_TAGS, attributes={}))  # noqa: S704 - sanitized by nh3
