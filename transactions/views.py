"""Staff pages of transaction processing: the worklists (my requests, to approve, processing), a
new request for the customer at the counter (one request type, or a bundle: shared fields once,
then each form, one customer confirmation), and the request page (the e-form while it is a draft,
documents with previews, approvals, history, and the actions the user may take).

Pages read through the scoped selectors (outside the user's branches: 404; without the role:
403); every change is a POST calling one service, then a redirect; a refusal comes back as an
error at its field (the e-form's per-field errors) or as a message.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch, prefetch_related_objects
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bankservice.branches.models import Role
from bankservice.branches.scope import can_act_at, has_perm
from bankservice.core.decorators import require_perm
from bankservice.core.errors import DomainError
from bankservice.core.uploads import INLINE_TYPES
from bankservice.customers.services import pii_shown
from bankservice.sla.models import Deadline
from bankservice.sla.selectors import deadlines_for

from . import eforms
from .forms import CancelForm, DecisionForm, DocumentForm, NewRequestForm
from .models import (
    EDITABLE_STATES,
    Approval,
    BundleRun,
    Decision,
    RequestDocument,
    RequestStatus,
    RequestTypeVersion,
)
from .selectors import (
    TIMED_STATES,
    access_request,
    my_requests,
    request_history,
    request_list,
    sla_state,
    with_warning_time,
    worklist,
)
from .services import (
    APPROVE_PERM,
    CANCELLABLE_STATES,
    EDIT_PERM,
    MAKE_PERM,
    PROCESS_PERM,
    VIEW_PERM,
    bundle_confirm,
    bundle_start,
    document_attach,
    document_remove,
    holds_role_for,
    request_approve,
    request_cancel,
    request_create,
    request_reject,
    request_return,
    request_submit,
    request_update,
)

REVEAL_PERM = "customers.reveal_pii"
PAGE_SIZE = 25


# --- Worklists -----------------------------------------------------------------------------------


class Worklist:
    """One tab of the worklist page: the permission that shows it and its rows."""

    def __init__(self, key: str, label, perm: str):
        self.key, self.label, self.perm = key, label, perm

    def rows(self, user):
        rows = my_requests(user) if self.key == "mine" else worklist(user, self.key)
        return with_warning_time(rows)


WORKLISTS = (
    Worklist("mine", gettext_lazy("My requests"), MAKE_PERM),
    Worklist("approve", gettext_lazy("To approve"), APPROVE_PERM),
    Worklist("process", gettext_lazy("Processing"), PROCESS_PERM),
)


@require_GET
@require_perm(VIEW_PERM)
def worklist_view(request):
    """The user's worklists as tabs (`?list=`), ordered by due time, with the SLA state."""
    user = request.user
    tabs = [w for w in WORKLISTS if has_perm(user, w.perm)]
    if not tabs:
        # Reading rights alone (auditors, care): requests are found from the customer's record.
        raise PermissionDenied
    current = next((w for w in tabs if w.key == request.GET.get("list")), tabs[0])
    page = Paginator(current.rows(user), PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    for row in page.object_list:
        row.sla = sla_state(row, now)
    return render(
        request,
        "transactions/worklist.html",
        {"tabs": tabs, "current": current, "page": page, "can_make": has_perm(user, MAKE_PERM)},
    )


# --- A new request or bundle ---------------------------------------------------------------------


def _shared_sections(versions, bundle, *, customer, data, errors=None) -> list:
    """The bundle's shared fields, laid out once (each from the first form that has it)."""
    pending = set(bundle.shared_fields)
    sections = []
    for version in versions:
        for section in eforms.layout(version, data=data, errors=errors, customer=customer):
            section.fields = [f for f in section.fields if f.name in pending]
            pending -= {f.name for f in section.fields}
            if section.fields:
                sections.append(section)
    return sections


@require_http_methods(["GET", "POST"])
@require_perm(MAKE_PERM)
def request_new(request):
    """For the customer at the counter (`?ticket=`) or one found by lookup: choose a request
    type (→ its draft) or a bundle (→ its shared fields, entered once)."""
    user = request.user
    initial = {"ticket": request.GET.get("ticket")} if request.GET.get("ticket") else {}
    initial["customer_query"] = request.GET.get("customer_query", "")
    form = NewRequestForm(request.POST or None, initial=initial, principal=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["bundle"] is not None:
            return _bundle_shared(request, form, data)
        try:
            created = request_create(
                actor=user,
                customer=data["customer"],
                request_type=data["request_type"],
                branch=data["branch"],
                ticket=data["ticket"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Draft %(reference)s opened.") % {"reference": created})
            return redirect("transactions:request", created.pk)
    return render(request, "transactions/new.html", {"form": form})


def _bundle_shared(request, form, data):
    """Step two of a bundle: its shared fields (prefilled from the customer record); posted
    with `shared`, the bundle starts with one draft per request type."""
    bundle, customer = data["bundle"], data["customer"]
    type_ids = list(bundle.items.order_by("position").values_list("request_type_id", flat=True))
    current = RequestTypeVersion.objects.filter(is_current=True, request_type_id__in=type_ids)
    by_type = {version.request_type_id: version for version in current}
    versions = [by_type[pk] for pk in type_ids if pk in by_type]
    values, errors = {}, None
    if "shared" in request.POST:
        for version in versions:
            values.update(eforms.data_from_post(version, request.POST))
        shared = {k: v for k, v in values.items() if k in bundle.shared_fields}
        try:
            run = bundle_start(
                actor=request.user,
                bundle=bundle,
                customer=customer,
                branch=data["branch"],
                shared_data=shared,
                ticket=data["ticket"],
            )
        except eforms.FormErrors as exc:
            errors = exc.errors
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Bundle started: complete each form below."))
            return redirect("transactions:bundle-run", run.pk)
    return render(
        request,
        "transactions/bundle_shared.html",
        {
            "form": form,
            "bundle": bundle,
            "customer": customer,
            "sections": _shared_sections(
                versions, bundle, customer=customer, data=values, errors=errors
            ),
        },
        status=400 if errors else 200,
    )


def access_run(user, run_id: int, perm: str = VIEW_PERM) -> BundleRun:
    """A bundle run at a branch where `user` holds `perm`; otherwise 404."""
    run = (
        BundleRun.objects.visible_to(user, perm)
        .select_related("bundle", "customer", "branch")
        .filter(pk=run_id)
        .first()
    )
    if run is None:
        raise Http404
    return run


@require_GET
@require_perm(VIEW_PERM)
def bundle_run_view(request, run_id: int):
    """A bundle's requests, each to complete, and the customer's one confirmation."""
    run = access_run(request.user, run_id)
    requests = list(
        request_list(request.user)
        .filter(bundle_run=run)
        .select_related("version")
        .prefetch_related(
            Prefetch("documents", queryset=RequestDocument.objects.filter(is_removed=False))
        )
        .order_by("id")
    )
    for service_request in requests:
        service_request.to_complete = (
            _to_complete(service_request) if service_request.status in EDITABLE_STATES else []
        )
    return render(
        request,
        "transactions/bundle_run.html",
        {
            "run": run,
            "requests": requests,
            "may_confirm": run.confirmed_at is None
            and can_act_at(request.user, EDIT_PERM, run.branch_id),
        },
    )


@require_POST
@require_perm(EDIT_PERM)
def bundle_run_confirm(request, run_id: int):
    """The customer confirmed the whole bundle: every request of it is submitted."""
    run = access_run(request.user, run_id, EDIT_PERM)
    if not request.POST.get("customer_confirmed"):
        messages.error(request, _("Tick that the customer has checked and confirmed every form."))
        return redirect("transactions:bundle-run", run.pk)
    try:
        bundle_confirm(actor=request.user, run=run)
    except eforms.FormErrors as exc:
        messages.error(request, _("A form is not complete: %(detail)s") % {"detail": exc.message})
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The customer confirmed; every request is submitted."))
    return redirect("transactions:bundle-run", run.pk)


# --- The request page ----------------------------------------------------------------------------


def _document_names(version) -> dict[str, str]:
    return {doc["code"]: eforms.document_label(doc) for doc in version.documents}


def _to_complete(service_request) -> list[str]:
    """What a draft lacks before it can be submitted: the labels of the fields that fail the
    full check, and the names of the required documents not attached (prefetched)."""
    version, data = service_request.version, service_request.data
    try:
        eforms.validate(version, data)
    except eforms.FormErrors as exc:
        errors = exc.errors
    else:
        errors = {}
    labels = [
        field.label
        for section in eforms.layout(version, data=data, errors=errors)
        for field in section.fields
        if field.errors
    ]
    attached = {document.doc_type for document in service_request.documents.all()}
    names = _document_names(version)
    return labels + [
        names[doc["code"]]
        for doc in eforms.documents_required(version, data)
        if doc["code"] not in attached
    ]


def _may_edit(user, service_request) -> bool:
    # Only the maker changes a request (the services say so again).
    return (
        service_request.status in EDITABLE_STATES
        and service_request.maker_id == user.pk
        and can_act_at(user, EDIT_PERM, service_request.branch_id)
    )


def _may_decide(user, service_request) -> bool:
    # A hint for showing the form; the service checks the level's role and four eyes again.
    return (
        service_request.status == RequestStatus.SUBMITTED
        and service_request.maker_id != user.pk
        and can_act_at(user, APPROVE_PERM, service_request.branch_id)
        and all(
            a.approver_id != user.pk
            for a in service_request.approvals.all()
            if a.round == service_request.round
        )
        and holds_role_for(
            user,
            service_request.approval_levels[service_request.current_level - 1],
            service_request.branch,
        )
    )


def _role_label(role: str) -> str:
    return str(Role(role).label) if role in Role.values else role


# Personal data in a form, masked for a reader without customers.reveal_pii.
def _render_request(request, service_request, *, errors=None, data=None, status=200, **forms):
    user = request.user
    # One query each for the decisions (with who decided) and the documents, whatever their number.
    prefetch_related_objects(
        [service_request],
        Prefetch("approvals", queryset=Approval.objects.select_related("approver")),
        Prefetch("documents", queryset=RequestDocument.objects.filter(is_removed=False)),
    )
    editable = _may_edit(user, service_request)
    version = service_request.version
    if editable:
        sections = eforms.layout(
            version,
            data=service_request.data if data is None else data,
            errors=errors,
            customer=service_request.customer,
        )
    else:
        reveal = can_act_at(user, REVEAL_PERM, service_request.branch_id)
        if reveal:
            pii_shown(
                request,
                fields=eforms.personal_fields(version, service_request.data),
                subject=service_request,
                branch=service_request.branch,
                customer=service_request.customer,
            )
        sections = eforms.layout(
            version,
            data=service_request.data if reveal else eforms.masked(version, service_request.data),
        )
    if service_request.status in TIMED_STATES:  # for the "due soon" mark
        deadline = deadlines_for(service_request).filter(state__in=Deadline.OPEN_STATES).first()
        service_request.warn_at = deadline.warn_at if deadline else None
    approvals = list(service_request.approvals.all())
    for approval in approvals:
        approval.role_label = _role_label(approval.role)
    doc_names = _document_names(version)
    documents = list(service_request.documents.all())
    for document in documents:
        document.type_name = doc_names.get(document.doc_type) or document.doc_type
    context = {
        "sr": service_request,
        "sla": sla_state(service_request, timezone.now()),
        "levels": [_role_label(role) for role in service_request.approval_levels],
        "sections": sections,
        "editable": editable,
        "in_open_bundle": service_request.bundle_run_id is not None
        and service_request.status == RequestStatus.DRAFT,
        "documents": documents,
        "inline_types": INLINE_TYPES,
        "approvals": approvals,
        "history": request_history(service_request),
        "may_decide": _may_decide(user, service_request),
        "may_cancel": service_request.status in CANCELLABLE_STATES
        and service_request.maker_id == user.pk
        and can_act_at(user, EDIT_PERM, service_request.branch_id),
    }
    if editable:
        context["document_form"] = forms.get("document_form") or DocumentForm(
            documents=service_request.version.documents
        )
    if context["may_decide"]:
        context["decision_form"] = forms.get("decision_form") or DecisionForm(
            initial={"level": service_request.current_level}
        )
    if context["may_cancel"]:
        context["cancel_form"] = forms.get("cancel_form") or CancelForm()
    return render(request, "transactions/request.html", context, status=status)


@require_GET
@require_perm(VIEW_PERM)
def request_detail(request, request_id: int):
    return _render_request(request, access_request(request.user, request_id, perm=VIEW_PERM))


def _back(service_request):
    return redirect("transactions:request", service_request.pk)


@require_POST
@require_perm(EDIT_PERM)
def request_save(request, request_id: int):
    """Save the draft; with `submit`, then submit it (full validation, documents present)."""
    service_request = access_request(request.user, request_id, perm=EDIT_PERM)
    data = eforms.data_from_post(service_request.version, request.POST)
    try:
        saved = request_update(actor=request.user, request=service_request, data=data)
        if "submit" in request.POST:
            saved = request_submit(actor=request.user, request=saved)
    except eforms.FormErrors as exc:
        return _render_request(request, service_request, errors=exc.errors, data=data, status=400)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if "submit" in request.POST:
            messages.success(
                request,
                _("Submitted: %(status)s.") % {"status": saved.get_status_display()},
            )
        else:
            messages.success(request, _("Draft saved."))
    return _back(service_request)


@require_POST
@require_perm(APPROVE_PERM)
def request_decide(request, request_id: int):
    """Approve the level waiting, return for correction or reject (with the reason)."""
    service_request = access_request(request.user, request_id, perm=APPROVE_PERM)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _render_request(request, service_request, decision_form=form, status=400)
    decision, note, level = (form.cleaned_data[k] for k in ("decision", "note", "level"))
    who = {"actor": request.user, "request": service_request, "level": level}
    try:
        if decision == Decision.APPROVED:
            decided = request_approve(**who, note=note)
        elif decision == Decision.RETURNED:
            decided = request_return(**who, reason=note)
        else:
            decided = request_reject(**who, reason=note)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Decision recorded: %(status)s.") % {"status": decided.get_status_display()}
        )
    return _back(service_request)


@require_POST
@require_perm(EDIT_PERM)
def request_cancel_view(request, request_id: int):
    service_request = access_request(request.user, request_id, perm=EDIT_PERM)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _render_request(request, service_request, cancel_form=form, status=400)
    try:
        request_cancel(
            actor=request.user, request=service_request, reason=form.cleaned_data["reason"]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Request cancelled."))
    return _back(service_request)


# --- Documents -----------------------------------------------------------------------------------


@require_POST
@require_perm(EDIT_PERM)
def document_upload(request, request_id: int):
    service_request = access_request(request.user, request_id, perm=EDIT_PERM)
    form = DocumentForm(request.POST, request.FILES, documents=service_request.version.documents)
    if form.is_valid():
        try:
            document_attach(
                actor=request.user,
                request=service_request,
                doc_type=form.cleaned_data["doc_type"],
                uploaded_file=form.cleaned_data["file"],
            )
        except DomainError as exc:
            form.add_error("file" if exc.field not in form.fields else exc.field, exc.message)
        else:
            messages.success(request, _("Document attached."))
            return _back(service_request)
    return _render_request(request, service_request, document_form=form, status=400)


def _document(user, request_id: int, document_id: int, perm: str):
    service_request = access_request(user, request_id, perm=perm)
    document = service_request.documents.filter(pk=document_id, is_removed=False).first()
    if document is None:
        raise Http404
    return service_request, document


@require_POST
@require_perm(EDIT_PERM)
def document_remove_view(request, request_id: int, document_id: int):
    service_request, document = _document(request.user, request_id, document_id, EDIT_PERM)
    try:
        document_remove(actor=request.user, document=document)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Document removed."))
    return _back(service_request)


@require_GET
@require_perm(VIEW_PERM)
def document_file(request, request_id: int, document_id: int):
    """The file, for users who may see the request: inline for images and PDF (?inline=1)."""
    _request, document = _document(request.user, request_id, document_id, VIEW_PERM)
    inline = request.GET.get("inline") == "1" and document.content_type in INLINE_TYPES
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=not inline, filename=document.name, content_type=document.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    # A file is never a page: no script of its own, whatever is in it.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
