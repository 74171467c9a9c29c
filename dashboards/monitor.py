"""The live monitor's figures (issue 9): what is happening at a branch right now, from today's raw
records only (never the rollups).

`live_figures(branch_ids)` gives one `BranchFigures` per branch (the caller has limited them to
the user's scope; the alert check asks for every branch with a rule): customers waiting now
per service and their longest wait, counters open / paused / busy / closed, today's service level
and tickets served (the KPI definitions of dashboards/kpis.py, computed by
`selectors.branch_kpis(..., source="raw")`), and the complaints and callbacks at risk of breach.
The number of queries does not depend on how many branches or services are asked for (it grows
only with the number of distinct local dates among them, normally one).

`figure(figures, metric, service)` is the value an `AlertRule` compares with its threshold
(`over(metric, value, threshold)`), so the page's highlights and the alert check agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from bankservice.branches.models import Branch
from bankservice.core.language import in_language
from bankservice.sla.selectors import deadlines_at_risk
from care.services import DEADLINE_KIND as CALLBACK_KIND
from complaints.deadlines import KIND_PREFIX as COMPLAINT_KIND_PREFIX
from complaints.packs import PACKS
from reception.selectors import live_counters, live_queues

from . import selectors
from .models import AlertMetric

# A deadline due within this long counts as at risk (overdue and breached-unmet ones always do).
COMPLAINT_RISK_WITHIN = dt.timedelta(hours=24)
CALLBACK_RISK_WITHIN = dt.timedelta(hours=2)
# The shipped packs' obligation clocks: a window (summary resolution, review request) passing
# is no breach.
COMPLAINT_KINDS = sorted(
    {
        COMPLAINT_KIND_PREFIX + clock["code"]
        for pack in PACKS
        for clock in pack["clocks"]
        if not clock.get("is_window")
    }
)
RISK_GROUPS = {
    "complaints": (COMPLAINT_KINDS, COMPLAINT_RISK_WITHIN),
    "callbacks": ((CALLBACK_KIND,), CALLBACK_RISK_WITHIN),
}
KPI_CODES = ("service_level", "wait_mean")


@dataclass
class ServiceFigures:
    code: str
    name_en: str
    name_zh: str
    target_wait_minutes: int
    waiting: int
    longest_wait: dt.timedelta

    @property
    def name(self) -> str:
        return in_language(self.name_zh, self.name_en)

    @property
    def over_target(self) -> bool:
        return self.longest_wait > dt.timedelta(minutes=self.target_wait_minutes)

    @property
    def longest_minutes(self) -> int:
        return int(self.longest_wait.total_seconds() // 60)


@dataclass
class BranchFigures:
    branch: Branch
    at: dt.datetime
    services: list[ServiceFigures] = field(default_factory=list)
    counters_open: int = 0
    counters_paused: int = 0
    counters_busy: int = 0
    counters_closed: int = 0
    service_level: float | None = None  # share 0..1, None before anybody was called today
    wait_mean: float | None = None  # seconds
    served: int = 0
    complaints_at_risk: int = 0
    callbacks_at_risk: int = 0

    @property
    def waiting(self) -> int:
        return sum(service.waiting for service in self.services)

    @property
    def longest_wait(self) -> dt.timedelta:
        return max((s.longest_wait for s in self.services), default=dt.timedelta())

    @property
    def longest_minutes(self) -> int:
        return int(self.longest_wait.total_seconds() // 60)

    @property
    def at_risk(self) -> int:
        return self.complaints_at_risk + self.callbacks_at_risk

    @property
    def service_level_percent(self) -> float | None:
        return None if self.service_level is None else self.service_level * 100

    def service(self, code: str) -> ServiceFigures | None:
        return next((s for s in self.services if s.code == code), None)


def live_figures(branch_ids, *, now: dt.datetime | None = None) -> dict[int, BranchFigures]:
    """{branch id: BranchFigures} for `branch_ids`."""
    now = now or timezone.now()
    using = selectors.database()
    branches = Branch.objects.using(using).filter(id__in=list(branch_ids)).order_by("name")
    figures = {b.pk: BranchFigures(branch=b, at=now) for b in branches}
    if not figures:
        return {}
    ids = list(figures)
    for row in live_queues(branch_ids=ids, using=using):
        oldest = row["oldest"]
        figures[row["branch"]].services.append(
            ServiceFigures(
                code=row["service"],
                name_en=row["name_en"],
                name_zh=row["name_zh"],
                target_wait_minutes=row["target_wait_minutes"],
                waiting=row["waiting"],
                longest_wait=max(now - oldest, dt.timedelta()) if oldest else dt.timedelta(),
            )
        )
    for branch_id, counts in live_counters(branch_ids=ids, using=using).items():
        one = figures[branch_id]
        one.counters_open = counts["open"]
        one.counters_paused = counts["paused"]
        one.counters_busy = counts["busy"]
        one.counters_closed = counts["closed"]
    # Today is each branch's own local date; normally one date for all of them.
    days: dict[dt.date, set[int]] = {}
    for branch_id, one in figures.items():
        days.setdefault(timezone.localdate(now, one.branch.zone), set()).add(branch_id)
    for day, day_ids in days.items():
        rows = selectors.branch_kpis(
            sorted(day_ids),
            start=day,
            end=day,
            by=("branch",),
            codes=list(KPI_CODES),
            source="raw",
        )
        for row in rows:
            one = figures[row.key["branch"]]
            one.service_level = row.values.get("service_level")
            one.wait_mean = row.values.get("wait_mean")
            one.served = row.measures.get("served") or 0
    risks = deadlines_at_risk(branch_ids=ids, groups=RISK_GROUPS, now=now, using=using)
    for branch_id, counts in risks.items():
        figures[branch_id].complaints_at_risk = counts["complaints"]
        figures[branch_id].callbacks_at_risk = counts["callbacks"]
    return figures


# --- What an alert rule compares --------------------------------------------------------------

QUEUE_METRICS = (AlertMetric.LONGEST_WAIT, AlertMetric.WAITING)


def figure(figures: BranchFigures, metric: str, service: str = "") -> float | None:
    """The live value an alert rule of `metric` (and service code) looks at, in its unit:
    minutes, customers, per cent or deadlines. None when there is no value (no such service
    today, nobody called yet for the service level)."""
    if metric in QUEUE_METRICS and service:
        queue = figures.service(service)
        if queue is None:
            return None
        return queue.longest_minutes if metric == AlertMetric.LONGEST_WAIT else queue.waiting
    if metric == AlertMetric.LONGEST_WAIT:
        return figures.longest_minutes
    if metric == AlertMetric.WAITING:
        return figures.waiting
    if metric == AlertMetric.SERVICE_LEVEL:
        return figures.service_level_percent
    if metric == AlertMetric.AT_RISK:
        return figures.at_risk
    return None


def over(metric: str, value: float | None, threshold: int) -> bool:
    """Whether the value is past the threshold: above it, or for the service level below it."""
    if value is None:
        return False
    if metric == AlertMetric.SERVICE_LEVEL:
        return value < threshold
    return value > threshold
