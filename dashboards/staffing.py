"""How many counters a service needs, hour by hour, next week (seed §4.2.1, issue 9).

For one branch and one reception service:

1. arrivals (tickets issued) per hour of the chosen week, forecast from the last `weeks` whole
   weeks of hourly rollups (dashboards.forecast: weekly profile × trend of the weekly totals);
2. the handle time: the service's mean service time over the same history (served tickets),
   or, with none served, the service's configured expected minutes (the plan says which);
3. per opening hour, Erlang C (dashboards.erlang): the fewest counters that reach the target
   (default 80% called within 10 minutes), and for the counters planned (default: the counters
   at the branch that serve the service) the expected service level and mean wait.

Hours outside the opening hours with forecast arrivals are kept (customers came then before);
a holiday of the branch's calendar in the forecast week is closed: no arrivals, no counters.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bankservice.branches.models import Branch, CalendarDay, OpeningHours
from reception.selectors import staffing_services

from . import erlang, forecast
from .selectors import VIEW_KPIS, measure_table, scope_branch_ids

HOUR = 3600
DEFAULT_WEEKS = 8
DEFAULT_LEVEL = 0.8
DEFAULT_TARGET_SECONDS = 600


class StaffingError(ValueError):
    """A bad request: `field` names the input at fault."""

    def __init__(self, field_name: str, message: str):
        super().__init__(str(message))
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class HourPlan:
    day: dt.date
    hour: int
    open: bool  # within the branch's opening hours
    arrivals: float  # forecast tickets issued in the hour
    needed: int | None  # counters for the target; None: more than erlang.MAX_AGENTS
    needed_level: float | None  # the service level those counters give
    planned: int
    planned_level: float  # expected service level with the planned counters
    planned_wait_seconds: float  # expected mean wait (math.inf: the queue never empties)

    @property
    def misses(self) -> bool:
        return self.arrivals > 0 and (self.needed is None or self.planned < self.needed)


@dataclass
class StaffingPlan:
    branch_id: int
    service: str
    service_name: str
    week: dt.date  # its Monday
    weeks: int
    history_start: dt.date
    history_end: dt.date
    level: float
    target_seconds: float
    handle_seconds: float
    handle_from_history: bool  # False: the service's expected minutes
    served_in_history: int
    planned: int
    planned_default: bool  # the counters at the branch that serve the service
    closed_days: list[dt.date] = field(default_factory=list)
    hours: list[HourPlan] = field(default_factory=list)

    @property
    def total_arrivals(self) -> float:
        return sum(hour.arrivals for hour in self.hours)

    @property
    def counter_hours_needed(self) -> int | None:
        if any(hour.needed is None for hour in self.hours):
            return None
        return sum(hour.needed for hour in self.hours)

    @property
    def counter_hours_planned(self) -> int:
        return sum(hour.planned for hour in self.hours if hour.arrivals > 0 or hour.open)

    @property
    def hours_missing(self) -> int:
        return sum(1 for hour in self.hours if hour.misses)

    @property
    def planned_level(self) -> float | None:
        """The week's expected service level with the plan, weighted by arrivals."""
        total = self.total_arrivals
        if not total:
            return None
        return sum(hour.planned_level * hour.arrivals for hour in self.hours) / total

    def days(self) -> list[dt.date]:
        return [self.week + dt.timedelta(days=offset) for offset in range(7)]


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def next_monday(today: dt.date | None = None) -> dt.date:
    today = today or timezone.localdate()
    return today + dt.timedelta(days=7 - today.weekday())


def services_in_scope(principal, *, perm=VIEW_KPIS) -> list[dict]:
    """Every active reception service of the branches in scope (staffing_services' rows)."""
    return staffing_services(branch_ids=scope_branch_ids(principal, perm=perm))


def _open_hours(branch_id: int) -> dict[int, set[int]]:
    """Python weekday (Monday 0) -> hours of the day that overlap an opening interval."""
    hours: dict[int, set[int]] = {}
    for weekday, opens, closes in OpeningHours.objects.filter(branch_id=branch_id).values_list(
        "weekday", "opens_at", "closes_at"
    ):
        first = opens.hour
        last = (
            closes.hour
            if (closes.minute or closes.second or closes.microsecond)
            else closes.hour - 1
        )
        hours.setdefault(weekday - 1, set()).update(range(first, last + 1))
    return hours


