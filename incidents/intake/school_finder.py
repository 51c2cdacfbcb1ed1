"""Finding the school on the anonymous pages: the regions, then a school by its name."""

from __future__ import annotations

from sqlalchemy import select

from core.collation import collated
from core.i18n import current_locale
from extensions import db
from school.models import Region, School

FINDER_LIMIT = 50


def regions_for_finder() -> list[Region]:
    """The regions in the alphabetical order of the reader's language."""
    return collated(db.session.scalars(select(Region)), key=lambda region: region.name)


def _words(text: str) -> list[str]:
    text = text.casefold().replace("ё", "е").replace("№", " ")
    return [word for word in "".join(c if c.isalnum() else " " for c in text).split() if word]


def search_schools(region: Region, query: str) -> tuple[list[School], bool]:
    """Schools of the region whose Kazakh or Russian name holds every word typed, whatever the
    letter case.

    Matched in Python over the region's names (a region has at most a few thousand schools):
    SQLite's LIKE and PostgreSQL's ILIKE under the C locale only fold Latin letters, and school
    names are Kazakh and Russian. Returns at most ``FINDER_LIMIT`` schools, in the alphabetical
    order of the names the reader sees, and whether more match.
    """
    rows = db.session.execute(
        select(School.id, School.name, School.name_ru).where(School.region_id == region.id)
    ).all()
    words = _words(query)

    def matches(name: str) -> bool:
        found = " ".join(_words(name))
        return all(word in found for word in words)

    matching = [row for row in rows if matches(row.name) or matches(row.name_ru)]
    ru = current_locale() == "ru"
    matching = collated(matching, key=lambda row: row.name_ru if ru and row.name_ru else row.name)
    ids = [row.id for row in matching[:FINDER_LIMIT]]
    schools = db.session.scalars(select(School).where(School.id.in_(ids))).all()
    return collated(schools, key=lambda school: school.local_name), len(matching) > FINDER_LIMIT
