"""Is an improvement real? Every KPI compared between two groups (seed §5.3, §8.2.3; issue 9):

- two periods of the same branches ("before and after an optimisation"), or
- pilot branches against control branches over the same period.

Each group's measures are the sums of its branches' rollup rows (dashboards.selectors), so a
group's KPI is the same number the trends page shows for it. Then, per KPI:

- times (waiting, service, request turnaround): the group's histogram expanded to one
  observation per ticket at its bucket's midpoint, the Mann-Whitney test on the two samples
  (dashboards.stats.compare_times) and a seeded bootstrap interval of the change of the KPI's own
  statistic (mean, median or 90th percentile). Over MAX_SAMPLE (1,000) observations a group is thinned
  to MAX_SAMPLE evenly spaced order statistics (deterministic, keeps the distribution's shape);
  the test then has a little less power than on every ticket, never more.
- rates (service level, abandonment, no-show, first-contact resolution, rework, satisfied share,
  complaints within deadline, callback completion, complaints per 1,000 served): the
  two-proportion z test on the counts (dashboards.stats.compare_rates).
- CSAT mean, NPS and counter utilisation: the change only, "no test" (we keep their sums, not
  their distributions).

The before/after values are always the KPI's exact values (kpis.compute on the group's
measures); a group with fewer than stats.MIN_SAMPLE observations gives "not enough data".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from bankservice.core.measures import BUCKET_SECONDS, BUCKETS

from . import kpis, stats
from .selectors import VIEW_KPIS, branch_measures, scope_branch_ids

MAX_SAMPLE = 1000  # observations per group for the time tests (bootstrap memory and time)

# Time KPIs: the histogram they are read from, and the statistic of the KPI.
TIME_KPIS = {
    "wait_mean": ("wait_histogram", "mean"),
    "wait_median": ("wait_histogram", "median"),
    "wait_p90": ("wait_histogram", "p90"),
    "service_mean": ("service_histogram", "mean"),
    "request_turnaround_median": ("turnaround_histogram", "median"),
    "request_turnaround_mean": ("turnaround_histogram", "mean"),
}
# Rate KPIs: (hits, total) measures; complaint_rate is scaled by 1,000.
RATE_KPIS = {
    "service_level": ("within_target", ("tickets_called", "abandoned")),
    "abandonment_rate": ("abandoned", ("tickets_issued",)),
    "no_show_rate": ("no_show", ("tickets_called",)),
    "first_contact_resolution": ("first_contact_resolved", ("consultations",)),
    "rework_rate": ("requests_reworked", ("requests_finished",)),
    "csat_satisfied": ("csat_satisfied", ("csat_answers",)),
    "complaint_rate": ("complaints_received", ("served",)),
    "complaints_within_deadline": ("complaints_within_deadline", ("complaints_closed",)),
    "callback_completion": ("callbacks_done", ("callbacks_closed",)),
}
RATE_SCALE = {"complaint_rate": 1000.0}
# The volume each untested KPI stands on (shown as the group's n).
VOLUME = {
    "csat_mean": "csat_answers",
    "nps": "nps_answers",
    "counter_utilisation": "counter_open_seconds",
}
NO_TEST = "none"


@dataclass(frozen=True)
class Group:
    """One side of a comparison: a period and branches (ids, all within the caller's scope)."""

    start: dt.date
    end: dt.date
    branch_ids: tuple[int, ...] | None = None  # None: every branch in scope (or `region`'s)
    region: int | None = None


@dataclass(frozen=True)
class EvaluationRow:
    code: str
    name: str
    unit: str  # kpis unit: seconds, share, score, per_1000
    better: str  # higher or lower
    before: float | None  # the KPI's value in the first group (before, or control)
    after: float | None  # ... in the second (after, or pilot)
    change: float | None  # after - before
    low: float | None  # interval of the change
    high: float | None
    p_value: float | None
    significant: bool
    enough_data: bool
    test: str  # mann-whitney, two-proportion-z or none
    n_before: float
    n_after: float

    @property
    def direction(self) -> str | None:
        """better, worse or same (by the KPI's direction); None without a change."""
        if self.change is None:
            return None
        if self.change == 0:
            return "same"
        improved = self.change < 0 if self.better == "lower" else self.change > 0
        return "better" if improved else "worse"

    @property
    def improved(self) -> bool:
        """A significant change in the good direction."""
        return self.significant and self.direction == "better"


def group_measures(principal, group: Group, *, service=None, perm=VIEW_KPIS) -> dict:
    """The summed measures (full: histograms as lists) of a group's branches in the period;
    branches outside the principal's scope count for nothing."""
    ids = scope_branch_ids(principal, perm=perm, region=group.region)
    if group.branch_ids is not None:
        ids = [branch_id for branch_id in ids if branch_id in set(group.branch_ids)]
    rows = branch_measures(ids, start=group.start, end=group.end, service=service)
    return rows[0].measures if rows else kpis.empty_measures()


_MIDPOINTS = (np.arange(BUCKETS, dtype=float) + 0.5) * BUCKET_SECONDS
_MIDPOINTS[-1] = (BUCKETS - 1) * BUCKET_SECONDS  # the open last bucket: its lower edge


def sample(histogram) -> np.ndarray:
    """One observation per count at its bucket's midpoint, sorted; over MAX_SAMPLE, thinned to
    MAX_SAMPLE evenly spaced order statistics."""
    counts = np.asarray(histogram, dtype=np.int64)
    total = int(counts.sum())
    if total <= MAX_SAMPLE:
        return np.repeat(_MIDPOINTS, counts)
    # The order statistics at evenly spaced ranks, found without expanding millions of tickets.
    ranks = np.linspace(0, total - 1, MAX_SAMPLE).round()
    return _MIDPOINTS[np.searchsorted(np.cumsum(counts), ranks, side="right")]


def _statistic(values: np.ndarray, counts: np.ndarray, kind: str) -> np.ndarray:
    """The statistic of each row of `counts` (resampled counts of the sorted `values`)."""
    n = counts.sum(axis=1)
    if kind == "mean":
        return counts @ values / n
    rank = np.ceil((0.5 if kind == "median" else 0.9) * n)
    position = (np.cumsum(counts, axis=1) >= rank[:, None]).argmax(axis=1)
    return values[position]


def _bootstrap(a, b, kind: str, *, alpha=stats.ALPHA, seed=0) -> tuple[float, float]:
    """A seeded bootstrap interval of statistic(b) - statistic(a): each group resampled with
    replacement, drawn as multinomial counts over its distinct values (the same resampling as
    drawing ticket by ticket, in a fraction of the time)."""
    rng = np.random.default_rng(seed)
    rounds = stats.BOOTSTRAP_ROUNDS
    results = []
    for sample_ in (a, b):
        values, counts = np.unique(sample_, return_counts=True)
        drawn = rng.multinomial(len(sample_), counts / counts.sum(), size=rounds)
        results.append(_statistic(values, drawn, kind))
    low, high = np.quantile(results[1] - results[0], [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def _row(kpi, before, after, *, test, n_before, n_after, comparison=None, scale=1.0):
    change = after - before if before is not None and after is not None else None
    if comparison is None:
        return EvaluationRow(
            kpi.code, str(kpi.name), kpi.unit, kpi.better, before, after, change,
            None, None, None, False, change is not None, test, n_before, n_after,
        )  # fmt: skip
    enough = comparison.enough_data and change is not None
    return EvaluationRow(
        kpi.code,
        str(kpi.name),
        kpi.unit,
        kpi.better,
        before,
        after,
        change if enough else None,
        comparison.low * scale if enough and comparison.low is not None else None,
        comparison.high * scale if enough and comparison.high is not None else None,
        comparison.p_value if enough else None,
        comparison.significant and enough,
        enough,
        test,
        n_before,
        n_after,
    )


def compare(first: dict, second: dict, codes=None) -> list[EvaluationRow]:
    """Every KPI (or those of `codes`, in KPIS order) of `second` against `first` (full
    measures, as group_measures returns)."""
    wanted = set(codes) if codes else None
    values_a, values_b = kpis.compute(first), kpis.compute(second)
    samples: dict[str, tuple] = {}
    rows = []
    for kpi in kpis.KPIS:
        if wanted is not None and kpi.code not in wanted:
            continue
        before, after = values_a[kpi.code], values_b[kpi.code]
        if kpi.code in TIME_KPIS:
            histogram, kind = TIME_KPIS[kpi.code]
            if histogram not in samples:
                a, b = sample(first[histogram]), sample(second[histogram])
                samples[histogram] = (a, b, stats.compare_times(a, b))
            a, b, comparison = samples[histogram]
            if comparison.enough_data and kind != "median":
                low, high = _bootstrap(a, b, kind)
                comparison = stats.Comparison(
                    comparison.before, comparison.after, comparison.change, low, high,
                    comparison.p_value, comparison.significant, True, comparison.test,
                )  # fmt: skip
            rows.append(
                _row(
                    kpi,
                    before,
                    after,
                    test=comparison.test,
                    n_before=sum(first[histogram]),
                    n_after=sum(second[histogram]),
                    comparison=comparison,
                )
            )
        elif kpi.code in RATE_KPIS:
            hits_name, total_names = RATE_KPIS[kpi.code]
            hits_a, hits_b = first[hits_name], second[hits_name]
            total_a = sum(first[name] for name in total_names)
            total_b = sum(second[name] for name in total_names)
            if 0 <= hits_a <= total_a and 0 <= hits_b <= total_b:
                comparison = stats.compare_rates(hits_a, total_a, hits_b, total_b)
                test = comparison.test
            else:  # more complaints than customers served: not a proportion
                comparison = None
                test = NO_TEST
            rows.append(
                _row(
                    kpi,
                    before,
                    after,
                    test=test,
                    n_before=total_a,
                    n_after=total_b,
                    comparison=comparison,
                    scale=RATE_SCALE.get(kpi.code, 1.0),
                )
            )
        else:
            volume = VOLUME.get(kpi.code, kpi.needs[-1])
            rows.append(
                _row(
                    kpi,
                    before,
                    after,
                    test=NO_TEST,
                    n_before=first[volume],
                    n_after=second[volume],
                )
            )
    return rows


def evaluate(principal, first: Group, second: Group, *, codes=None, service=None):
    """The comparison of two groups of the principal's scope: (rows, measures of each group)."""
    measures_a = group_measures(principal, first, service=service)
    measures_b = group_measures(principal, second, service=service)
    return compare(measures_a, measures_b, codes), measures_a, measures_b
