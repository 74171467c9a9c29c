"""Every KPI the dashboards show, defined once (issue 9; seed §5.1-5.3).

A KPI is a formula over *measures*: additive counts and sums (tickets called, seconds waited, a
histogram of waits, surveys answered ...) that a day's, an hour's, a branch's or a staff member's
rollup row holds and that add up across rows. The same formula therefore gives the same value from
raw records (measures computed for the period on the fly) and from rollups (measures summed over
rows): a region over a year is the sum of its branches' days.

Percentiles (median, p90) come from histograms with fixed buckets (`BUCKET_SECONDS` wide up to
`HISTOGRAM_SECONDS`, then one open bucket): the value is the upper edge of the bucket where the
percentile falls, so it is exact to the bucket's width, in rollups and raw alike.

Nothing here is typed in: measures come from the stage apps' records through their selectors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from bankservice.core.measures import BUCKET_SECONDS, BUCKETS

# Additive measures; histograms are lists of BUCKETS counts.
MEASURES = (
    "tickets_issued",  # queue tickets issued (appointments' check-ins included)
    "tickets_called",  # tickets called to a counter at least once
    "wait_seconds",  # sum of issue (or appointment time, if later) to first call
    "wait_histogram",
    "within_target",  # called within the service's target wait
    "abandoned",  # left before being called (closed unserved while waiting)
    "no_show",  # called, did not come to the counter
    "served",  # service completed
    "service_seconds",  # sum of service start to end
    "service_histogram",
    "consultations",  # closed consultations with a customer
    "first_contact_resolved",  # answered without referral and no repeat visit within N days
    "requests_finished",  # service requests executed or failed in core banking
    "turnaround_seconds",  # sum of submission to execution
    "turnaround_histogram",
    "requests_reworked",  # returned for correction at least once
    "csat_answers",
    "csat_sum",
    "csat_satisfied",  # CSAT 4 or 5
    "nps_answers",
    "nps_promoters",  # 9-10
    "nps_detractors",  # 0-6
    "complaints_received",
    "complaints_closed",  # decided with every regulatory clock settled
    "complaints_within_deadline",
    "callbacks_closed",  # done, unreachable or cancelled
    "callbacks_done",
    "counter_open_seconds",
    "counter_busy_seconds",
)
HISTOGRAMS = ("wait_histogram", "service_histogram", "turnaround_histogram")


def empty_measures() -> dict:
    return {name: [0] * BUCKETS if name in HISTOGRAMS else 0 for name in MEASURES}


def add_measures(total: dict, other: Mapping) -> dict:
    """Add `other` into `total` (in place) and return it."""
    for name in MEASURES:
        value = other.get(name)
        if value is None:
            continue
        if name in HISTOGRAMS:
            total[name] = [a + b for a, b in zip(total[name], value, strict=True)]
        else:
            total[name] += value
    return total


def percentile(histogram: list[int], q: float) -> float | None:
    """The upper edge (seconds) of the bucket holding the q-th quantile; None without data."""
    total = sum(histogram)
    if not total:
        return None
    rank = q * total
    running = 0
    for index, count in enumerate(histogram):
        running += count
        if running >= rank and count:
            return float((index + 1) * BUCKET_SECONDS)
    return float(BUCKETS * BUCKET_SECONDS)


def _ratio(top: float, bottom: float, scale: float = 1.0) -> float | None:
    return top / bottom * scale if bottom else None


@dataclass(frozen=True)
class Kpi:
    code: str
    name: str  # lazy
    formula: str  # lazy: how it is computed, for the definitions page
    unit: str  # "seconds", "share", "score", "per_1000"
    better: str  # "higher" or "lower"
    compute: Callable[[Mapping], float | None]
    # The measures it needs (their rows must exist for a value).
    needs: tuple[str, ...]


KPIS = (
    Kpi(
        "wait_mean",
        _("Waiting time, mean"),
        _(
            "Seconds from the ticket's issue (or the appointment time, if later) to its first "
            "call, averaged over the tickets called."
        ),
        "seconds",
        "lower",
        lambda m: _ratio(m["wait_seconds"], m["tickets_called"]),
        ("wait_seconds", "tickets_called"),
    ),
    Kpi(
        "wait_median",
        _("Waiting time, median"),
        _("The waiting time half of the called tickets stayed within (to 30 seconds)."),
        "seconds",
        "lower",
        lambda m: percentile(m["wait_histogram"], 0.5),
        ("wait_histogram",),
    ),
    Kpi(
        "wait_p90",
        _("Waiting time, 90th percentile"),
        _("The waiting time nine in ten called tickets stayed within (to 30 seconds)."),
        "seconds",
        "lower",
        lambda m: percentile(m["wait_histogram"], 0.9),
        ("wait_histogram",),
    ),
    Kpi(
        "service_level",
        _("Service level"),
        _(
            "Share of waiting customers called within their service's target wait: called in "
            "time / (called + left before being called)."
        ),
        "share",
        "higher",
        lambda m: _ratio(m["within_target"], m["tickets_called"] + m["abandoned"]),
        ("within_target", "tickets_called", "abandoned"),
    ),
    Kpi(
        "service_mean",
        _("Service time, mean"),
        _(
            "Seconds from the start of service at the counter to its end, averaged over the "
            "services completed."
        ),
        "seconds",
        "lower",
        lambda m: _ratio(m["service_seconds"], m["served"]),
        ("service_seconds", "served"),
    ),
    Kpi(
        "abandonment_rate",
        _("Abandonment rate"),
        _("Share of tickets issued whose customer left before being called."),
        "share",
        "lower",
        lambda m: _ratio(m["abandoned"], m["tickets_issued"]),
        ("abandoned", "tickets_issued"),
    ),
    Kpi(
        "no_show_rate",
        _("No-show rate"),
        _("Share of called tickets whose customer did not come to the counter."),
        "share",
        "lower",
        lambda m: _ratio(m["no_show"], m["tickets_called"]),
        ("no_show", "tickets_called"),
    ),
    Kpi(
        "first_contact_resolution",
        _("First-contact resolution"),
        _(
            "Share of consultations answered without a referral and without the customer coming "
            "back about it within the follow-up window."
        ),
        "share",
        "higher",
        lambda m: _ratio(m["first_contact_resolved"], m["consultations"]),
        ("first_contact_resolved", "consultations"),
    ),
    Kpi(
        "request_turnaround_median",
        _("Request turnaround, median"),
        _(
            "Time from a request's submission to its execution in core banking, median (to 30 "
            "seconds; longer than four hours shows as four hours)."
        ),
        "seconds",
        "lower",
        lambda m: percentile(m["turnaround_histogram"], 0.5),
        ("turnaround_histogram",),
    ),
    Kpi(
        "request_turnaround_mean",
        _("Request turnaround, mean"),
        _("Time from a request's submission to its execution in core banking, averaged."),
        "seconds",
        "lower",
        lambda m: _ratio(m["turnaround_seconds"], m["requests_finished"]),
        ("turnaround_seconds", "requests_finished"),
    ),
    Kpi(
        "rework_rate",
        _("Rework rate"),
        _("Share of finished requests that were returned for correction at least once."),
        "share",
        "lower",
        lambda m: _ratio(m["requests_reworked"], m["requests_finished"]),
        ("requests_reworked", "requests_finished"),
    ),
    Kpi(
        "csat_mean",
        _("Satisfaction (CSAT), mean"),
        _("Mean of the survey answers on the 1-5 scale."),
        "score",
        "higher",
        lambda m: _ratio(m["csat_sum"], m["csat_answers"]),
        ("csat_sum", "csat_answers"),
    ),
    Kpi(
        "csat_satisfied",
        _("Satisfied customers"),
        _("Share of survey answers of 4 or 5 on the 1-5 scale."),
        "share",
        "higher",
        lambda m: _ratio(m["csat_satisfied"], m["csat_answers"]),
        ("csat_satisfied", "csat_answers"),
    ),
    Kpi(
        "nps",
        _("Net Promoter Score"),
        _(
            "Per cent of promoters (9-10) minus per cent of detractors (0-6) among the answers "
            'to "how likely are you to recommend us" (from -100 to 100).'
        ),
        "score",
        "higher",
        lambda m: _ratio(m["nps_promoters"] - m["nps_detractors"], m["nps_answers"], 100.0),
        ("nps_promoters", "nps_detractors", "nps_answers"),
    ),
    Kpi(
        "complaint_rate",
        _("Complaints per 1,000 served"),
        _("Complaints received per 1,000 customers served at the counter."),
        "per_1000",
        "lower",
        lambda m: _ratio(m["complaints_received"], m["served"], 1000.0),
        ("complaints_received", "served"),
    ),
    Kpi(
        "complaints_within_deadline",
        _("Complaints within deadline"),
        _("Share of closed complaints whose every regulatory clock was met by its due time."),
        "share",
        "higher",
        lambda m: _ratio(m["complaints_within_deadline"], m["complaints_closed"]),
        ("complaints_within_deadline", "complaints_closed"),
    ),
    Kpi(
        "callback_completion",
        _("Callback completion"),
        _(
            "Share of closed callbacks in which the customer was reached and the call completed "
            "(the rest: unreachable or cancelled)."
        ),
        "share",
        "higher",
        lambda m: _ratio(m["callbacks_done"], m["callbacks_closed"]),
        ("callbacks_done", "callbacks_closed"),
    ),
    Kpi(
        "counter_utilisation",
        _("Counter utilisation"),
        _("Share of the time counters were open that they were serving a customer."),
        "share",
        "higher",
        lambda m: _ratio(m["counter_busy_seconds"], m["counter_open_seconds"]),
        ("counter_busy_seconds", "counter_open_seconds"),
    ),
)
KPI_BY_CODE = {kpi.code: kpi for kpi in KPIS}


def compute(measures: Mapping, codes=None) -> dict[str, float | None]:
    """Every KPI (or those of `codes`) from one set of measures."""
    kpis = KPIS if codes is None else [KPI_BY_CODE[code] for code in codes]
    return {kpi.code: kpi.compute(measures) for kpi in kpis}
