"""The interval methods against published worked examples, and the small-count rule."""

import pytest

from insights.stats import SUPPRESSED, newcombe, shown_count, shown_share, wilson


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


def test_counts_are_published_rounded_to_five_with_one_to_four_hidden():
    shown = [shown_count(n, True) for n in (0, 1, 4, 5, 7, 8, 12, 13, 100)]
    assert shown == [0, SUPPRESSED, SUPPRESSED, 5, 5, 10, 10, 15, 100]
    assert [shown_count(n, False) for n in (0, 1, 4, 5, 12)] == [0, 1, 4, 5, 12]


def test_shares_are_worked_out_from_the_published_counts():
    # 3 of 8 exactly would give both counts away; published, "<5" of 10: no share.
    assert shown_share(3, 8, True) is None
    assert shown_share(7, 12, True) == 0.5  # 5 of 10, as published
    assert shown_share(0, 12, True) == 0.0
    assert shown_share(3, 8, False) == 0.375
    assert shown_share(0, 0, False) is None


def test_an_impossible_proportion_is_refused():
    with pytest.raises(ValueError):
        wilson(3, 2)
    with pytest.raises(ValueError):
        wilson(0, 0)
