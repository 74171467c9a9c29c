"""Staff pages for complaints: the list with filters, intake (counter, phone, letter, e-mail,
referral, social media), the complaint page (the complainant masked unless the role may see
personal data, its clocks, letters, attachments, linked complaints, history and the actions its
status and the user's roles allow), extensions waiting for approval, corrective actions.

Pages read through the scoped selectors (outside the user's branches: 404; without the role:
403). Every change is a POST calling one service, then a redirect; a refusal comes back as an
error at its field (the page again, 400) or as a message.
"""

import dataclasses

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bankservice.branches.models import Branch
from bankservice.branches.scope import can_act_at, has_perm
from bankservice.core.decorators import require_perm
from bankservice.core.errors import DomainError
from bankservice.core.uploads import INLINE_TYPES
from bankservice.customers.services import contact_shown
from bankservice.sla.models import Deadline, DeadlineState

from . import corrective, services
from .deadlines import KIND_PREFIX
from .forms import (
    STATUS_CHOICES,
    AssignForm,
    AttachmentForm,
    CaseNoteForm,
    ClassifyForm,
    ComplaintFilter,
    ComplaintForm,
    CompleteActionForm,
    CorrectiveActionForm,
    DecideForm,
    EmptyForm,
    ExtensionDecideForm,
    ExtensionForm,
    NoteForm,
    ProposeForm,
    ReasonForm,
    RequiredNoteForm,
    RootCauseForm,
)
from .models import (
    DECIDED_STATUSES,
    OPEN_STATUSES,
    ActionStatus,
    Complaint,
    ComplaintAttachment,
    ComplaintExtension,
    ComplaintStatus,
    CorrectiveAction,
    ExtensionStatus,
    PackClock,
)
from .selectors import complaint_clocks, complaint_history, complaint_list

VIEW_PERM = "complaints.view_complaint"
ADD_PERM = "complaints.add_complaint"
HANDLE_PERM = "complaints.handle_complaint"
ASSIGN_PERM = "complaints.assign_complaint"
APPROVE_PERM = "complaints.approve_extension"
ATTACH_PERM = "complaints.add_complaintattachment"
ACTION_VIEW_PERM = "complaints.view_correctiveaction"
ACTION_ADD_PERM = "complaints.add_correctiveaction"
PAGE_SIZE = 25


def access_complaint(user, complaint_id: int, perm: str = VIEW_PERM):
    """A complaint of a branch where `user` holds `perm`, with what its page shows; else 404.

    Not locked here: every service locks the row and checks the status and the actor again.
    """
    complaint = (
        complaint_list(user, perm)
        .select_related(
            "staff_complained_about",
            "created_by",
            "repeat_of",
            "merged_into",
            "review_of",
            "root_cause",
        )
        .filter(pk=complaint_id)
        .first()
    )
    if complaint is None:
        raise Http404
    return complaint


# --- Clocks ------------------------------------------------------------------------------------


@dataclasses.dataclass
class ClockRow:
    """One clock of the complaint as its page shows it."""

    name: str
    code: str
    due_at: object
    state: str  # running, paused, met, late, window, cancelled
    at_risk: bool
    is_window: bool
    extended: int


def clock_state(deadline, *, is_window: bool, now) -> str:
    if is_window:
        return "window"
    if deadline.state == DeadlineState.OPEN:
        if deadline.paused_at is not None:
            return "paused"
        return "late" if deadline.due_at <= now else "running"
    if deadline.state == DeadlineState.MET:
        return "late" if deadline.met_at and deadline.met_at > deadline.due_at else "met"
    if deadline.state == DeadlineState.BREACHED:
        return "late"
    return "cancelled"


def clock_rows(complaint, pack_clocks, deadlines, now) -> list[ClockRow]:
    by_code = {clock.code: clock for clock in pack_clocks}
    rows = []
    for deadline in deadlines:
        code = deadline.kind.removeprefix(KIND_PREFIX)
        clock = by_code.get(code)
        is_window = bool(clock and clock.is_window)
        rows.append(
            ClockRow(
                name=clock.name if clock else code,
                code=code,
                due_at=deadline.due_at,
                state=clock_state(deadline, is_window=is_window, now=now),
                at_risk=not is_window
                and deadline.state == DeadlineState.OPEN
                and deadline.paused_at is None
                and deadline.warn_at is not None
                and deadline.warn_at <= now < deadline.due_at,
                is_window=is_window,
                extended=deadline.extended_count,
            )
        )
    return rows


