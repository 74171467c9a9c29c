"""Complaint reports (read only, scoped to where the reader holds complaints.export_complaint).

A report covers the complaints *received* in a period: from the first day's midnight to the end
of the last day, in the bank's time zone (settings.TIME_ZONE). Merged complaints are left out:
each is counted once, as the complaint it was merged into.

- ``breakdown``: per category, channel, product, branch or region, how many were received and how
  many were handled within their deadlines. *Within* means every regulatory obligation clock of
  the complaint (not a window) was met at or before its due time (an approved extension moves
  the due time); *late* that one was met after it, or is unmet past it; *pending* that one still
  runs inside its time and none is late. The rate is within / (within + late): pending complaints
  are shown apart, not counted either way (selectors.with_deadline_outcome).
- ``root_cause_pareto``: root causes by count, with share and cumulative share.
- ``repeats_after_actions``: for each completed corrective action, the complaints received at
  its branch in the category of its complaint after it was completed (in the period).
"""

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from bankservice.core.language import in_language

from .models import ActionStatus, Channel, Complaint, ComplaintStatus
from .selectors import action_list, complaint_list, with_deadline_outcome

EXPORT_PERM = "complaints.export_complaint"

# Dimension -> (the label of the choice, the grouping columns: key, Chinese name, English name).
DIMENSIONS = {
    "category": (_("Category"), ("category__code", "category__name_zh", "category__name_en")),
    "channel": (_("Channel"), ("channel", None, None)),
    "product": (_("Product"), ("product__code", "product__name_zh", "product__name_en")),
    "branch": (_("Branch"), ("branch__code", "branch__name", "branch__name")),
    "region": (_("Region"), ("branch__region__code", "branch__region__name", None)),
}
_HUNDRED = Decimal(100)


@dataclass
class Row:
    key: str
    label: str
    total: int = 0
    within: int = 0
    late: int = 0
    pending: int = 0

    @property
    def within_rate(self) -> Decimal | None:
        """Percent within deadline of those whose outcome is known (None when none is)."""
        known = self.within + self.late
        return _percent(self.within, known) if known else None


@dataclass
class Breakdown:
    dimension: str
    rows: list[Row]
    total: Row = field(default_factory=lambda: Row(key="", label=str(_("Total"))))


@dataclass
class ParetoRow:
    code: str
    label: str
    count: int
    share: Decimal  # percent of the complaints with a root cause
    cumulative: Decimal


@dataclass
class RepeatGroup:
    action: object  # CorrectiveAction
    complaints: list[Complaint]


def period_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, the day after end 00:00) in the bank's time zone, as aware datetimes."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return (
        dt.datetime.combine(start, dt.time(), tzinfo=zone),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone),
    )


def period_complaints(principal, start: dt.date, end: dt.date) -> QuerySet[Complaint]:
    """Complaints received in the period at the reader's branches, merged ones left out."""
    since, until = period_bounds(start, end)
    return (
        complaint_list(principal, EXPORT_PERM)
        .filter(received_at__gte=since, received_at__lt=until)
        .exclude(status=ComplaintStatus.MERGED)
    )


def breakdown(principal, start: dt.date, end: dt.date, dimension: str, *, now=None) -> Breakdown:
    """Counts and within-deadline rates per value of ``dimension`` (one query, plus the packs'
    obligation clocks), largest first, with the total."""
    key, name_zh, name_en = DIMENSIONS[dimension][1]
    complaints = with_deadline_outcome(period_complaints(principal, start, end), now=now)
    columns = [column for column in (key, name_zh, name_en) if column]
    grouped = (
        complaints.order_by()
        .values(*dict.fromkeys(columns))
        .annotate(
            n=Count("pk"),
            n_late=Count("pk", filter=Q(late=True)),
            n_pending=Count("pk", filter=Q(late=False, running=True)),
        )
    )
    channels = dict(Channel.choices)
    result = Breakdown(dimension=dimension, rows=[])
    for values in grouped:
        code = values[key]
        if dimension == "channel":
            label = str(channels.get(code, code))
        elif code is None:
            label = str(_("None given"))
        else:
            label = in_language(values[name_zh], values[name_en] if name_en else values[name_zh])
        row = Row(
            key=code or "",
            label=label,
            total=values["n"],
            late=values["n_late"],
            pending=values["n_pending"],
        )
        row.within = row.total - row.late - row.pending
        result.rows.append(row)
        for name in ("total", "within", "late", "pending"):
            setattr(result.total, name, getattr(result.total, name) + getattr(row, name))
    result.rows.sort(key=lambda row: (-row.total, row.key))
    return result


def root_cause_pareto(principal, start: dt.date, end: dt.date) -> tuple[list[ParetoRow], int]:
    """Root causes of the period's complaints, most frequent first (ties by code), with each
    one's share of the complaints that have a root cause and the running total; and how many
    complaints have none recorded yet."""
    complaints = period_complaints(principal, start, end).order_by()
    counts = list(
        complaints.filter(root_cause__isnull=False)
        .values("root_cause__code", "root_cause__name_zh", "root_cause__name_en")
        .annotate(n=Count("pk"))
    )
    counts.sort(key=lambda values: (-values["n"], values["root_cause__code"]))
    with_cause = sum(values["n"] for values in counts)
    rows, running = [], 0
    for values in counts:
        running += values["n"]
        rows.append(
            ParetoRow(
                code=values["root_cause__code"],
                label=in_language(values["root_cause__name_zh"], values["root_cause__name_en"]),
                count=values["n"],
                share=_percent(values["n"], with_cause),
                cumulative=_percent(running, with_cause),
            )
        )
    without = complaints.filter(root_cause__isnull=True).count()
    return rows, without


def repeats_after_actions(principal, start: dt.date, end: dt.date) -> list[RepeatGroup]:
    """Completed corrective actions followed by complaints at their branch in their complaint's
    category (received in the period, after the completion): whether the action worked.
    Only actions with such complaints are listed, latest completed first. Two queries."""
    actions = list(
        action_list(principal, EXPORT_PERM)
        .filter(status=ActionStatus.DONE, completed_at__isnull=False)
        .order_by("-completed_at", "-id")
    )
    if not actions:
        return []
    complaints = list(
        period_complaints(principal, start, end)
        .filter(
            branch_id__in={a.branch_id for a in actions},
            category_id__in={a.complaint.category_id for a in actions},
            received_at__gt=min(a.completed_at for a in actions),
        )
        .order_by("received_at", "id")
    )
    groups = []
    for corrective_action in actions:
        after = [
            complaint
            for complaint in complaints
            if complaint.branch_id == corrective_action.branch_id
            and complaint.category_id == corrective_action.complaint.category_id
            and complaint.received_at > corrective_action.completed_at
        ]
        if after:
            groups.append(RepeatGroup(action=corrective_action, complaints=after))
    return groups


def _percent(part: int, whole: int) -> Decimal:
    return (Decimal(part) * _HUNDRED / Decimal(whole)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )
