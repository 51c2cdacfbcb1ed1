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
# Counts from 1 to 4 are shown as "<5" to analysts and in every export.
SMALL_COUNT_LIMIT = 5
SUPPRESSED = "<5"
# A count hidden only so that a "<5" beside it cannot be worked out from the total.
WITHHELD = "x"


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


class Withheld(int):
    """A count that is not small but is hidden too (secondary suppression, see
    ``secondary_cells``); it keeps its value, so that totals still add up."""


def secondary_cells(values: list[int]) -> set[int]:
    """Which further cells of a group that adds up to a shown total must be hidden as well.

    One hidden cell could be worked out as the total minus the others, and hidden cells that add
    up to less than 5 give each other away; so while only one cell is hidden, or the hidden ones
    add up to less than 5, the smallest cell still shown (not 0) is hidden too."""
    hidden = {i for i, value in enumerate(values) if is_small(value)}
    extra: set[int] = set()
    while hidden and (len(hidden) == 1 or sum(values[i] for i in hidden) < SMALL_COUNT_LIMIT):
        shown = [i for i, value in enumerate(values) if value > 0 and i not in hidden]
        if not shown:
            break
        smallest = min(shown, key=lambda i: (values[i], i))
        hidden.add(smallest)
        extra.add(smallest)
    return extra


def shown_count(count: int, suppress: bool) -> int | str:
    """The one rule for small numbers: when ``suppress`` is on, 1-4 become "<5" and a count
    withheld beside them (``Withheld``) "x"; 0 stays 0."""
    if suppress and is_small(count):
        return SUPPRESSED
    if suppress and isinstance(count, Withheld):
        return WITHHELD
    return count