# --- The list ----------------------------------------------------------------------------------


def _row_timing(rows, now) -> None:
    """Each row's nearest obligation still owed (a window is none; a breach met late is done)
    and its mark: one query for the clocks of the page's rows, one for which are windows."""
    if not rows:
        return
    windows = set(
        PackClock.objects.filter(is_window=True, pack__in={r.pack_id for r in rows}).values_list(
            "pack_id", "code"
        )
    )
    packs = {str(r.pk): r.pack_id for r in rows}
    nearest: dict[str, object] = {}
    for deadline in (
        Deadline.objects.filter(
            subject_type=ContentType.objects.get_for_model(Complaint),
            subject_id__in=list(packs),
            kind__startswith=KIND_PREFIX,
            state__in=[DeadlineState.OPEN, DeadlineState.BREACHED],
        )
        .exclude(state=DeadlineState.BREACHED, met_at__isnull=False)
        .order_by("due_at")
    ):
        code = deadline.kind.removeprefix(KIND_PREFIX)
        if (packs[deadline.subject_id], code) in windows:
            continue
        nearest.setdefault(deadline.subject_id, deadline)
    for row in rows:
        deadline = nearest.get(str(row.pk)) if row.status in OPEN_STATUSES else None
        row.next_due = deadline.due_at if deadline else None
        row.sla = ""
        if deadline is not None:
            if deadline.state == DeadlineState.BREACHED or deadline.due_at <= now:
                row.sla = "breached"
            elif deadline.paused_at is None and deadline.warn_at and deadline.warn_at <= now:
                row.sla = "due-soon"


