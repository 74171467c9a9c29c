"""Reads for reception: queues, estimated waits, the floor view and the display board feed."""

import datetime as dt
import uuid
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Avg, Count, Exists, F, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import AT_COUNTER_STATES, Counter, CounterState, ServiceType, Ticket, TicketStatus

# Recent service times set the estimate; older ones say little about today's staff and mix.
RECENT_SERVICES = 30


def ticket_list(*, principal, perm: str = "reception.view_ticket"):
    return Ticket.objects.visible_to(principal, perm).select_related(
        "service_type", "counter", "visit__customer", "branch"
    )


def counter_list(*, principal, perm: str = "reception.view_counter"):
    return (
        Counter.objects.visible_to(principal, perm)
        .select_related("branch", "staff")
        .prefetch_related("service_links__service_type")
    )


def service_type_list(*, principal, perm: str = "reception.view_servicetype"):
    return ServiceType.objects.visible_to(principal, perm).select_related("branch")


def mean_service_time(service_type: ServiceType) -> dt.timedelta:
    """The mean of the service's last RECENT_SERVICES completed tickets at its branch, or the
    configured expectation when there is no history yet."""
    recent = (
        Ticket.objects.filter(
            service_type=service_type,
            status=TicketStatus.COMPLETED,
            serving_started_at__isnull=False,
        )
        .order_by("-finished_at")
        .values_list("serving_started_at", "finished_at")[:RECENT_SERVICES]
    )
    durations = [finished - started for started, finished in recent]
    if not durations:
        return dt.timedelta(minutes=service_type.expected_service_minutes)
    return sum(durations, dt.timedelta()) / len(durations)


@dataclass(frozen=True)
class QueuePosition:
    ahead: int
    estimated_wait: dt.timedelta


def _counters_for(service_type: ServiceType) -> tuple[int, int]:
    """(open counters serving the service, of which idle)."""
    # EXISTS on the partial unique index "one ticket per counter": a COUNT over the counters'
    # tickets would read every ticket they ever served.
    at_counter = Ticket.objects.filter(counter=OuterRef("pk"), status__in=AT_COUNTER_STATES)
    busy = list(
        Counter.objects.filter(service_links__service_type=service_type, state=CounterState.OPEN)
        .annotate(busy=Exists(at_counter))
        .values_list("busy", flat=True)
    )
    return len(busy), busy.count(False)


def estimate_wait(*, ahead: int, open_counters: int, idle_counters: int, mean: dt.timedelta):
    """Expected wait of a customer with `ahead` people before them in the queue.

    Idle counters take the first people at once. Otherwise every counter is busy, and the
    first of them frees up sooner than one service's remaining half: of `c` counters at random
    points of their services, the first finishes after mean/(c + 1) on average (steady service
    times; mean/c for exponential ones). The queue then moves at `open_counters` customers per
    `mean`. tests/reception/test_estimate.py checks this against a simulated queue.
    """
    if ahead < idle_counters:
        return dt.timedelta()
    servers = max(open_counters, 1)
    return mean * ((ahead - idle_counters) / servers + 1 / (servers + 1))


def ticket_position(ticket: Ticket) -> QueuePosition | None:
    """Where a waiting ticket stands in its service's queue, and how long it should wait."""
    if ticket.status != TicketStatus.WAITING:
        return None
    ahead = Ticket.objects.filter(
        service_type_id=ticket.service_type_id, status=TicketStatus.WAITING
    ).filter(
        Q(priority_at__lt=ticket.priority_at) | Q(priority_at=ticket.priority_at, id__lt=ticket.pk)
    )
    ahead = ahead.count()
    open_counters, idle = _counters_for(ticket.service_type)
    wait = estimate_wait(
        ahead=ahead,
        open_counters=open_counters,
        idle_counters=idle,
        mean=mean_service_time(ticket.service_type),
    )
    return QueuePosition(ahead=ahead, estimated_wait=wait)


@dataclass(frozen=True)
class ServiceQueue:
    service_type: ServiceType
    waiting: int
    longest_wait: dt.timedelta
    over_target: bool


