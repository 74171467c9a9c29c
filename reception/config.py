"""Per-branch reception configuration, kept in each process: opening hours, the priority rule
and the counters' services are read by every issue and call-next but change rarely.

A change is seen at once by every process. One version in the shared cache names the current
configuration; each process keeps what it read under that version and drops all of it when the
version changes, so a read costs one cache round trip instead of its queries. Saving or deleting
any row the configuration is read from (signals, connected in apps.py) sets a new version twice:
at once, so this process and its open transaction see the change, and after commit, because
another process may have read the old rows in between and kept them under the first new
version. A reader reads the version before the rows, so what it keeps under a version was read
after that version was set.

Writes that send no signals (`QuerySet.update`, `bulk_create`, raw SQL) must call
`reception_config_changed()` themselves. One case is left open: a transaction that changes the
configuration, then reads it (an issue or a call in the same transaction) and then rolls back
leaves its process with what it read until the next change. No service or page does that.
"""

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from bankservice.branches.models import Branch, BusinessCalendar, CalendarDay, OpeningHours
from bankservice.sla.clock import BusinessClock

from .models import Counter, CounterService, PriorityRule

VERSION_KEY = "reception:config:version"


class _ProcessCache:
    """What this process read, and the version it read it at, as one pair: threads replace the
    pair at once, never one half of it."""

    state: tuple[str | None, dict[tuple, Any]] = (None, {})


_process = _ProcessCache()


def _current_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def _cached(key: tuple, build: Callable[[], Any]) -> Any:
    version = _current_version()
    seen, values = _process.state
    if seen != version:
        values = {}
        _process.state = (version, values)
    try:
        return values[key]
    except KeyError:
        value = values[key] = build()
        return value


def reception_config_changed(**_signal) -> None:
    """Every process reads the configuration afresh (now, and again once this commits)."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    transaction.on_commit(lambda: cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None))


def connect_signals() -> None:
    """Called once from ReceptionConfig.ready()."""
    for model in (
        Branch,
        BusinessCalendar,
        CalendarDay,
        OpeningHours,
        PriorityRule,
        CounterService,
    ):
        uid = f"reception-config-{model._meta.label_lower}"
        post_save.connect(reception_config_changed, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(reception_config_changed, sender=model, dispatch_uid=f"{uid}-delete")
    # counter.services.add()/set() write the links with bulk_create: no post_save.
    m2m_changed.connect(
        reception_config_changed, sender=Counter.services.through, dispatch_uid="reception-m2m"
    )


# --- What is cached ------------------------------------------------------------------------------


def opening_hours(branch, day: dt.date) -> tuple[tuple[dt.time, dt.time], ...]:
    """The branch's opening intervals on `day` (its calendar and weekly hours)."""
    return _cached(
        ("hours", branch.pk, day),
        lambda: tuple(BusinessClock.for_branch(branch).opening_hours(day)),
    )


def priority_rule(branch_id: int) -> PriorityRule:
    """The branch's rule, or the defaults when it has none. Shared: do not change it."""
    return _cached(
        ("rule", branch_id),
        lambda: (
            PriorityRule.objects.filter(branch_id=branch_id).first()
            or PriorityRule(branch_id=branch_id)
        ),
    )


def counter_services(counter_id: int) -> tuple[tuple[int, int], ...]:
    """(service type id, preference) of each service the counter serves."""
    return _cached(
        ("services", counter_id),
        lambda: tuple(
            CounterService.objects.filter(counter_id=counter_id)
            .order_by("preference")
            .values_list("service_type_id", "preference")
        ),
    )