@require_GET
@require_perm(VIEW_PERM)
def complaint_list_view(request):
    """Complaints of the user's branches, filtered (status, category, channel, branch, mine,
    unassigned, repeats, overdue or at risk, reference) and paginated."""
    user = request.user
    visible = complaint_list(user)
    branches = Branch.objects.visible_to(user, VIEW_PERM).order_by("name")
    filterset = ComplaintFilter(request.GET, queryset=visible, branches=branches, user=user)
    rows = filterset.qs if filterset.is_valid() else visible.none()
    page = Paginator(rows.order_by("-received_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    page.object_list = list(page.object_list)
    _row_timing(page.object_list, timezone.now())
    return render(
        request,
        "complaints/list.html",
        {
            "filter": filterset,
            "status_choices": STATUS_CHOICES,
            "page": page,
            "can_add": has_perm(user, ADD_PERM),
            "can_approve": has_perm(user, APPROVE_PERM),
            "can_see_actions": has_perm(user, ACTION_VIEW_PERM),
        },
    )


# --- Intake ------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@require_perm(ADD_PERM)
def complaint_new(request):
    """A complaint taken by staff; its attachments are kept in the same transaction."""
    user = request.user
    # A callback or another page may name the customer (?customer_query=<ID or number>).
    initial = {"customer_query": request.GET.get("customer_query", "")}
    form = ComplaintForm(
        request.POST or None, request.FILES or None, principal=user, initial=initial
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    complaint = services.complaint_create(
                        actor=user,
                        branch=data["branch"],
                        channel=data["channel"],
                        category=data["category"],
                        subcategory=data["subcategory"],
                        description=data["description"],
                        desired_outcome=data["desired_outcome"],
                        received_at=data["received_at"],
                        customer=data["customer"],
                        contact_name="" if data["customer"] else data["contact_name"],
                        contact_phone="" if data["customer"] else data["contact_phone"],
                        contact_email="" if data["customer"] else data["contact_email"],
                        product=data["product"],
                        amount=data["amount"],
                        currency=data["currency"],
                        staff_complained_about=data["staff_complained_about"],
                        is_payment_services=data["is_payment_services"],
                    )
                    for upload in data["attachments"]:
                        services.attachment_add(
                            actor=user, complaint=complaint, uploaded_file=upload
                        )
            except DomainError as exc:
                field = {"file": "attachments"}.get(exc.field, exc.field)
                form.add_error(field if field in form.fields else None, exc.message)
            else:
                messages.success(
                    request,
                    _("Complaint %(reference)s recorded.") % {"reference": complaint.reference},
                )
                return redirect("complaints:detail", complaint.pk)
    return render(request, "complaints/new.html", {"form": form}, status=status)


# --- The complaint page ------------------------------------------------------------------------


def _complained_about(user, complaint) -> bool:
    return complaint.staff_complained_about_id == user.pk


def may_handle(user, complaint) -> bool:
    """A hint for showing the handler's actions; the services check again (and the role chain's
    recusal): the complaint's officer, or a manager, never the person complained about."""
    if _complained_about(user, complaint) or not can_act_at(user, HANDLE_PERM, complaint.branch_id):
        return False
    return complaint.assigned_to_id in (None, user.pk) or can_act_at(
        user, ASSIGN_PERM, complaint.branch_id
    )


def _extension_clocks(complaint, pack_clocks, deadlines, extensions):
    """The pack's extension clocks that may be asked for now: the next step of a chain whose
    clock is still running (the service checks the rules again)."""
    applied = {e.clock_id for e in extensions if e.status == ExtensionStatus.APPROVED}
    if any(e.status == ExtensionStatus.REQUESTED for e in extensions):
        return []
    by_id = {clock.pk: clock for clock in pack_clocks}
    open_kinds = {d.kind for d in deadlines if d.state == DeadlineState.OPEN}

    def base(clock):
        while clock.extends_id is not None and clock.extends_id in by_id:
            clock = by_id[clock.extends_id]
        return clock

    allowed = []
    for clock in pack_clocks:
        if clock.extends_id is None or clock.pk in applied:
            continue
        previous = by_id.get(clock.extends_id)
        first_step = previous is not None and previous.extends_id is None
        if not (first_step or clock.extends_id in applied):
            continue
        if KIND_PREFIX + base(clock).code in open_kinds:
            allowed.append(clock.pk)
    return allowed


def _allowed(user, complaint, *, extension_clocks) -> dict[str, bool]:
    """Which actions the page offers (hints; the services decide)."""
    status = complaint.status
    is_open = status in OPEN_STATUSES
    handles = may_handle(user, complaint)
    manages = can_act_at(user, ASSIGN_PERM, complaint.branch_id) and not _complained_about(
        user, complaint
    )
    repeat_of = complaint.repeat_of
    return {
        "assign": is_open and handles and (manages or complaint.assigned_to_id is None),
        "acknowledge": status == ComplaintStatus.RECEIVED and handles,
        "investigate": status in (ComplaintStatus.RECEIVED, ComplaintStatus.ACKNOWLEDGED)
        and handles
        and complaint.assigned_to_id is not None,
        "wait": status == ComplaintStatus.INVESTIGATING and handles,
        "replied": status == ComplaintStatus.WAITING_ON_CUSTOMER and handles,
        "propose": status == ComplaintStatus.INVESTIGATING and handles,
        "accept": status == ComplaintStatus.RESOLUTION_PROPOSED and handles,
        "decide": is_open and handles,
        "withdraw": is_open and handles,
        "reopen": status in DECIDED_STATUSES and manages,
        "merge": is_open
        and handles
        and complaint.is_repeat
        and repeat_of is not None
        and repeat_of.status in OPEN_STATUSES,
        # The complainant asks; whoever takes complaints records it.
        "review": status in DECIDED_STATUSES
        and complaint.review_of_id is None
        and can_act_at(user, ADD_PERM, complaint.branch_id)
        and not _complained_about(user, complaint),
        "extend": is_open and handles and bool(extension_clocks),
        "root_cause": status != ComplaintStatus.MERGED and handles,
        "note": status != ComplaintStatus.MERGED and handles,
        "classify": is_open and handles,
        "corrective": complaint.root_cause_id is not None
        and can_act_at(user, ACTION_ADD_PERM, complaint.branch_id)
        and not _complained_about(user, complaint),
        "attach": is_open
        and can_act_at(user, ATTACH_PERM, complaint.branch_id)
        and not _complained_about(user, complaint),
    }


# Each action of the page: its form, the service it calls, the message on success.
ACTIONS = {
    "assign": (AssignForm, gettext_lazy("Assigned.")),
    "acknowledge": (EmptyForm, gettext_lazy("Acknowledged.")),
    "investigate": (EmptyForm, gettext_lazy("Investigation started.")),
    "wait": (RequiredNoteForm, gettext_lazy("Waiting on the customer.")),
    "replied": (NoteForm, gettext_lazy("The customer replied; the investigation goes on.")),
    "propose": (ProposeForm, gettext_lazy("Resolution proposed.")),
    "accept": (EmptyForm, gettext_lazy("The customer accepted the resolution.")),
    "decide": (DecideForm, gettext_lazy("Decision recorded.")),
    "withdraw": (NoteForm, gettext_lazy("Complaint withdrawn.")),
    "reopen": (ReasonForm, gettext_lazy("Complaint reopened.")),
    "merge": (EmptyForm, gettext_lazy("Merged into the earlier complaint.")),
    "review": (ReasonForm, gettext_lazy("Review opened.")),
    "extend": (ExtensionForm, gettext_lazy("Extension requested.")),
    "root_cause": (RootCauseForm, gettext_lazy("Root cause recorded.")),
    "note": (CaseNoteForm, gettext_lazy("Case note added.")),
    "classify": (ClassifyForm, gettext_lazy("Category corrected.")),
    "corrective": (CorrectiveActionForm, gettext_lazy("Corrective action added.")),
}


# The button of each action, and the order the page lists them in.
BUTTONS = {
    "assign": gettext_lazy("Assign"),
    "acknowledge": gettext_lazy("Acknowledge"),
    "investigate": gettext_lazy("Start investigating"),
    "wait": gettext_lazy("Wait on the customer"),
    "replied": gettext_lazy("The customer replied"),
    "propose": gettext_lazy("Propose a resolution"),
    "accept": gettext_lazy("The customer accepts the proposal"),
    "extend": gettext_lazy("Request an extension"),
    "decide": gettext_lazy("Record the decision"),
    "merge": gettext_lazy("Merge into the earlier complaint"),
    "withdraw": gettext_lazy("Withdraw"),
    "reopen": gettext_lazy("Reopen"),
    "review": gettext_lazy("Open a review"),
    "root_cause": gettext_lazy("Save the root cause"),
    "note": gettext_lazy("Add a case note"),
    "classify": gettext_lazy("Correct the category"),
    "corrective": gettext_lazy("Add the corrective action"),
}
# Actions shown open (the rest folded): the next step of the usual path.
PRIMARY = {"assign", "acknowledge", "investigate", "replied", "accept", "decide"}


def _officers(user, complaint):
    officers = services.eligible_officers(complaint)
    if not can_act_at(user, ASSIGN_PERM, complaint.branch_id):
        officers = officers.filter(pk=user.pk)  # an officer takes it, a manager assigns
    return officers


def _owners(complaint):
    """Who may own a corrective action: staff of the complaint's branch."""
    return (
        get_user_model()
        .objects.filter(is_active=True, memberships__branch_id=complaint.branch_id)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def _action_form(key, complaint, user, data=None, *, extension_clocks=()):
    form_class = ACTIONS[key][0]
    kwargs = {"prefix": key}
    if form_class is AssignForm:
        kwargs["officers"] = _officers(user, complaint)
    elif form_class is ExtensionForm:
        kwargs["clocks"] = PackClock.objects.filter(pk__in=list(extension_clocks))
    elif form_class is CorrectiveActionForm:
        kwargs["owners"] = _owners(complaint)
        if data is None:
            kwargs["initial"] = {"root_cause": complaint.root_cause_id}
    elif form_class is ClassifyForm and data is None:
        kwargs["initial"] = {
            "category": complaint.category_id,
            "subcategory": complaint.subcategory_id,
            "product": complaint.product_id,
        }
    elif form_class is RootCauseForm and data is None:
        kwargs["initial"] = {
            "root_cause": complaint.root_cause_id,
            "note": complaint.root_cause_note,
        }
    return form_class(data, **kwargs)


def _run_action(key, user, complaint, data):
    """Call the action's service with the form's cleaned data."""
    who = {"actor": user, "complaint": complaint}
    if key == "assign":
        return services.complaint_assign(**who, officer=data["officer"])
    if key == "acknowledge":
        return services.complaint_acknowledge(**who)
    if key == "investigate":
        return services.complaint_investigate(**who)
    if key == "wait":
        return services.complaint_wait_on_customer(**who, note=data["note"])
    if key == "replied":
        return services.complaint_customer_replied(**who, note=data["note"])
    if key == "propose":
        return services.complaint_propose(**who, proposal=data["proposal"])
    if key == "accept":
        return services.complaint_accept(**who)
    if key == "decide":
        return services.complaint_decide(
            **who,
            outcome=data["outcome"],
            reasons=data["reasons"],
            redress_amount=data["redress_amount"],
        )
    if key == "withdraw":
        return services.complaint_withdraw(**who, note=data["note"])
    if key == "reopen":
        return services.complaint_reopen(**who, reason=data["reason"])
    if key == "merge":
        return services.complaint_merge(**who, into=complaint.repeat_of)
    if key == "review":
        return services.complaint_request_review(**who, reason=data["reason"])
    if key == "extend":
        return services.extension_request(**who, clock=data["clock"], reason=data["reason"])
    if key == "root_cause":
        return services.complaint_set_root_cause(
            **who, root_cause=data["root_cause"], note=data["note"]
        )
    if key == "note":
        return services.complaint_add_note(**who, text=data["note"])
    if key == "classify":
        return services.complaint_classify(
            **who,
            category=data["category"],
            subcategory=data["subcategory"],
            product=data["product"],
        )
    if key == "corrective":
        return corrective.action_create(
            **who,
            root_cause=data["root_cause"],
            description=data["description"],
            owner=data["owner"],
            due_date=data["due_date"],
        )
    raise Http404


def _render_detail(request, complaint, *, bound=None, status=200):
    """The complaint page; `bound` is {action key: bound form} to show a form with its errors."""
    user = request.user
    now = timezone.now()
    bound = bound or {}
    pack_clocks = list(complaint.pack.clocks.all())
    deadlines = list(complaint_clocks(complaint))
    extensions = list(
        complaint.extensions.select_related("clock", "requested_by", "decided_by").order_by(
            "requested_at", "id"
        )
    )
    extension_clocks = _extension_clocks(complaint, pack_clocks, deadlines, extensions)
    allowed = _allowed(user, complaint, extension_clocks=extension_clocks)
    forms = [
        {
            "key": key,
            "button": BUTTONS[key],
            "primary": key in PRIMARY or key in bound,
            "form": bound.get(key)
            or _action_form(key, complaint, user, extension_clocks=extension_clocks),
        }
        for key in BUTTONS
        if allowed.get(key)
    ]
    may_approve = can_act_at(user, APPROVE_PERM, complaint.branch_id)
    for extension in extensions:
        extension.may_decide = (
            may_approve
            and extension.status == ExtensionStatus.REQUESTED
            and extension.requested_by_id != user.pk
        )
    linked = list(
        complaint_list(user)
        .filter(Q(repeat_of=complaint) | Q(merged_into=complaint) | Q(review_of=complaint))
        .exclude(pk=complaint.pk)
        .order_by("received_at", "id")
    )
    actions = list(
        complaint.corrective_actions.select_related("owner", "root_cause").order_by("due_date")
    )
    manages = can_act_at(user, ASSIGN_PERM, complaint.branch_id)
    for action in actions:
        action.may_complete = action.status == ActionStatus.OPEN and (
            action.owner_id == user.pk or manages
        )
    context = {
        "complaint": complaint,
        "who": contact_shown(request, complaint),
        "clocks": clock_rows(complaint, pack_clocks, deadlines, now),
        "letters": list(complaint.letters.order_by("created_at", "id")),
        "notes": list(complaint.notes.select_related("author")),
        "attachments": list(complaint.attachments.filter(is_removed=False)),
        "inline_types": INLINE_TYPES,
        "extensions": extensions,
        "extension_decide_form": bound.get("extension") or ExtensionDecideForm(),
        "actions": actions,
        "complete_form": bound.get("complete") or CompleteActionForm(),
        "linked": linked,
        "history": complaint_history(complaint),
        "allowed": allowed,
        "forms": forms,
        "attachment_form": bound.get("attachment") or AttachmentForm(),
        "is_open": complaint.status in OPEN_STATUSES,
    }
    return render(request, "complaints/detail.html", context, status=status)


@require_GET
@require_perm(VIEW_PERM)
def complaint_detail(request, complaint_id: int):
    return _render_detail(request, access_complaint(request.user, complaint_id))


def _back(complaint):
    return redirect("complaints:detail", complaint.pk)


@require_POST
@require_perm(VIEW_PERM)
def complaint_action(request, complaint_id: int, action: str):
    """One action of the page (ACTIONS): its form, then its service."""
    if action not in ACTIONS:
        raise Http404
    user = request.user
    complaint = access_complaint(user, complaint_id)
    # Who may do what at this complaint is the services' to say (PermissionDenied: 403).
    extension_clocks = ()
    if action == "extend":
        extension_clocks = _extension_clocks(
            complaint,
            list(complaint.pack.clocks.all()),
            list(complaint_clocks(complaint)),
            list(complaint.extensions.all()),
        )
    form = _action_form(action, complaint, user, request.POST, extension_clocks=extension_clocks)
    if form.is_valid():
        try:
            result = _run_action(action, user, complaint, form.cleaned_data)
        except DomainError as exc:
            if exc.field in form.fields:
                form.add_error(exc.field, exc.message)
            else:
                messages.error(request, exc.message)
                return _back(complaint)
        else:
            messages.success(request, str(ACTIONS[action][1]))
            if action == "merge":
                return redirect("complaints:detail", complaint.repeat_of_id)
            if action == "review":
                return redirect("complaints:detail", result.pk)
            return _back(complaint)
    return _render_detail(request, complaint, bound={action: form}, status=400)


# --- Extensions --------------------------------------------------------------------------------


def _extension(user, extension_id: int, perm: str = APPROVE_PERM):
    extension = (
        ComplaintExtension.objects.filter(complaint__in=complaint_list(user, perm).values("pk"))
        .select_related("complaint", "clock")
        .filter(pk=extension_id)
        .first()
    )
    if extension is None:
        raise Http404
    return extension


@require_POST
@require_perm(APPROVE_PERM)
def extension_decide_view(request, extension_id: int):
    """Approve or refuse an extension waiting for a higher level."""
    extension = _extension(request.user, extension_id)
    form = ExtensionDecideForm(request.POST)
    back = request.POST.get("next") == "waiting"
    if form.is_valid():
        try:
            decided = services.extension_decide(
                actor=request.user,
                extension=extension,
                approve=form.cleaned_data["decision"] == "approve",
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Extension approved.")
                if decided.status == ExtensionStatus.APPROVED
                else _("Extension refused."),
            )
        if back:
            return redirect("complaints:extensions")
        return _back(extension.complaint)
    complaint = access_complaint(request.user, extension.complaint_id)
    return _render_detail(request, complaint, bound={"extension": form}, status=400)


@require_GET
@require_perm(APPROVE_PERM)
def extensions_waiting(request):
    """Extensions waiting for a higher level at the approver's branches, oldest first."""
    waiting = list(
        ComplaintExtension.objects.filter(
            status=ExtensionStatus.REQUESTED,
            complaint__in=complaint_list(request.user, APPROVE_PERM).values("pk"),
        )
        .select_related("complaint__branch", "clock", "requested_by")
        .order_by("requested_at", "id")
    )
    for extension in waiting:
        extension.may_decide = extension.requested_by_id != request.user.pk
    return render(
        request,
        "complaints/extensions.html",
        {"waiting": waiting, "form": ExtensionDecideForm()},
    )


# --- Corrective actions ------------------------------------------------------------------------

ACTION_TABS = (
    ("open", gettext_lazy("Open")),
    ("overdue", gettext_lazy("Overdue")),
    ("mine", gettext_lazy("Mine")),
)


@require_GET
@require_perm(ACTION_VIEW_PERM)
def corrective_actions(request):
    """Corrective actions of the user's branches: open, overdue, or the user's own."""
    user = request.user
    tab = request.GET.get("list") if request.GET.get("list") in dict(ACTION_TABS) else "open"
    rows = (
        CorrectiveAction.objects.visible_to(user, ACTION_VIEW_PERM)
        .filter(status=ActionStatus.OPEN)
        .select_related("complaint", "branch", "owner", "root_cause")
    )
    if tab == "overdue":
        rows = rows.filter(due_date__lt=timezone.localdate())
    elif tab == "mine":
        rows = rows.filter(owner=user)
    page = Paginator(rows.order_by("due_date", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    today = timezone.localdate()
    for action in page.object_list:
        action.overdue = action.due_date < today
        action.may_complete = action.owner_id == user.pk or can_act_at(
            user, ASSIGN_PERM, action.branch_id
        )
    return render(
        request,
        "complaints/actions.html",
        {"tabs": ACTION_TABS, "tab": tab, "page": page, "form": CompleteActionForm()},
    )


@require_POST
@require_perm(ACTION_VIEW_PERM)
def corrective_action_complete(request, action_id: int):
    """The owner (or a manager) says what was done."""
    action = (
        CorrectiveAction.objects.visible_to(request.user, ACTION_VIEW_PERM)
        .select_related("complaint")
        .filter(pk=action_id)
        .first()
    )
    if action is None:
        raise Http404
    form = CompleteActionForm(request.POST)
    from_list = request.POST.get("next") == "actions"
    if form.is_valid():
        try:
            corrective.action_complete(
                actor=request.user, action=action, note=form.cleaned_data["note"]
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Corrective action done."))
        if from_list:
            return redirect("complaints:actions")
        return _back(action.complaint)
    if from_list:
        messages.error(request, _("Say what was done."))
        return redirect("complaints:actions")
    complaint = access_complaint(request.user, action.complaint_id)
    return _render_detail(request, complaint, bound={"complete": form}, status=400)


# --- Attachments -------------------------------------------------------------------------------


@require_POST
@require_perm(ATTACH_PERM)
def attachment_upload(request, complaint_id: int):
    complaint = access_complaint(request.user, complaint_id, ATTACH_PERM)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attachment_add(
                actor=request.user, complaint=complaint, uploaded_file=form.cleaned_data["file"]
            )
        except DomainError as exc:
            form.add_error("file", exc.message)
        else:
            messages.success(request, _("File attached."))
            return _back(complaint)
    return _render_detail(request, complaint, bound={"attachment": form}, status=400)


def _attachment(user, complaint_id: int, attachment_id: int, perm: str):
    complaint = access_complaint(user, complaint_id, perm)
    attachment = ComplaintAttachment.objects.filter(
        complaint=complaint, pk=attachment_id, is_removed=False
    ).first()
    if attachment is None:
        raise Http404
    return complaint, attachment


@require_POST
@require_perm(ATTACH_PERM)
def attachment_remove_view(request, complaint_id: int, attachment_id: int):
    complaint, attachment = _attachment(request.user, complaint_id, attachment_id, ATTACH_PERM)
    try:
        services.attachment_remove(actor=request.user, attachment=attachment)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("File removed."))
    return _back(complaint)


@require_GET
@require_perm(VIEW_PERM)
def attachment_file(request, complaint_id: int, attachment_id: int):
    """The file, for users who may see the complaint: always a download, never a page."""
    _complaint, attachment = _attachment(request.user, complaint_id, attachment_id, VIEW_PERM)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
