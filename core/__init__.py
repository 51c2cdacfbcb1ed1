"""Cross-cutting parts every package uses: language, errors, headers, audit, help numbers."""

from __future__ import annotations

from flask import Flask
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    format_time,
    get_locale,
    gettext,
)

from core import (
    anonymity,
    audit,
    audit_verify,
    backup,
    catalogs,
    counters,
    crypto,
    downgrade,
    errors,
    i18n,
    mail,
    opaque,
    rotation,
    security,
    views,
)
from core.help import numbers
from core.markdown import render_markdown, render_worksheet


def init_app(app: Flask) -> None:
    i18n.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    anonymity.init_app(app)
    opaque.init_app(app)
    audit.init_app(app)
    app.cli.add_command(audit_verify.audit_cli)
    mail.init_app(app)
    catalogs.init_app(app)
    backup.init_app(app)
    downgrade.init_app(app)
    crypto.init_app(app)
    rotation.init_app(app)
    counters.init_app(app)
    app.register_blueprint(views.bp)
    app.jinja_env.globals.update(
        help_numbers=numbers,
    )
    app.jinja_env.filters.update(
        datetime=lambda value, fmt="medium": format_datetime(value, fmt) if value else "",
        date=lambda value, fmt="medium": format_date(value, fmt) if value else "",
        date_and_time=lambda value: date_and_time(value) if value else "",
        number=lambda value: format_decimal(value) if value is not None else "",
        markdown=render_markdown,
        worksheet=render_worksheet,
        filesize=file_size,
    )


def date_and_time(value) -> str:
    """The day and the hour and minute, without seconds («7 дек. 2026 г., 14:30»), in
    the language's own order; Babel's "medium" date-time would add the seconds."""
    pattern = get_locale().datetime_formats["medium"]
    return pattern.format(format_time(value, "short"), format_date(value, "medium"))


def file_size(size: int) -> str:
    """A file's size for people: kilobytes below a megabyte, else megabytes with one decimal."""
    if size < 1024 * 1024:
        return gettext("%(size)s KB", size=format_decimal(max(1, round(size / 1024))))
    return gettext("%(size)s MB", size=format_decimal(size / (1024 * 1024), "#,##0.0"))
