"""The arrivals forecast on history built by hand: a known weekly profile and a known trend."""

import datetime as dt

import pytest

from dashboards.forecast import forecast_arrivals

MONDAY = dt.date(2026, 1, 5)
# Weekday -> {hour: arrivals} of a base week: Monday busy at 9, Saturday at 10.
PROFILE = {0: {9: 30, 14: 10}, 2: {9: 12, 14: 8}, 5: {10: 40}}
BASE_TOTAL = sum(sum(hours.values()) for hours in PROFILE.values())  # 100


def _history(weeks, growth_per_week=0.0):
    history = {}
    for week in range(weeks):
        factor = 1 + growth_per_week * week
        for weekday, hours in PROFILE.items():
            day = MONDAY + dt.timedelta(weeks=week, days=weekday)
            for hour, count in hours.items():
                history[(day, hour)] = count * factor
    return history


def test_flat_history_repeats_the_profile():
    next_monday = MONDAY + dt.timedelta(weeks=8)
    result = forecast_arrivals(_history(8), history_start=MONDAY, weeks=8, days=[next_monday])
    assert result == {(next_monday, 9): pytest.approx(30), (next_monday, 14): pytest.approx(10)}


def test_trend_is_carried_forward():
    # +10% of the base week each week: week 8 totals 180 (base 100).
    saturday = MONDAY + dt.timedelta(weeks=8, days=5)
    result = forecast_arrivals(
        _history(8, growth_per_week=0.1), history_start=MONDAY, weeks=8, days=[saturday]
    )
    assert result[(saturday, 10)] == pytest.approx(180 * 40 / BASE_TOTAL, rel=1e-6)


def test_days_without_history_get_nothing():
    tuesday = MONDAY + dt.timedelta(weeks=8, days=1)
    assert forecast_arrivals(_history(8), history_start=MONDAY, weeks=8, days=[tuesday]) == {}


def test_falling_trend_never_goes_negative():
    history = {(MONDAY + dt.timedelta(weeks=w), 9): 100 - 30 * w for w in range(4)}
    far = MONDAY + dt.timedelta(weeks=20)
    assert forecast_arrivals(history, history_start=MONDAY, weeks=4, days=[far]) == {(far, 9): 0.0}


def test_rows_outside_the_window_are_ignored():
    history = _history(8)
    history[(MONDAY - dt.timedelta(days=7), 9)] = 10_000  # before the window
    next_monday = MONDAY + dt.timedelta(weeks=8)
    result = forecast_arrivals(history, history_start=MONDAY, weeks=8, days=[next_monday])
    assert result[(next_monday, 9)] == pytest.approx(30)


def test_no_history_no_forecast():
    day = MONDAY + dt.timedelta(weeks=1)
    assert forecast_arrivals({}, history_start=MONDAY, weeks=4, days=[day]) == {}
    with pytest.raises(ValueError):
        forecast_arrivals({}, history_start=MONDAY, weeks=0, days=[day])