def plan(
    principal,
    *,
    branch: int,
    service: str,
    week: dt.date,
    weeks: int = DEFAULT_WEEKS,
    level: float = DEFAULT_LEVEL,
    target_seconds: float = DEFAULT_TARGET_SECONDS,
    planned: int | None = None,
    perm=VIEW_KPIS,
) -> StaffingPlan:
    """The staffing plan of one service at one branch of the principal's scope for the week
    holding `week`. StaffingError for a branch out of scope or a service it does not have."""
    if branch not in scope_branch_ids(principal, perm=perm, branch=branch):
        raise StaffingError("branch", _("This branch is not in your scope."))
    info = next(
        (row for row in staffing_services(branch_ids=[branch]) if row["code"] == service), None
    )
    if info is None:
        raise StaffingError("service", _("The branch has no active service with this code."))
    week = monday(week)
    history_start = week - dt.timedelta(weeks=weeks)
    history_end = week - dt.timedelta(days=1)
    rows = measure_table(
        principal,
        start=history_start,
        end=history_end,
        by=("day", "hour"),
        branch=branch,
        service=service,
        perm=perm,
        histograms=False,
    )
    history = {}
    served = 0
    service_seconds = 0.0
    for row in rows:
        history[(row.key["day"], row.key["hour"])] = row.measures["tickets_issued"]
        served += row.measures["served"]
        service_seconds += row.measures["service_seconds"]
    if served:
        handle, from_history = service_seconds / served, True
    else:
        handle, from_history = info["expected_service_minutes"] * 60.0, False
    days = [week + dt.timedelta(days=offset) for offset in range(7)]
    arrivals = forecast.forecast_arrivals(
        history, history_start=history_start, weeks=weeks, days=days
    )
    calendar_id = Branch.objects.filter(id=branch).values_list("calendar_id", flat=True).first()
    closed = set(
        CalendarDay.objects.filter(
            calendar_id=calendar_id, kind=CalendarDay.Kind.HOLIDAY, date__in=days
        ).values_list("date", flat=True)
    )
    open_hours = _open_hours(branch)
    planned_default = planned is None
    counters = info["counters"] if planned is None else planned
    result = StaffingPlan(
        branch_id=branch,
        service=service,
        service_name=info["name"],
        week=week,
        weeks=weeks,
        history_start=history_start,
        history_end=history_end,
        level=level,
        target_seconds=target_seconds,
        handle_seconds=handle,
        handle_from_history=from_history,
        served_in_history=served,
        planned=counters,
        planned_default=planned_default,
        closed_days=sorted(closed),
    )
    for day in days:
        if day in closed:
            continue
        hours = open_hours.get(day.weekday(), set()) | {
            hour for (when, hour), count in arrivals.items() if when == day and count > 0
        }
        for hour in sorted(hours):
            expected = arrivals.get((day, hour), 0.0)
            options = {
                "arrivals": expected,
                "handle_seconds": handle,
                "interval_seconds": HOUR,
                "target_seconds": target_seconds,
            }
            try:
                needed = erlang.agents_needed(level=level, **options)
                needed_agents, needed_level = needed.agents, needed.service_level
            except ValueError:  # beyond erlang.MAX_AGENTS
                needed_agents, needed_level = None, None
            at_plan = erlang.staffing(counters, **options)
            result.hours.append(
                HourPlan(
                    day=day,
                    hour=hour,
                    open=hour in open_hours.get(day.weekday(), set()),
                    arrivals=expected,
                    needed=needed_agents,
                    needed_level=needed_level,
                    planned=counters,
                    planned_level=at_plan.service_level,
                    planned_wait_seconds=at_plan.mean_wait_seconds,
                )
            )
    return result


def finite(value: float) -> float | None:
    """None for an infinite wait (JSON has no infinity)."""
    return None if value is None or math.isinf(value) else value
