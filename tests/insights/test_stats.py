"""The interval methods against published worked examples, and the rule that publishes counts."""

import pytest

from insights.stats import (
    Public,
    Tally,
    newcombe,
    published_count,
    shown_count,
    shown_share,
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


def _tallies(count: int, keys: range) -> list[Tally]:
    return [Tally(count, key) for key in keys]


def test_a_count_is_published_as_the_multiple_of_five_below_or_above_it(app):
    for count in range(0, 31):
        below = 5 * (count // 5)
        shown = {published_count(t) for t in _tallies(count, range(200))}
        assert shown <= {below, below + 5} if count % 5 else shown == {count}, (count, shown)
        if count % 5:
            assert shown == {below, below + 5}, (count, shown)  # the draw does go both ways
    assert published_count(0) == 0 and published_count(Tally(0, 0)) == 0
    # Staff of a school see exact counts.
    assert [shown_count(Tally(n, 7), False) for n in (0, 1, 4, 5, 12)] == [0, 1, 4, 5, 12]


def test_small_counts_are_shown_as_0_or_5_and_right_on_average(app):
    for count in range(1, 10):
        shown = [published_count(t) for t in _tallies(count, range(1, 4001))]
        up = sum(1 for s in shown if s > 5 * (count // 5)) / len(shown)
        assert up == pytest.approx((count % 5) / 5, abs=0.03), count
        assert sum(shown) / len(shown) == pytest.approx(count, abs=0.15), count


def test_the_same_rows_are_always_published_the_same_and_other_rows_draw_again(app):
    tally = Tally(3, 123456)
    assert len({published_count(Tally(3, 123456)) for _ in range(20)}) == 1
    # The key decides, not the moment or the figure: a total added up from disjoint parts is
    # the tally of its rows, whichever way it was added.
    parts = [Tally(1, 100000), Tally(2, 23456)]
    assert sum(parts) == 3 and sum(parts).key == tally.key
    assert published_count(sum(parts)) == published_count(tally)
    assert published_count(Tally(1, 1) + Tally(2, 2)) in (0, 5)


def test_the_draw_depends_on_the_installations_secret(app):
    first = [published_count(t) for t in _tallies(2, range(300))]
    app.extensions["qamqor_statistics_secret"] = b"another installation"
    second = [published_count(t) for t in _tallies(2, range(300))]
    assert first != second


def test_a_count_that_does_not_know_what_it_counts_is_not_published(app):
    with pytest.raises(TypeError):
        published_count(3)
    with pytest.raises(TypeError):
        published_count(Tally(3, 5) + 1)  # a tally and a plain number: no longer a tally
    assert published_count(Public(3)) == 3  # the programme's counts (classes) are shown as they are


def test_shares_are_worked_out_from_the_published_counts(app):
    part, whole = Tally(3, 11), Tally(8, 29)
    expected = published_count(part) / published_count(whole) if published_count(whole) else None
    assert shown_share(part, whole, True) == expected
    assert shown_share(0, Tally(12, 5), True) == 0.0
    assert shown_share(3, 8, False) == 0.375
    assert shown_share(0, 0, False) is None


def test_an_impossible_proportion_is_refused():
    with pytest.raises(ValueError):
        wilson(3, 2)
    with pytest.raises(ValueError):
        wilson(0, 0)