def floor_summary(*, branch, now: dt.datetime | None = None) -> list[ServiceQueue]:
    """Waiting now per service with the longest wait (the greeter's floor view)."""
    now = now or timezone.now()
    # Subqueries on the waiting-queue index: an aggregate over a join with the services'
    # tickets would read their whole history on every board refresh.
    waiting = Ticket.objects.filter(service_type=OuterRef("pk"), status=TicketStatus.WAITING)
    services = ServiceType.objects.filter(branch=branch, is_active=True).annotate(
        waiting=Coalesce(
            Subquery(waiting.order_by().values("service_type").annotate(n=Count("pk")).values("n")),
            0,
        ),
        oldest=Subquery(waiting.order_by("arrived_at").values("arrived_at")[:1]),
    )
    rows = []
    for service in services:
        longest = now - service.oldest if service.oldest else dt.timedelta()
        rows.append(
            ServiceQueue(
                service_type=service,
                waiting=service.waiting,
                longest_wait=longest,
                over_target=longest > dt.timedelta(minutes=service.target_wait_minutes),
            )
        )
    return rows


def waiting_tickets(*, branch):
    """Everyone waiting or parked at the branch, in queue order, with their customers."""
    return (
        Ticket.objects.filter(branch=branch, status__in=[TicketStatus.WAITING, TicketStatus.PARKED])
        .select_related("service_type", "visit__customer", "reserved_counter")
        .order_by("priority_at", "id")
    )


def recent_service_seconds(*, branch) -> float | None:
    """Mean service seconds of the branch's completed tickets today (for the floor view)."""
    today = timezone.localdate(timezone.now(), branch.zone)
    mean = Ticket.objects.filter(
        branch=branch,
        business_date=today,
        status=TicketStatus.COMPLETED,
        serving_started_at__isnull=False,
    ).aggregate(mean=Avg(F("finished_at") - F("serving_started_at")))["mean"]
    return mean.total_seconds() if mean else None


# --- The display board ------------------------------------------------------------------------
# Boards poll every ~2 s. The feed is cached per branch under a version number that every change
# bumps (after commit): a board that already has the current version gets 304 from the cache
# alone, without a database query.

BOARD_LAST_CALLS = 8


def _version_key(branch_id: int) -> str:
    return f"reception:board:{branch_id}:version"


def board_version(branch_id: int) -> str:
    version = cache.get(_version_key(branch_id))
    if version is None:
        cache.add(_version_key(branch_id), uuid.uuid4().hex, timeout=None)
        version = cache.get(_version_key(branch_id))
    return version


def board_bump_version(branch_id: int) -> None:
    # A fresh unique value, not an increment: the file cache's incr is a read then a write, and
    # boards only compare versions for equality.
    cache.set(_version_key(branch_id), uuid.uuid4().hex, timeout=None)


def board_feed(*, branch) -> dict:
    """What a board shows: now serving, the last calls, waiting counts; cached per version."""
    version = board_version(branch.pk)
    key = f"reception:board:{branch.pk}:feed:{version}"
    feed = cache.get(key)
    if feed is None:
        feed = _build_board_feed(branch, version)
        cache.set(key, feed, timeout=600)
    return feed


def _build_board_feed(branch, version: int) -> dict:
    today = timezone.localdate(timezone.now(), branch.zone)
    calls = (
        Ticket.objects.filter(
            branch=branch,
            business_date=today,
            called_at__isnull=False,
            counter__isnull=False,
        )
        .select_related("counter")
        .order_by("-called_at")[:BOARD_LAST_CALLS]
    )
    calls = [
        {
            "number": t.number,
            "counter": t.counter.number,
            "called_at": t.called_at.isoformat(),
            "recall": t.recall_count,
            "serving_now": t.status in AT_COUNTER_STATES,
        }
        for t in calls
    ]
    waiting = [
        {
            "service": s.service_type.code,
            "name_zh": s.service_type.name_zh,
            "name_en": s.service_type.name_en,
            "prefix": s.service_type.prefix,
            "waiting": s.waiting,
        }
        for s in floor_summary(branch=branch)
    ]
    return {
        "version": version,
        "branch": branch.code,
        "now_serving": [c for c in calls if c["serving_now"]],
        "last_calls": calls,
        "waiting": waiting,
    }


