"""Is a change real? Significance tests for the evaluation page (seed §5.3, issue 9).

- Times (waiting, service): the Mann-Whitney U test (no assumption of a normal distribution,
  which waiting times never have) and a bootstrap interval for the change of the median.
- Rates (service level, abandonment, satisfied share): the two-proportion z test, with a normal
  interval for the change.

Each returns the change, an interval and a p-value; `significant` is p < alpha (0.05 unless told).
A comparison on too little data says so (`enough_data` False) instead of guessing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as _scipy

ALPHA = 0.05
MIN_SAMPLE = 8  # fewer observations in either group: not enough to say anything
BOOTSTRAP_ROUNDS = 2000


@dataclass(frozen=True)
class Comparison:
    before: float | None
    after: float | None
    change: float | None  # after - before
    low: float | None  # the interval of the change (95% unless alpha says otherwise)
    high: float | None
    p_value: float | None
    significant: bool
    enough_data: bool
    test: str


def _not_enough(test: str, before=None, after=None) -> Comparison:
    return Comparison(before, after, None, None, None, None, False, False, test)


def compare_times(before, after, *, alpha: float = ALPHA, seed: int = 0) -> Comparison:
    """Median before and after, the change with a bootstrap interval, Mann-Whitney's p-value.
    The bootstrap is seeded: the same data give the same interval on every page view."""
    a = np.asarray(list(before), dtype=float)
    b = np.asarray(list(after), dtype=float)
    test = "mann-whitney"
    if len(a) < MIN_SAMPLE or len(b) < MIN_SAMPLE:
        return _not_enough(
            test, float(np.median(a)) if len(a) else None, float(np.median(b)) if len(b) else None
        )
    p_value = float(_scipy.mannwhitneyu(a, b, alternative="two-sided").pvalue)
    rng = np.random.default_rng(seed)
    diffs = np.median(rng.choice(b, (BOOTSTRAP_ROUNDS, len(b))), axis=1) - np.median(
        rng.choice(a, (BOOTSTRAP_ROUNDS, len(a))), axis=1
    )
    low, high = np.quantile(diffs, [alpha / 2, 1 - alpha / 2])
    median_a, median_b = float(np.median(a)), float(np.median(b))
    return Comparison(
        median_a,
        median_b,
        median_b - median_a,
        float(low),
        float(high),
        p_value,
        p_value < alpha,
        True,
        test,
    )


def compare_rates(
    hits_before: int, total_before: int, hits_after: int, total_after: int, *, alpha: float = ALPHA
) -> Comparison:
    """Shares before and after, the change with its normal interval, the two-proportion z test
    (pooled standard error for the test, unpooled for the interval)."""
    test = "two-proportion-z"
    for hits, total in ((hits_before, total_before), (hits_after, total_after)):
        if not 0 <= hits <= total:
            raise ValueError("hits must be between 0 and the total")
    if total_before < MIN_SAMPLE or total_after < MIN_SAMPLE:
        return _not_enough(
            test,
            hits_before / total_before if total_before else None,
            hits_after / total_after if total_after else None,
        )
    p1, p2 = hits_before / total_before, hits_after / total_after
    pooled = (hits_before + hits_after) / (total_before + total_after)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / total_before + 1 / total_after))
    if se_pooled == 0:  # both all hits or all misses: no difference to test
        p_value = 1.0
    else:
        z = (p2 - p1) / se_pooled
        p_value = math.erfc(abs(z) / math.sqrt(2))
    se = math.sqrt(p1 * (1 - p1) / total_before + p2 * (1 - p2) / total_after)
    z_crit = float(_scipy.norm.ppf(1 - alpha / 2))
    change = p2 - p1
    return Comparison(
        p1,
        p2,
        change,
        change - z_crit * se,
        change + z_crit * se,
        p_value,
        p_value < alpha,
        True,
        test,
    )
