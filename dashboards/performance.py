"""Staff performance for incentives (issue 9; seed §7.2.3), with the caveats beside the numbers.

One row per member of staff in the principal's scope (VIEW_STAFF): served and mean service time,
CSAT (with how many answered), complaints about them, callbacks done, requests finished and their
rework rate. Numbers alone are unfair to people, so each row carries:

- **volume**: fewer than MIN_SERVED served (or MIN_ANSWERS survey answers) is too few to judge;
  the page says so instead of showing a comparison;
- **mix of services**: a teller doing only complex account openings serves slower than one doing
  cash. Each row shows the person's top services with their share against the branch's share,
  and a mix-adjusted expected service time: for every (branch, service) they served, their count
  times that branch's mean service time for that service (everyone's, them included). The ratio
  actual / expected says whether they are slower or faster *for the work they did*;
- **the period** the numbers cover (shown by the page).

Rows are sorted by name, never by rank.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .selectors import VIEW_STAFF, measure_table

MIN_SERVED = 30  # fewer served: too few to judge service time or complaint counts
MIN_ANSWERS = 10  # fewer survey answers: too few to judge satisfaction
TOP_SERVICES = 3


@dataclass
class ServiceShare:
    service: str
    served: int
    share: float  # of the person's served
    branch_share: float | None  # of everyone's served at the branches the person served at


@dataclass
class StaffPerformance:
    staff_id: int
    name: str
    served: int = 0
    service_seconds: float = 0.0
    csat_answers: int = 0
    csat_sum: int = 0
    complaints: int = 0
    callbacks_done: int = 0
    callbacks_closed: int = 0
    requests_finished: int = 0
    requests_reworked: int = 0
    # Seconds the person's services would have taken at their branches' mean per service.
    expected_seconds: float = 0.0
    services: list[ServiceShare] = field(default_factory=list)

    @property
    def service_mean(self) -> float | None:
        return self.service_seconds / self.served if self.served else None

    @property
    def expected_service_mean(self) -> float | None:
        return self.expected_seconds / self.served if self.served else None

    @property
    def mix_ratio(self) -> float | None:
        """Actual over mix-adjusted expected service time (1.0: as fast as the branch)."""
        return self.service_seconds / self.expected_seconds if self.expected_seconds else None

    @property
    def csat_mean(self) -> float | None:
        return self.csat_sum / self.csat_answers if self.csat_answers else None

    @property
    def rework_rate(self) -> float | None:
        return self.requests_reworked / self.requests_finished if self.requests_finished else None

    @property
    def too_few_served(self) -> bool:
        return self.served < MIN_SERVED

    @property
    def too_few_answers(self) -> bool:
        return self.csat_answers < MIN_ANSWERS

    @property
    def top_services(self) -> list[ServiceShare]:
        return self.services[:TOP_SERVICES]


_SUMMED = (
    "served",
    "service_seconds",
    "csat_answers",
    "csat_sum",
    "callbacks_done",
    "callbacks_closed",
    "requests_finished",
    "requests_reworked",
)


def staff_performance(
    principal,
    *,
    start: dt.date,
    end: dt.date,
    region=None,
    branch=None,
    service=None,
    perm=VIEW_STAFF,
) -> list[StaffPerformance]:
    """The performance of every member of staff with figures in the scope and period, by name.

    One rollup query by (branch, service, staff): the branch's means per service are the sums
    over its staff (the rows without a staff member included)."""
    rows = measure_table(
        principal,
        start=start,
        end=end,
        by=("branch", "service", "staff"),
        region=region,
        branch=branch,
        service=service,
        perm=perm,
        histograms=False,
    )
    # Everyone's served and service seconds per (branch, service), and served per branch.
    reference: dict[tuple[int, str], list[float]] = {}
    for row in rows:
        totals = reference.setdefault((row.key["branch"], row.key["service"]), [0, 0.0])
        totals[0] += row.measures["served"]
        totals[1] += row.measures["service_seconds"]

    people: dict[int, StaffPerformance] = {}
    served_at: dict[int, dict[tuple[int, str], int]] = {}
    for row in rows:
        staff_id = row.key["staff"]
        if staff_id is None:
            continue
        person = people.get(staff_id)
        if person is None:
            person = people[staff_id] = StaffPerformance(staff_id, row.labels["staff"])
        measures = row.measures
        for name in _SUMMED:
            setattr(person, name, getattr(person, name) + measures[name])
        person.complaints += measures["complaints_received"]  # the staff complained about
        served = measures["served"]
        if served:
            place = (row.key["branch"], row.key["service"])
            served_at.setdefault(staff_id, {})[place] = served
            branch_served, branch_seconds = reference[place]
            person.expected_seconds += served * branch_seconds / branch_served

    for staff_id, places in served_at.items():
        person = people[staff_id]
        branches = {branch_id for branch_id, _service in places}
        mine: dict[str, int] = {}
        for (_branch, code), served in places.items():
            mine[code] = mine.get(code, 0) + served
        theirs: dict[str, float] = {}
        for (branch_id, code), (served, _seconds) in reference.items():
            if branch_id in branches:
                theirs[code] = theirs.get(code, 0) + served
        branch_total = sum(theirs.values())
        person.services = sorted(
            (
                ServiceShare(
                    service=code,
                    served=served,
                    share=served / person.served,
                    branch_share=theirs.get(code, 0) / branch_total if branch_total else None,
                )
                for code, served in mine.items()
            ),
            key=lambda share: (-share.served, share.service),
        )
    return sorted(people.values(), key=lambda person: (person.name.casefold(), person.staff_id))
