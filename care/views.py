"""Staff pages of customer care: the worklist (due today, overdue, mine; by branch and priority;
claim; for the care team lead, "team": callbacks others claimed, to give back when the agent is
absent) and the callback page (the customer, masked unless revealed, the script, the attempts,
record an attempt, complete with the outcome and satisfaction, cancel with a reason or give it
back to the worklist (the team lead), and links to open a complaint, a service request or a
consultation for the customer).

Pages read through the scoped selectors (another branch's callback: 404; without the role: 403);
every change is a POST calling one service, then a redirect; a refusal comes back as an error at
its field or as a message.
"""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from bankservice.branches.scope import can_act_at, has_perm
from bankservice.core.decorators import require_perm
from bankservice.core.errors import DomainError
from bankservice.customers.services import customer_reveal_pii

from .forms import AttemptForm, CancelForm, CompleteForm, WorklistFilterForm
from .models import OPEN_CALLBACK_STATES, AttemptResult, CallbackAttempt, CallbackStatus
from .selectors import VIEW_PERM, WORK_ORDER, callback_get, callback_list, worklist
from .services import (
    CANCEL_PERM,
    WORK_PERM,
    callback_attempt,
    callback_cancel,
    callback_claim,
    callback_complete,
    callback_release,
)

REVEAL_PERM = "customers.reveal_pii"
PAGE_SIZE = 25
# The other stages' "new" pages a callback may lead to: (key, label, url name, permission).
FOLLOW_ONS = (
    ("complaint", gettext_lazy("Open a complaint"), "complaints:new", "complaints.add_complaint"),
    (
        "request",
        gettext_lazy("Start a service request"),
        "transactions:new",
        "transactions.add_servicerequest",
    ),
    (
        "consultation",
        gettext_lazy("Start a consultation"),
        "consultation:new",
        "consultation.add_consultation",
    ),
)
TABS = (
    ("today", gettext_lazy("Due today")),
    ("overdue", gettext_lazy("Overdue")),
    ("mine", gettext_lazy("Mine")),
)
# Only for those who may give callbacks back (the care team lead, the branch's managers).
TEAM_TAB = ("team", gettext_lazy("Claimed by my team"))


def _team_worklist(user, *, branch=None, priority=None):
    """Callbacks claimed by someone else at the branches where the user leads the care team
    (care.cancel_callback), most urgent first: what an absent agent is sitting on."""
    callbacks = (
        callback_list(user, CANCEL_PERM)
        .filter(status=CallbackStatus.CLAIMED)
        .exclude(claimed_by_id=user.pk)
    )
    if branch is not None:
        callbacks = callbacks.filter(branch_id=branch.pk)
    if priority not in (None, ""):
        callbacks = callbacks.filter(priority=int(priority))
    return callbacks.order_by(*WORK_ORDER)


@require_GET
@require_perm(VIEW_PERM)
def worklist_view(request):
    """Callbacks due today (or overdue, or claimed by me; for a team lead, claimed by the team),
    by priority, narrowed by branch and priority; each open one of a branch where the user works
    callbacks can be claimed here, each of the team's the lead may give back."""
    user = request.user
    tabs = (*TABS, TEAM_TAB) if has_perm(user, CANCEL_PERM) else TABS
    tab = request.GET.get("list") if request.GET.get("list") in dict(tabs) else tabs[0][0]
    filters = WorklistFilterForm(request.GET, principal=user, perm=VIEW_PERM)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    narrow = {"branch": chosen.get("branch"), "priority": chosen.get("priority")}
    rows = _team_worklist(user, **narrow) if tab == "team" else worklist(user, tab, **narrow)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    for callback in page.object_list:
        callback.overdue = callback.due_at <= now
        callback.may_claim = callback.status == CallbackStatus.OPEN and can_act_at(
            user, WORK_PERM, callback.branch_id
        )
        callback.may_release = (
            tab == "team"
            and callback.status == CallbackStatus.CLAIMED
            and callback.claimed_by_id != user.pk
        )
    return render(
        request,
        "care/worklist.html",
        {"tabs": tabs, "tab": tab, "filters": filters, "page": page},
    )


