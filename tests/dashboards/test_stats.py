"""Significance tests on data with and without a real difference."""

import numpy as np
import pytest

from dashboards.stats import compare_rates, compare_times


def test_times_with_a_real_difference_are_significant():
    rng = np.random.default_rng(7)
    before = rng.exponential(600, 400)  # waits averaging 10 minutes
    after = rng.exponential(300, 400)  # halved
    result = compare_times(before, after)
    assert result.enough_data and result.significant
    assert result.p_value < 0.001
    assert result.change < 0
    assert result.low < result.change < result.high < 0  # the interval excludes no change


def test_times_from_one_distribution_are_not_significant():
    rng = np.random.default_rng(11)
    result = compare_times(rng.exponential(300, 300), rng.exponential(300, 300))
    assert result.enough_data
    assert not result.significant
    assert result.low < 0 < result.high


def test_bootstrap_is_repeatable():
    rng = np.random.default_rng(3)
    a, b = rng.exponential(300, 50), rng.exponential(250, 50)
    assert compare_times(a, b) == compare_times(a, b)


def test_too_few_times_say_so():
    result = compare_times([60, 120, 90], [30, 40, 50])
    assert not result.enough_data and not result.significant
    assert result.p_value is None
    assert result.before == 90 and result.after == 40


def test_rates_by_hand():
    # 56/100 -> 70/100: pooled p = 0.63, se = sqrt(0.63*0.37*0.02) = 0.06828, z = 2.050,
    # two-sided p = 0.0403.
    result = compare_rates(56, 100, 70, 100)
    assert result.change == pytest.approx(0.14)
    assert result.p_value == pytest.approx(0.0403, abs=2e-4)
    assert result.significant
    # Unpooled interval: 0.14 ± 1.96 * sqrt(.56*.44/100 + .7*.3/100) = 0.14 ± 0.1324.
    assert result.low == pytest.approx(0.0076, abs=1e-3)
    assert result.high == pytest.approx(0.2724, abs=1e-3)


def test_equal_rates_are_not_significant():
    result = compare_rates(80, 100, 81, 100)
    assert not result.significant
    assert result.p_value > 0.5


def test_all_or_nothing_rates_do_not_divide_by_zero():
    result = compare_rates(50, 50, 40, 40)
    assert result.p_value == 1.0 and not result.significant


def test_impossible_counts_are_refused():
    with pytest.raises(ValueError):
        compare_rates(11, 10, 5, 10)
