"""Staff reception pages: the greeter's floor view (watch the queues, issue tickets) and the
counter console (sign in, call, serve, transfer, park).

Pages read through the selectors, scoped to the user's branches: anything outside them is a
404. Every action is a POST that calls one service and redirects back (PRG); a step the service
refuses (DomainError, Conflict) comes back as a message on the page, never as an error page.
"""

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Min, Prefetch, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from bankservice.branches.models import Branch
from bankservice.branches.scope import can_act_at
from bankservice.core.decorators import require_perm
from bankservice.core.errors import DomainError

from .forms import CompleteForm, IssueTicketForm, TransferForm
from .models import (
    AT_COUNTER_STATES,
    Counter,
    CounterState,
    ServiceType,
    Ticket,
    TicketStatus,
    VisitSource,
)
from .selectors import (
    ServiceQueue,
    counter_list,
    estimate_wait,
    floor_summary,
    mean_service_time,
    ticket_list,
    waiting_tickets,
)
from .services import (
    ISSUE_PERM,
    SERVE_PERM,
    counter_pause,
    counter_sign_in,
    counter_sign_out,
    ticket_call_next,
    ticket_complete,
    ticket_issue,
    ticket_no_show,
    ticket_park,
    ticket_recall,
    ticket_start,
    ticket_transfer,
    ticket_unpark,
)

VIEW_PERM = "reception.view_ticket"
CUSTOMER_VIEW_PERM = "customers.view_customer"
MAKE_REQUEST_PERM = "transactions.add_servicerequest"
# How often console.js reloads the live parts of the pages (seconds).
LIVE_REFRESH_SECONDS = 15


# --- Access -----------------------------------------------------------------------------------


def access_branch(user, branch_id, perm: str = VIEW_PERM) -> Branch:
    """An active branch where `user` holds `perm`; otherwise 404."""
    try:
        branch_id = int(branch_id)
    except (TypeError, ValueError):
        raise Http404 from None
    branch = Branch.objects.visible_to(user, perm).filter(pk=branch_id, is_active=True).first()
    if branch is None:
        raise Http404
    return branch


def access_counter(user, counter_id: int, perm: str = SERVE_PERM) -> Counter:
    """A counter of a branch where `user` may serve; otherwise 404.

    Not locked here: the services lock the counter row (sign-in/out, pause, call-next) and check
    under that lock who is signed in and whether it is open.
    """
    counter = (
        Counter.objects.visible_to(user, perm)
        .select_related("branch")
        .filter(pk=counter_id)
        .first()
    )
    if counter is None:
        raise Http404
    return counter


def access_ticket(user, ticket_id: int, perm: str = SERVE_PERM) -> Ticket:
    """A ticket of a branch where `user` may serve; otherwise 404.

    Not locked here: every ticket service locks the row (call-next claims it with SKIP LOCKED)
    and checks its status and counter again under the lock.
    """
    ticket = ticket_list(principal=user, perm=perm).filter(pk=ticket_id).first()
    if ticket is None:
        raise Http404
    return ticket


