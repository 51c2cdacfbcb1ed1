"""Interval estimates for shares, and the one rule that hides small numbers.

Prevalence is a share of answers; its 95% interval is Wilson's score interval, which stays
inside [0, 1] and behaves well for small classes and shares near 0 or 1 (where the textbook
"p ± 1.96·SE" interval fails).

The change between two waves is the difference of two independent proportions (the survey is
anonymous, so baseline and follow-up answers cannot be paired). Its interval is Newcombe's
hybrid score interval ("method 10" in R. G. Newcombe, Interval estimation for the difference
between independent proportions: comparison of eleven methods, Statistics in Medicine 17 (1998)
873-890): with p1, p2 the shares and (l1, u1), (l2, u2) their Wilson intervals,

    lower = (p1 - p2) - sqrt((p1 - l1)² + (u2 - p2)²)
    upper = (p1 - p2) + sqrt((u1 - p1)² + (p2 - l2)²)

It keeps the good coverage of the score interval and needs no iteration.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache
from math import sqrt
from pathlib import Path

from flask import Flask, current_app

from core.instance import instance_secret

# The 0.975 quantile of the standard normal distribution.
Z95 = 1.959963984540054

# Survey results from fewer answers are not shown at all (a class of 6 is a handful of children).
MIN_SURVEY_ANSWERS = 10
# What analysts and every export see of a count (``published_count``): a multiple of
# ROUNDING_BASE, rounded up or down at random by the key of what it counts; 0 stays 0.
ROUNDING_BASE = 5
# A median of response times is published from this many answers up (exact count): a median of a
# handful is nearly a single response time. Whether it is shown tells only that the answers are
# at least 10 or at most 9, which never narrows a published count to 1 to 4 (a published 5 is
# already 1 to 9).
MEDIAN_MIN_ANSWERS = 10


class Tally(int):
    """A count that knows what it counts: ``key`` is the sum of the ids of the rows counted (the
    reports, cases, referrals or survey tallies), summed by the database with the count.

    The same rows give the same key whichever figure, page, period or export counts them, so
    they are always published the same (``published_count``); other rows give another key and
    another draw. Adding two tallies of disjoint rows gives the tally of their union; adding a
    plain number other than 0 gives a plain number, which cannot be published."""

    key: int

    def __new__(cls, count: int = 0, key: int = 0) -> Tally:
        tally = super().__new__(cls, int(count or 0))
        tally.key = int(key or 0)
        return tally

    def __add__(self, other):
        if isinstance(other, Tally):
            return Tally(int(self) + int(other), self.key + other.key)
        if isinstance(other, int) and other == 0:
            return self
        return int(self) + other

    __radd__ = __add__

    def __str__(self) -> str:  # the number, as for any int (repr is the tally's)
        return int.__repr__(self)

    def __repr__(self) -> str:
        return f"Tally({int(self)}, key={self.key})"


class Public(int):
    """A count about the programme or the directory, not about a child (classes in view,
    classes that had a lesson, schools, psychologists): published as it is. Two of them add up
    to one."""

    def __add__(self, other):
        if isinstance(other, Public) or (type(other) is int and other == 0):
            return Public(int(self) + int(other))
        return int(self) + other

    __radd__ = __add__

    def __str__(self) -> str:
        return int.__repr__(self)


def _draw(tally: Tally, secret: bytes) -> int:
    """0 to ROUNDING_BASE - 1, fixed by the secret and what the tally counts."""
    return _keyed_draw(secret, tally.key, int(tally))


# A page publishes the same tallies several times (to order its rows, to list them, to show
# them): each draw is made once. The result is fixed by its arguments, so keeping it changes
# nothing but the time.
@lru_cache(maxsize=65536)
def _keyed_draw(secret: bytes, key: int, count: int) -> int:
    digest = hmac.new(secret, f"{key}:{count}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % ROUNDING_BASE


def statistics_secret() -> bytes:
    return current_app.extensions["qamqor_statistics_secret"]


@dataclass(frozen=True)
class Share:
    """k of n, with its 95% Wilson interval."""

    k: int
    n: int
    low: float
    high: float

    @property
    def value(self) -> float:
        return self.k / self.n


@dataclass(frozen=True)
class Change:
    """Second share minus first, with Newcombe's 95% interval."""

    before: Share
    after: Share
    low: float
    high: float

    @property
    def value(self) -> float:
        return self.after.value - self.before.value

    @property
    def is_clear(self) -> bool:
        """The interval leaves out zero: a change beyond what chance alone would give."""
        return self.low > 0 or self.high < 0


def wilson(k: int, n: int, z: float = Z95) -> Share:
    """Wilson's score interval for ``k`` successes out of ``n`` (n ≥ 1)."""
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"invalid proportion {k}/{n}")
    p = k / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    # At k = 0 or k = n the bound is exactly 0 or 1; rounding must not push it outside.
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return Share(k, n, low, high)


def newcombe(before: Share, after: Share) -> Change:
    """Interval for ``after - before`` (hybrid score, Newcombe 1998, method 10)."""
    p1, p2 = after.value, before.value
    difference = p1 - p2
    low = difference - sqrt((p1 - after.low) ** 2 + (before.high - p2) ** 2)
    high = difference + sqrt((after.high - p1) ** 2 + (p2 - before.low) ** 2)
    return Change(before, after, max(-1.0, low), min(1.0, high))


def published_count(count: int) -> int:
    """A count as analysts and every export see it: a multiple of 5, from 0 up.

    A count c is published as 5·⌊(c + d) / 5⌋, where d (0 to 4) is drawn from a keyed hash of
    the rows counted (``Tally``): c is rounded down to the multiple of 5 below it or up to the
    one above it, up with a chance of (c mod 5) / 5, so the published counts are right on
    average. 0 stays 0; 1 to 4 are shown as 0 or 5, like every other count, never as "<5".
    A reader who knows the method learns that a published 0 is 0 to 4 and a published n is
    n - 4 to n + 4 (and at least 1): twice the width of rounding to the nearest 5, and where the
    count lies within it depends on a secret (``statistics_secret``, in the instance folder or
    ``STATISTICS_SECRET``). The same rows always give the same published value (on the page, in
    its chart, in the CSV, in the PDF, on every drill-down, in every period that holds exactly
    those rows, for every analyst), so asking again, or for the same rows another way, teaches
    nothing new."""
    if count == 0:
        return 0
    if isinstance(count, Public):
        return int(count)
    if not isinstance(count, Tally):
        raise TypeError(f"a published count needs to know what it counts: {count!r}")
    n = int(count)
    return ROUNDING_BASE * ((n + _draw(count, statistics_secret())) // ROUNDING_BASE)


def shown_count(count: int, suppress: bool) -> int:
    """The one rule for counts: ``published_count`` when ``suppress`` is on, else exact."""
    return published_count(count) if suppress else count


def shown_share(part: int, whole: int, suppress: bool) -> float | None:
    """part / whole, or None when there is no whole. When ``suppress`` is on, the share is worked
    out from the published counts (an exact share would give the exact counts away)."""
    if suppress:
        part, whole = published_count(part), published_count(whole)
    return part / whole if whole else None


def init_app(app: Flask) -> None:
    configured = app.config.get("STATISTICS_SECRET")
    app.extensions["qamqor_statistics_secret"] = (
        configured.encode()
        if configured
        else instance_secret(Path(app.instance_path), "statistics_secret")
    )


@dataclass(frozen=True)
class Count:
    """One bar of a figure: its key, what it is called, and its count (a ``Tally`` or ``Public``)."""

    key: str
    label: str
    count: int
