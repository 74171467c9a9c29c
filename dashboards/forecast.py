"""Arrivals forecast per hour of the week (seed §4.2.1, issue 9), for the staffing page.

The model is the one branch planners use by hand, made explicit:

    arrivals(week k, weekday d, hour h) = total(k) × share(d, h)

- share(d, h): the weekly profile, each hour-of-week cell's share of the week's arrivals,
  averaged over the history's weeks (weekday and hour seasonality: Monday mornings, lunch hours,
  the Saturday peak);
- total(k): the weekly total, a least-squares line through the history's weekly totals (the
  recent trend), never below zero.

History is given as arrivals per local (date, hour) for whole weeks that end before the first
forecast date; hours without a row had no arrivals. A closed day (holiday) in the forecast is
the caller's to zero, from the branch's calendar.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np


def weekly_profile(history: dict[tuple[dt.date, int], float], start: dt.date, weeks: int):
    """(totals per week, share per (weekday, hour)) over `weeks` whole weeks from `start`."""
    totals = np.zeros(weeks)
    cells: dict[tuple[int, int], float] = defaultdict(float)
    end = start + dt.timedelta(weeks=weeks)
    for (day, hour), count in history.items():
        if not start <= day < end:
            continue
        totals[(day - start).days // 7] += count
        cells[(day.weekday(), hour)] += count
    grand = totals.sum()
    share = {cell: count / grand for cell, count in cells.items()} if grand else {}
    return totals, share


def forecast_arrivals(
    history: dict[tuple[dt.date, int], float],
    *,
    history_start: dt.date,
    weeks: int,
    days: list[dt.date],
) -> dict[tuple[dt.date, int], float]:
    """Expected arrivals per (date, hour) for each forecast day (hours with none are left out)."""
    if weeks < 1:
        raise ValueError("at least one week of history is needed")
    totals, share = weekly_profile(history, history_start, weeks)
    if weeks >= 2:
        slope, intercept = np.polyfit(np.arange(weeks), totals, 1)
    else:
        slope, intercept = 0.0, totals[0]
    result = {}
    for day in days:
        week = (day - history_start).days // 7
        total = max(0.0, intercept + slope * week)
        for (weekday, hour), part in share.items():
            if weekday == day.weekday():
                result[(day, hour)] = total * part
    return result
