"""The dashboards' measures of complaints (issue 9), counted in SQL by
`bankservice.core.measures`, under the complaint's category code.

- ``complaints_received``: at `received_at`, under the staff member complained about. A merged
  complaint is left out: it is counted once, as the complaint it was merged into (as in the
  complaint reports, complaints/reporting.py). Until it is merged it counts; a day's rollup made
  before the merge counts it until that day is rolled up again.
- ``complaints_closed`` and ``complaints_within_deadline``: at `decided_at`, under the complaint
  officer it is assigned to. *Closed* means decided (resolved, upheld, partially upheld,
  rejected) with every regulatory obligation clock settled; withdrawn and merged complaints
  were not decided and their clocks were cancelled, not met, so they are not counted. A
  reopened complaint loses its `decided_at` and counts again when it is decided again.
  *Within deadline* is the complaint reports' "within": no obligation clock late and none still
  running (complaints.selectors.with_deadline_outcome, reused as it is). Closed counts the
  decided complaints that are within or late, not those still pending, so the rate
  within / closed is the reports' within / (within + late).
"""

from __future__ import annotations

from django.db.models import Count, Q

from bankservice.core.measures import Fact, stage_measures

from .models import DECIDED_STATUSES, Complaint, ComplaintStatus
from .selectors import with_deadline_outcome

# Every obligation settled: late (whatever still runs) or nothing running.
SETTLED = Q(late=True) | Q(running=False)
WITHIN = Q(late=False, running=False)


def facts(*, now=None) -> list[Fact]:
    """`now`: the moment an open obligation clock past its due time counts as late at."""
    received = Complaint.objects.exclude(status=ComplaintStatus.MERGED)
    decided = with_deadline_outcome(Complaint.objects.filter(status__in=DECIDED_STATUSES), now=now)
    return [
        Fact(
            queryset=received,
            at="received_at",
            service="category__code",
            staff="staff_complained_about_id",
            sums={"complaints_received": Count("pk")},
        ),
        Fact(
            queryset=decided,
            at="decided_at",
            service="category__code",
            staff="assigned_to_id",
            sums={
                "complaints_closed": Count("pk", filter=SETTLED),
                "complaints_within_deadline": Count("pk", filter=WITHIN),
            },
        ),
    ]


# What the dashboards call (bankservice.core.measures.stage_measures).
measure_rows = stage_measures(facts)
