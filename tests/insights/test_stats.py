"""The interval methods against published worked examples, and the small-count rule."""

import pytest

from insights.stats import (
    SUPPRESSED,
    WITHHELD,
    Withheld,
    newcombe,
    secondary_cells,
    shown_count,
    wilson,
)


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        # R. G. Newcombe, Two-sided confidence intervals for the single proportion: comparison
        # of seven methods, Statistics in Medicine 17 (1998) 857-872, table II (score method).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_the_published_examples(k, n, low, high):
    share = wilson(k, n)
    assert share.low == pytest.approx(low, abs=5e-5)
    assert share.high == pytest.approx(high, abs=5e-5)


@pytest.mark.parametrize(
    ("first", "second", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17, 873-890, table II, method 10.
        ((56, 70), (48, 80), 0.0524, 0.3339),
        ((9, 10), (3, 10), 0.1705, 0.8090),
    ],
)
def test_newcombe_difference_matches_the_published_examples(first, second, low, high):
    # The change is "after minus before": the first proportion of the paper is "after".
    change = newcombe(before=wilson(*second), after=wilson(*first))
    assert change.low == pytest.approx(low, abs=5e-5)
    assert change.high == pytest.approx(high, abs=5e-5)
    assert change.is_clear


def test_only_counts_from_one_to_four_are_hidden():
    assert [shown_count(n, True) for n in (0, 1, 4, 5, 12)] == [0, SUPPRESSED, SUPPRESSED, 5, 12]
    assert [shown_count(n, False) for n in (0, 1, 4, 5)] == [0, 1, 4, 5]


def test_an_impossible_proportion_is_refused():
    with pytest.raises(ValueError):
        wilson(3, 2)
    with pytest.raises(ValueError):
        wilson(0, 0)


@pytest.mark.parametrize(
    ("values", "extra"),
    [
        ([12, 3], {0}),  # 3 = total - 12: the 12 goes too
        ([20, 9, 3, 0], {1}),  # the smallest count still shown, never a 0
        ([20, 9, 3, 2], set()),  # two hidden, 5 together: neither can be worked out
        ([20, 9, 1, 1], {1}),  # 1 + 1 = 2 tells both: one more
        ([30, 7, 6, 1, 1, 1], {2}),  # 1 + 1 + 1 < 5: the 6 too (9 together)
        ([3, 0, 0], set()),  # the total is "<5" itself
        ([10, 20, 30], set()),  # nothing small, nothing withheld
        ([0, 0, 0], set()),
    ],
)
def test_secondary_suppression_leaves_no_small_count_to_work_out(values, extra):
    assert secondary_cells(values) == extra
    hidden = {i for i, v in enumerate(values) if 0 < v < 5} | extra
    if hidden and any(values[i] > 0 for i in range(len(values)) if i not in hidden):
        # What a reader can still work out: the hidden cells' sum, which is never below 5
        # unless it is the whole total, and never a single cell.
        assert len(hidden) >= 2 and sum(values[i] for i in hidden) >= 5


def test_a_withheld_count_shows_as_x_only_where_counts_are_suppressed():
    assert shown_count(Withheld(12), True) == WITHHELD
    assert shown_count(Withheld(12), False) == 12
    assert Withheld(12) + 3 == 15  # totals still add up
