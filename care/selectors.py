"""Reads for callbacks: lists scoped to the principal's branches, the care agent's worklist, one
callback with its access check (another branch's callback is a 404, not a 403)."""

import datetime as dt

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import OPEN_CALLBACK_STATES, Callback, CallbackStatus

VIEW_PERM = "care.view_callback"
WORKLISTS = ("today", "overdue", "mine")
# The most urgent first: priority, then the soonest due; branch and id keep the order stable.
WORK_ORDER = ("priority", "due_at", "branch_id", "id")


def callback_list(principal, perm: str = VIEW_PERM) -> QuerySet[Callback]:
    """Callbacks at the branches where the principal holds `perm`, with what a list shows."""
    return Callback.objects.visible_to(principal, perm).select_related(
        "branch", "customer", "claimed_by", "rule"
    )


def worklist(
    principal,
    which: str = "today",
    *,
    branch=None,
    priority=None,
    now: dt.datetime | None = None,
) -> QuerySet[Callback]:
    """A care agent's list, most urgent first (priority, then due time):

    - "today": open or claimed callbacks due on today's date (in the current time zone, the
      user's branch's), including those of today already past due;
    - "overdue": open or claimed callbacks past their due time, whatever the day;
    - "mine": the callbacks the principal has claimed.

    Narrowed to one branch (a Branch or its id) and one priority when given."""
    if which not in WORKLISTS:
        raise ValueError(which)
    now = now or timezone.now()
    callbacks = callback_list(principal)
    if which == "mine":
        callbacks = callbacks.filter(status=CallbackStatus.CLAIMED, claimed_by_id=principal.pk)
    else:
        callbacks = callbacks.filter(status__in=OPEN_CALLBACK_STATES)
        if which == "today":
            start = dt.datetime.combine(
                timezone.localdate(now), dt.time(0), tzinfo=timezone.get_current_timezone()
            )
            callbacks = callbacks.filter(due_at__gte=start, due_at__lt=_next_midnight(start))
        else:
            callbacks = callbacks.filter(due_at__lt=now)
    if branch is not None:
        callbacks = callbacks.filter(branch_id=getattr(branch, "pk", branch))
    if priority not in (None, ""):
        callbacks = callbacks.filter(priority=int(priority))
    return callbacks.order_by(*WORK_ORDER)


def _next_midnight(start: dt.datetime) -> dt.datetime:
    """Midnight of the local day after `start` (a day is 23 or 25 hours across a DST change)."""
    next_date = (start + dt.timedelta(days=1, hours=12)).date()
    return dt.datetime.combine(next_date, dt.time(0), tzinfo=start.tzinfo)


def callback_get(principal, callback_id, perm: str = VIEW_PERM) -> Callback:
    """One callback the principal may see (or work, with perm="care.work_callback"); a callback
    of another branch, or one that does not exist, is a 404."""
    try:
        return (
            callback_list(principal, perm)
            .select_related("customer__home_branch")
            .get(pk=int(callback_id))
        )
    except (Callback.DoesNotExist, ValueError, TypeError):
        raise Http404(_("No such callback.")) from None
