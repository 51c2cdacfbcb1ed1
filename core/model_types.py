"""The column types and enum bases every model uses. Imports no package of the app (only the
standard library and SQLAlchemy), so that any part may build on it.

- ``utcnow``: the one clock of stored times (timezone-aware UTC).
- ``UTCDateTime``: timezone-aware UTC datetimes on SQLite (which drops the zone) and PostgreSQL.
- ``str_enum``: an enum column stored by value as VARCHAR with a CHECK, the same on both.
- ``TitledEnum``: a string enum whose members have a ``title`` for people, from the class's
  ``TITLES`` (set after the class, since the titles are keyed by its members).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on SQLite (which drops the zone) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def str_enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    """Enums stored by value as VARCHAR with a CHECK, the same on SQLite and PostgreSQL."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda cls: [member.value for member in cls],
        validate_strings=True,
    )


class TitledEnum(enum.StrEnum):
    """A string enum with a title for each member: ``Kind.TITLES = {Kind.a: _l("A"), ...}``."""

    @property
    def title(self) -> str:
        return str(self.TITLES[self])  # type: ignore[attr-defined]
