"""Long lists in pages: one statement counts the rows, one reads the page.

``paginate(stmt, request.args)`` gives a ``Page``; the ``pages`` macro of ``templates/_pages.html``
shows where the reader is and links the pages before and after (with the list's other query
arguments kept). A page number that is not a number, or past the end, shows the last page. Two
lists on one page each read their own argument (``param``: "page", "new_page"...)."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from sqlalchemy import Select, func, select

from extensions import db

PAGE_SIZE = 50


@dataclass(frozen=True)
class Page:
    items: list
    number: int
    size: int
    total: int
    param: str = "page"  # the query argument that names the page

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def page_number(args, param: str = "page") -> int:
    try:
        return max(1, int(args.get(param, 1)))
    except (TypeError, ValueError):
        return 1


def paginate_list(items: list, args, size: int = PAGE_SIZE) -> Page:
    """The page of ``items`` (a list already in order) that ``args["page"]`` asks for: for an
    order SQL cannot give, as the alphabet of the reader's language (``core.collation``)."""
    number = min(page_number(args), max(1, ceil(len(items) / size)))
    return Page(items[(number - 1) * size : number * size], number, size, len(items))


def paginate(
    stmt: Select, args, size: int = PAGE_SIZE, rows: bool = False, param: str = "page"
) -> Page:
    """The page of ``stmt`` (ordered) that ``args[param]`` asks for; ``rows`` keeps whole rows
    (for a statement that selects more than one thing), else the first column's objects."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    number = min(page_number(args, param), max(1, ceil((total or 0) / size)))
    page_stmt = stmt.limit(size).offset((number - 1) * size)
    result = db.session.execute(page_stmt)
    items = [tuple(row) for row in result] if rows else list(result.scalars())
    return Page(items, number, size, total or 0, param)