def _render_callback(request, callback, *, revealed=None, status=200, **forms):
    user = request.user
    mine = callback.status == CallbackStatus.CLAIMED and callback.claimed_by_id == user.pk
    may_work = can_act_at(user, WORK_PERM, callback.branch_id)
    attempts = list(CallbackAttempt.objects.filter(callback=callback).select_related("by"))
    reached = bool(attempts) and attempts[-1].result == AttemptResult.REACHED
    leads = can_act_at(user, CANCEL_PERM, callback.branch_id)
    context = {
        "callback": callback,
        "customer": callback.customer,
        "revealed": revealed or {},
        "can_reveal": can_act_at(user, REVEAL_PERM, callback.customer.home_branch_id),
        "attempts": attempts,
        "max_attempts": settings.CARE_MAX_ATTEMPTS,
        "may_claim": may_work and callback.status == CallbackStatus.OPEN,
        "may_attempt": may_work and mine,
        "may_complete": may_work and mine and reached,
        "may_cancel": leads and callback.status in OPEN_CALLBACK_STATES,
        "may_release": leads and callback.status == CallbackStatus.CLAIMED,
        "follow_ons": [
            {"key": key, "label": label, "url_name": url_name}
            for key, label, url_name, perm in FOLLOW_ONS
            if has_perm(user, perm)
        ],
    }
    if context["may_attempt"]:
        context["attempt_form"] = forms.get("attempt_form") or AttemptForm()
    if context["may_complete"]:
        context["complete_form"] = forms.get("complete_form") or CompleteForm()
    if context["may_cancel"]:
        context["cancel_form"] = forms.get("cancel_form") or CancelForm()
    return render(request, "care/callback.html", context, status=status)


@require_GET
@require_perm(VIEW_PERM)
def callback_detail(request, callback_id: int):
    return _render_callback(request, callback_get(request.user, callback_id))


def _back(callback):
    return redirect("care:callback", callback.pk)


def _refused(request, callback, exc: DomainError):
    """A refusal about the callback's state (someone else has it, not reached yet), not about
    what was typed: said as a message on the page as it now is."""
    messages.error(request, exc.message)
    return _back(callback)


@require_POST
@require_perm(REVEAL_PERM)
def callback_reveal(request, callback_id: int):
    """Show the customer's full phone number once, to call them; the look is audited."""
    callback = callback_get(request.user, callback_id)
    revealed = customer_reveal_pii(actor=request.user, customer=callback.customer)
    return _render_callback(request, callback, revealed=revealed)


@require_POST
@require_perm(WORK_PERM)
def callback_claim_view(request, callback_id: int):
    callback = callback_get(request.user, callback_id, perm=WORK_PERM)
    try:
        callback_claim(actor=request.user, callback=callback)
    except DomainError as exc:
        messages.error(request, exc.message)
        if request.POST.get("next") == "worklist":
            return redirect("care:worklist")
    else:
        messages.success(request, _("The callback is yours: call the customer."))
    return _back(callback)


def _act(request, callback, form_class, service, done: str, form_name: str):
    """Validate the form and call the service with it, then back to the page with `done`; a
    refusal comes back at its field (400) or as a message."""
    form = form_class(request.POST)
    if form.is_valid():
        try:
            service(actor=request.user, callback=callback, **form.cleaned_data)
        except DomainError as exc:
            if exc.field not in form.fields:
                return _refused(request, callback, exc)
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, done)
            return _back(callback)
    return _render_callback(request, callback, status=400, **{form_name: form})


@require_POST
@require_perm(WORK_PERM)
def callback_attempt_view(request, callback_id: int):
    """Record one try; the service reschedules after no answer or closes the callback."""
    callback = callback_get(request.user, callback_id, perm=WORK_PERM)
    return _act(
        request, callback, AttemptForm, callback_attempt, _("Attempt recorded."), "attempt_form"
    )


@require_POST
@require_perm(WORK_PERM)
def callback_complete_view(request, callback_id: int):
    callback = callback_get(request.user, callback_id, perm=WORK_PERM)
    return _act(
        request,
        callback,
        CompleteForm,
        callback_complete,
        _("Callback completed."),
        "complete_form",
    )


@require_POST
@require_perm(CANCEL_PERM)
def callback_cancel_view(request, callback_id: int):
    """The care team lead cancels a callback no longer needed, with the reason."""
    callback = callback_get(request.user, callback_id, perm=CANCEL_PERM)
    return _act(
        request, callback, CancelForm, callback_cancel, _("Callback cancelled."), "cancel_form"
    )


@require_POST
@require_perm(CANCEL_PERM)
def callback_release_view(request, callback_id: int):
    """The care team lead gives a callback claimed by an absent agent back to the worklist."""
    callback = callback_get(request.user, callback_id, perm=CANCEL_PERM)
    try:
        callback_release(actor=request.user, callback=callback)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The callback is back on the worklist for any agent."))
    if request.POST.get("next") == "team":
        return redirect(f"{reverse('care:worklist')}?list=team")
    return _back(callback)