def ticket_visit_ids(ticket_ids) -> dict[int, int]:
    """The visit of each ticket, by id, unscoped: for another stage reacting to ticket events
    (care's surveys tie an answer to its visit), never for showing tickets."""
    return dict(Ticket.objects.filter(pk__in=ticket_ids).values_list("pk", "visit_id"))


def staffing_services(*, branch_ids) -> list[dict]:
    """The active services of these branches, for the dashboards' staffing page (unscoped: the
    caller passes the branches in its scope): branch id, code, name in the active language,
    target wait and expected service time (minutes), and the counters that serve each."""
    services = (
        ServiceType.objects.filter(branch_id__in=branch_ids, is_active=True)
        .annotate(counters_serving=Count("counters", distinct=True))
        .order_by("branch_id", "sort_order", "code")
    )
    return [
        {
            "branch": service.branch_id,
            "code": service.code,
            "name": service.name,
            "target_wait_minutes": service.target_wait_minutes,
            "expected_service_minutes": service.expected_service_minutes,
            "counters": service.counters_serving,
        }
        for service in services
    ]


# --- The dashboards' live monitor ---------------------------------------------------------------


def live_queues(*, branch_ids, using: str = "default") -> list[dict]:
    """Waiting now per active service of the branches: one row per service (zero when nobody
    waits) with `branch`, `service` (code), `name_en`, `name_zh`, `target_wait_minutes`,
    `waiting` and `oldest` (the earliest arrival still waiting, or None). Two queries, however
    many branches and services: the counts are one GROUP BY over the waiting-queue index."""
    branch_ids = list(branch_ids)
    waiting = {
        service_id: (count, oldest)
        for service_id, count, oldest in Ticket.objects.using(using)
        .filter(branch_id__in=branch_ids, status=TicketStatus.WAITING)
        .order_by()
        .values("service_type_id")
        .annotate(n=Count("pk"), oldest=Min("arrived_at"))
        .values_list("service_type_id", "n", "oldest")
    }
    services = (
        ServiceType.objects.using(using)
        .filter(branch_id__in=branch_ids, is_active=True)
        .order_by("branch_id", "sort_order", "code")
        .values_list("pk", "branch_id", "code", "name_en", "name_zh", "target_wait_minutes")
    )
    rows = []
    for pk, branch_id, code, name_en, name_zh, target in services:
        count, oldest = waiting.get(pk, (0, None))
        rows.append(
            {
                "branch": branch_id,
                "service": code,
                "name_en": name_en,
                "name_zh": name_zh,
                "target_wait_minutes": target,
                "waiting": count,
                "oldest": oldest,
            }
        )
    return rows


def live_counters(*, branch_ids, using: str = "default") -> dict[int, dict[str, int]]:
    """Counters of each branch by state now: `open`, `paused`, `closed`, and `busy` (open or
    paused with a ticket called or being served at it). One query."""
    at_counter = Ticket.objects.filter(counter=OuterRef("pk"), status__in=AT_COUNTER_STATES)
    rows = (
        Counter.objects.using(using)
        .filter(branch_id__in=list(branch_ids))
        .annotate(busy=Exists(at_counter))
        .order_by()
        .values("branch_id")
        .annotate(
            open=Count("pk", filter=Q(state=CounterState.OPEN)),
            paused=Count("pk", filter=Q(state=CounterState.PAUSED)),
            closed=Count("pk", filter=Q(state=CounterState.CLOSED)),
            busy_count=Count("pk", filter=Q(busy=True)),
        )
    )
    return {
        row["branch_id"]: {
            "open": row["open"],
            "paused": row["paused"],
            "closed": row["closed"],
            "busy": row["busy_count"],
        }
        for row in rows
    }
