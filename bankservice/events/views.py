"""The audit trail: every recorded change, filterable, exportable as CSV."""

import csv

from django.core.paginator import Paginator
from django.db import transaction
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from bankservice.core.decorators import require_perm

from .filters import EventFilter
from .selectors import AUDIT_PERM, event_list
from .services import record

PAGE_SIZE = 50
CSV_COLUMNS = [
    "id",
    "occurred_at",
    "type",
    "actor",
    "branch",
    "customer",
    "subject_type",
    "subject_id",
    "payload",
]


@require_perm(AUDIT_PERM)
def audit_trail(request):
    """Events within the auditor's or manager's scope, newest first."""
    filterset = EventFilter(request.GET, queryset=event_list(principal=request.user))
    events = filterset.qs.order_by("-id") if filterset.is_valid() else filterset.queryset.none()
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "events/audit.html", {"filter": filterset, "page": page})


class _Echo:
    def write(self, value):
        return value


def _rows(events):
    yield CSV_COLUMNS
    for event in events.iterator(chunk_size=2000):
        yield [
            event.pk,
            event.occurred_at.isoformat(),
            event.type,
            event.actor_label,
            event.branch.code if event.branch else "",
            event.customer_id or "",
            f"{event.subject_type.app_label}.{event.subject_type.model}"
            if event.subject_type
            else "",
            event.subject_id,
            event.payload,
        ]


@require_perm(AUDIT_PERM)
def audit_export(request):
    """The filtered audit trail as CSV, streamed; the export itself is recorded."""
    filterset = EventFilter(request.GET, queryset=event_list(principal=request.user))
    events = filterset.qs.order_by("id") if filterset.is_valid() else filterset.queryset.none()
    with transaction.atomic():
        record(
            type="audit.exported",
            actor=request.user,
            payload={"filters": {k: v for k, v in request.GET.items() if v}},
        )
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in _rows(events)), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response
