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

from dataclasses import dataclass
from math import sqrt

# The 0.975 quantile of the standard normal distribution.
Z95 = 1.959963984540054

# Survey results from fewer answers are not shown at all (a class of 6 is a handful of children).
MIN_SURVEY_ANSWERS = 10
# What analysts and every export see of a count (``published_count``): 0 stays 0, 1 to 4 are "<5",
# and from 5 up a count is rounded to the nearest multiple of ROUNDING_BASE.
SMALL_COUNT_LIMIT = 5
ROUNDING_BASE = 5
SUPPRESSED = "<5"


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


def is_small(count: int) -> bool:
    return 0 < count < SMALL_COUNT_LIMIT


def published_count(count: int) -> int | str:
    """A count as analysts and exports see it: 0; "<5" for 1 to 4; else the nearest multiple of 5.

    Every count is published this way, totals included (each rounded from its own exact count,
    not added up from rounded parts), and the same exact count always gives the same published
    value on every page and in every export. So subtracting published parts from a published
    total, on one page or against a drill-down, gives a multiple of 5 give or take the rounding
    of each term (a range), never the exact value of a "<5" (issue 13, finding 8)."""
    if count <= 0:
        return 0
    if count < SMALL_COUNT_LIMIT:
        return SUPPRESSED
    return ROUNDING_BASE * ((count + ROUNDING_BASE // 2) // ROUNDING_BASE)


def shown_count(count: int, suppress: bool) -> int | str:
    """The one rule for counts: ``published_count`` when ``suppress`` is on, else exact."""
    return published_count(count) if suppress else count


def shown_share(part: int, whole: int, suppress: bool) -> float | None:
    """part / whole, or None when there is no whole. When ``suppress`` is on, the share is worked
    out from the published counts (an exact share would give the exact counts away) and is not
    given when either of them is "<5"."""
    if suppress:
        part, whole = published_count(part), published_count(whole)
        if isinstance(part, str) or isinstance(whole, str):
            return None
    return part / whole if whole else None