def _minutes(delta: dt.timedelta) -> int:
    return max(int(delta.total_seconds() // 60), 0)


# --- Greeter / floor view ---------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceRow:
    queue: ServiceQueue
    longest_minutes: int
    open_counters: int
    # What a customer who takes a ticket now should expect.
    new_estimate_minutes: int


@dataclass(frozen=True)
class CounterRow:
    counter: Counter
    ticket: Ticket | None
    prefixes: str


@dataclass(frozen=True)
class WaitingRow:
    ticket: Ticket
    position: int | None
    waited_minutes: int
    estimate_minutes: int | None
    over_target: bool


@dataclass(frozen=True)
class _Capacity:
    open_counters: int
    idle_counters: int
    mean: dt.timedelta

    def estimate_minutes(self, ahead: int) -> int:
        wait = estimate_wait(
            ahead=ahead,
            open_counters=self.open_counters,
            idle_counters=self.idle_counters,
            mean=self.mean,
        )
        return math.ceil(wait.total_seconds() / 60)


def _floor_context(user, branch: Branch, now: dt.datetime) -> dict:
    """Queues, counters and the waiting list of one branch. A fixed number of queries: one per
    kind of row plus one per active service (its recent service times), never per ticket."""
    queues = floor_summary(branch=branch, now=now)
    counters = list(
        counter_list(principal=user, perm=VIEW_PERM)
        .filter(branch=branch)
        .prefetch_related(
            Prefetch(
                "tickets",
                queryset=Ticket.objects.filter(status__in=AT_COUNTER_STATES).select_related(
                    "service_type"
                ),
                to_attr="at_counter",
            )
        )
    )
    capacity = {}
    for queue in queues:
        service_id = queue.service_type.pk
        serving = [
            c
            for c in counters
            if c.state == CounterState.OPEN
            and any(link.service_type_id == service_id for link in c.service_links.all())
        ]
        capacity[service_id] = _Capacity(
            open_counters=len(serving),
            idle_counters=sum(1 for c in serving if not c.at_counter),
            mean=mean_service_time(queue.service_type),
        )
    service_rows = [
        ServiceRow(
            queue=queue,
            longest_minutes=_minutes(queue.longest_wait),
            open_counters=capacity[queue.service_type.pk].open_counters,
            new_estimate_minutes=capacity[queue.service_type.pk].estimate_minutes(queue.waiting),
        )
        for queue in queues
    ]
    counter_rows = [
        CounterRow(
            counter=c,
            ticket=c.at_counter[0] if c.at_counter else None,
            prefixes=" ".join(link.service_type.prefix for link in c.service_links.all()),
        )
        for c in counters
    ]
    waiting_rows = []
    ahead: dict[int, int] = defaultdict(int)
    for ticket in waiting_tickets(branch=branch):
        waited = now - ticket.arrived_at
        position = estimate = None
        if ticket.status == TicketStatus.WAITING:
            service_id = ticket.service_type_id
            position = ahead[service_id] + 1
            if service_id in capacity:
                estimate = capacity[service_id].estimate_minutes(ahead[service_id])
            ahead[service_id] += 1
        waiting_rows.append(
            WaitingRow(
                ticket=ticket,
                position=position,
                waited_minutes=_minutes(waited),
                estimate_minutes=estimate,
                over_target=ticket.status == TicketStatus.WAITING
                and waited > dt.timedelta(minutes=ticket.service_type.target_wait_minutes),
            )
        )
    return {
        "branch": branch,
        "now": now,
        "services": service_rows,
        "counters": counter_rows,
        "waiting": waiting_rows,
        "waiting_total": sum(q.waiting for q in queues),
        "over_target_total": sum(1 for row in waiting_rows if row.over_target),
    }


def _floor_url(branch: Branch, **params) -> str:
    return f"{reverse('reception:floor')}?{urlencode({'branch': branch.pk, **params})}"


def _chosen_branch(request, branches: list[Branch]) -> Branch:
    """The branch asked for (?branch=), else the first the user sees; 404 outside them."""
    raw = request.GET.get("branch")
    if raw is None:
        if not branches:
            raise Http404
        return branches[0]
    for branch in branches:
        if str(branch.pk) == raw:
            return branch
    raise Http404


def _render_floor(request, branch: Branch, branches: list[Branch], issue_form=None):
    user = request.user
    can_issue = can_act_at(user, ISSUE_PERM, branch.pk)
    if can_issue and issue_form is None:
        issue_form = IssueTicketForm(branch=branch, principal=user)
    issued = None
    if request.method == "GET" and request.GET.get("issued", "").isdigit():
        issued = ticket_list(principal=user).filter(pk=request.GET["issued"], branch=branch).first()
    context = _floor_context(user, branch, timezone.now())
    context.update(
        {
            "branches": branches,
            "issue_form": issue_form if can_issue else None,
            "issued": issued,
            "refresh_seconds": LIVE_REFRESH_SECONDS,
        }
    )
    return render(request, "reception/floor.html", context)


def _floor_branches(user) -> list[Branch]:
    return list(Branch.objects.visible_to(user, VIEW_PERM).filter(is_active=True))


@require_GET
@require_perm(VIEW_PERM)
def floor(request):
    """The greeter's floor view of one branch, with the issue form for those who may issue."""
    branches = _floor_branches(request.user)
    return _render_floor(request, _chosen_branch(request, branches), branches)


@require_GET
@require_perm(VIEW_PERM)
def floor_live(request):
    """The live part of the floor view (queues, counters, waiting list), for console.js."""
    branch = access_branch(request.user, request.GET.get("branch"))
    context = _floor_context(request.user, branch, timezone.now())
    return render(request, "reception/_floor_live.html", context)


@require_POST
@require_perm(ISSUE_PERM)
def issue(request):
    """Issue a ticket at the greeter's desk, for an identified customer or a walk-in."""
    branch = access_branch(request.user, request.POST.get("branch"))
    if not can_act_at(request.user, ISSUE_PERM, branch.pk):
        raise PermissionDenied
    form = IssueTicketForm(request.POST, branch=branch, principal=request.user)
    if form.is_valid():
        try:
            ticket = ticket_issue(
                actor=request.user,
                service_type=form.cleaned_data["service_type"],
                customer=form.cleaned_data["customer"],
                source=VisitSource.GREETER,
                sms_when_next=form.cleaned_data["sms_when_next"],
                contact_phone=form.cleaned_data["contact_phone"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                _("Ticket %(number)s issued for %(service)s.")
                % {"number": ticket.number, "service": ticket.service_type.name},
            )
            return redirect(_floor_url(branch, issued=ticket.pk))
    return _render_floor(request, branch, _floor_branches(request.user), issue_form=form)


# --- Counter console --------------------------------------------------------------------------


@dataclass(frozen=True)
class CounterQueue:
    service_type: ServiceType
    preference: int
    waiting: int
    reserved: int
    longest_minutes: int
    over_target: bool


def _counter_queues(user, counter: Counter, now: dt.datetime) -> list[CounterQueue]:
    """Waiting now for each service of the counter (reserved ones included), in its preference
    order: one query, whatever the queue's length. `counter.service_links` is prefetched."""
    links = list(counter.service_links.all())
    counts = {
        row["service_type_id"]: row
        for row in ticket_list(principal=user, perm=SERVE_PERM)
        .filter(
            status=TicketStatus.WAITING,
            service_type__in=[link.service_type_id for link in links],
        )
        .filter(Q(reserved_counter__isnull=True) | Q(reserved_counter=counter))
        .values("service_type_id")
        .annotate(
            waiting=Count("id"),
            reserved=Count("id", filter=Q(reserved_counter=counter)),
            oldest=Min("arrived_at"),
        )
        .order_by()
    }
    rows = []
    for link in links:
        row = counts.get(link.service_type_id, {})
        longest = now - row["oldest"] if row.get("oldest") else dt.timedelta()
        rows.append(
            CounterQueue(
                service_type=link.service_type,
                preference=link.preference,
                waiting=row.get("waiting", 0),
                reserved=row.get("reserved", 0),
                longest_minutes=_minutes(longest),
                over_target=longest > dt.timedelta(minutes=link.service_type.target_wait_minutes),
            )
        )
    return rows


def _my_counters(user) -> list[Counter]:
    return list(counter_list(principal=user, perm=SERVE_PERM))


@require_GET
@require_perm(SERVE_PERM)
def console(request):
    """The counter console: sign in, then call, serve and pass on the customers."""
    user = request.user
    counters = _my_counters(user)
    counter = next((c for c in counters if c.staff_id == user.pk), None)
    context = {"counters": counters, "counter": counter, "refresh_seconds": LIVE_REFRESH_SECONDS}
    if counter is not None:
        tickets = ticket_list(principal=user, perm=SERVE_PERM)
        current = tickets.filter(counter=counter, status__in=AT_COUNTER_STATES).first()
        customer = current.visit.customer if current else None
        context.update(
            {
                "current": current,
                "customer": customer,
                "can_view_customer": customer is not None
                and can_act_at(user, CUSTOMER_VIEW_PERM, customer.home_branch_id),
                # "New request" (transaction processing) for the customer being served.
                "can_make_request": can_act_at(user, MAKE_REQUEST_PERM, counter.branch_id),
                "parked": list(
                    tickets.filter(reserved_counter=counter, status=TicketStatus.PARKED)
                ),
                "queues": _counter_queues(user, counter, timezone.now()),
                "complete_form": CompleteForm() if current else None,
                "transfer_form": TransferForm(branch_id=counter.branch_id) if current else None,
            }
        )
    return render(request, "reception/console.html", context)


@require_GET
@require_perm(SERVE_PERM)
def console_live(request):
    """The waiting counts of the user's counter, for console.js."""
    counter = next((c for c in _my_counters(request.user) if c.staff_id == request.user.pk), None)
    queues = _counter_queues(request.user, counter, timezone.now()) if counter else []
    return render(request, "reception/_console_queues.html", {"counter": counter, "queues": queues})


def _attempt(request, step, done) -> None:
    """Run one service call; a refusal becomes an error message, success `done(result)`."""
    try:
        result = step()
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done(result))


def _form_errors(form) -> str:
    """A refused form as one message line (the console redirects, so errors travel as text)."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else None
        parts.extend(f"{label}: {error}" if label else error for error in errors)
    return " ".join(parts)


def _back():
    return redirect("reception:console")


@require_POST
@require_perm(SERVE_PERM)
def counter_sign_in_view(request, counter_id: int):
    counter = access_counter(request.user, counter_id)
    _attempt(
        request,
        lambda: counter_sign_in(actor=request.user, counter=counter),
        lambda c: _("You are signed in to %(counter)s.") % {"counter": c},
    )
    return _back()


@require_POST
@require_perm(SERVE_PERM)
def counter_sign_out_view(request, counter_id: int):
    counter = access_counter(request.user, counter_id)
    _attempt(
        request,
        lambda: counter_sign_out(actor=request.user, counter=counter),
        lambda c: _("You signed out of %(counter)s; it is closed.") % {"counter": c},
    )
    return _back()


@require_POST
@require_perm(SERVE_PERM)
def counter_pause_view(request, counter_id: int):
    counter = access_counter(request.user, counter_id)
    _attempt(
        request,
        lambda: counter_pause(actor=request.user, counter=counter, paused=True),
        lambda c: _("%(counter)s is paused: no tickets are called to it.") % {"counter": c},
    )
    return _back()


@require_POST
@require_perm(SERVE_PERM)
def counter_resume_view(request, counter_id: int):
    counter = access_counter(request.user, counter_id)
    _attempt(
        request,
        lambda: counter_pause(actor=request.user, counter=counter, paused=False),
        lambda c: _("%(counter)s is open again.") % {"counter": c},
    )
    return _back()


@require_POST
@require_perm(SERVE_PERM)
def call_next(request, counter_id: int):
    """Call the best waiting ticket; nobody waiting is a friendly note, not an error."""
    counter = access_counter(request.user, counter_id)
    try:
        ticket = ticket_call_next(actor=request.user, counter=counter)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if ticket is None:
            messages.info(request, _("Nobody is waiting."))
        else:
            messages.success(
                request,
                _("Calling %(number)s to %(counter)s.")
                % {"number": ticket.number, "counter": ticket.counter},
            )
    return _back()


def _ticket_step(request, ticket_id: int, step, done: str):
    ticket = access_ticket(request.user, ticket_id)
    _attempt(
        request,
        lambda: step(actor=request.user, ticket=ticket),
        lambda t: done % {"number": t.number},
    )
    return _back()


@require_POST
@require_perm(SERVE_PERM)
def recall(request, ticket_id: int):
    return _ticket_step(request, ticket_id, ticket_recall, _("Calling %(number)s again."))


@require_POST
@require_perm(SERVE_PERM)
def start(request, ticket_id: int):
    return _ticket_step(request, ticket_id, ticket_start, _("Serving %(number)s."))


@require_POST
@require_perm(SERVE_PERM)
def no_show(request, ticket_id: int):
    return _ticket_step(request, ticket_id, ticket_no_show, _("%(number)s marked as a no-show."))


@require_POST
@require_perm(SERVE_PERM)
def park(request, ticket_id: int):
    return _ticket_step(
        request,
        ticket_id,
        ticket_park,
        _("%(number)s is set aside; unpark it when the customer is ready."),
    )


@require_POST
@require_perm(SERVE_PERM)
def unpark(request, ticket_id: int):
    return _ticket_step(
        request, ticket_id, ticket_unpark, _("%(number)s is back in the queue, first for you.")
    )


@require_POST
@require_perm(SERVE_PERM)
def complete(request, ticket_id: int):
    ticket = access_ticket(request.user, ticket_id)
    form = CompleteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back()
    _attempt(
        request,
        lambda: ticket_complete(
            actor=request.user, ticket=ticket, outcome=form.cleaned_data["outcome"]
        ),
        lambda t: _("%(number)s completed.") % {"number": t.number},
    )
    return _back()


@require_POST
@require_perm(SERVE_PERM)
def transfer(request, ticket_id: int):
    """Send the visit to another service (or counter); the new ticket keeps the arrival time."""
    ticket = access_ticket(request.user, ticket_id)
    form = TransferForm(request.POST, branch_id=ticket.branch_id)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back()
    _attempt(
        request,
        lambda: ticket_transfer(
            actor=request.user,
            ticket=ticket,
            service_type=form.cleaned_data["service_type"],
            counter=form.cleaned_data["counter"],
        ),
        lambda new: (
            _("%(number)s transferred: the customer now holds %(new)s for %(service)s.")
            % {"number": ticket.number, "new": new.number, "service": new.service_type.name}
        ),
    )
    return _back()
