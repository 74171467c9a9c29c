"""Staff pages: search, create, edit, and the customer page with its timeline."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bankservice.branches.scope import can_act_at, has_perm
from bankservice.core.decorators import require_perm
from bankservice.core.errors import Conflict
from bankservice.events.catalogue import STAGES
from bankservice.events.selectors import customer_timeline

from .filters import CustomerFilter
from .forms import CustomerForm
from .models import Customer
from .selectors import (
    customer_list,
    customer_merge_candidates,
    customer_possible_duplicates,
)
from .services import (
    customer_check_conflicts,
    customer_create,
    customer_merge,
    customer_reveal_pii,
    customer_update,
)

PAGE_SIZE = 25
TIMELINE_PAGE_SIZE = 20


def access_customer(
    user, customer_id: int, perm: str = "customers.view_customer", *, merged: bool = False
) -> Customer:
    """The customer if `user` may act on it with `perm`; otherwise 404 (never reveal it exists)."""
    customers = customer_list(principal=user, perm=perm, merged=merged)
    customer = customers.filter(pk=customer_id).first()
    if customer is None:
        raise Http404
    return customer


@require_perm("customers.view_customer")
def customer_search(request):
    """Search customers by name, IDs or phone digits, within the user's branches."""
    filterset = CustomerFilter(request.GET or None, queryset=customer_list(principal=request.user))
    page = None
    if filterset.is_bound and filterset.is_valid():
        page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "customers/search.html",
        {
            "filter": filterset,
            "page": page,
            "can_add": has_perm(request.user, "customers.add_customer"),
        },
    )


def _save(request, form, *, save):
    """Validate, warn about shared phones, call the service; return the customer or None."""
    if not form.is_valid():
        return None
    data = form.service_data()
    try:
        customer_check_conflicts(customer=form.instance)
    except Conflict as exc:
        form.add_error(exc.field, exc.message)
        return None
    duplicates = customer_possible_duplicates(
        principal=request.user, phone=data["phone"], exclude=form.instance.pk
    )
    if duplicates and not form.cleaned_data.get("confirm_duplicate"):
        form.duplicates = duplicates
        form.add_error(
            "confirm_duplicate", _("Customers with this phone number exist; check them first.")
        )
        return None
    try:
        return save(data)
    except Conflict as exc:
        form.add_error(exc.field, exc.message)
        return None


@require_perm("customers.add_customer")
def customer_new(request):
    """Create a customer; the same ID number is refused, a shared phone must be confirmed."""
    perm = "customers.add_customer"
    form = CustomerForm(request.POST or None, principal=request.user, perm=perm)
    if request.method == "POST":
        customer = _save(
            request, form, save=lambda data: customer_create(actor=request.user, data=data)
        )
        if customer is not None:
            messages.success(request, _("Customer created."))
            return redirect("customers:detail", customer.pk)
    return render(request, "customers/form.html", {"form": form, "creating": True})


@require_perm("customers.change_customer")
def customer_edit(request, customer_id: int):
    """Edit a customer of one of the user's branches."""
    perm = "customers.change_customer"
    customer = access_customer(request.user, customer_id, perm)
    form = CustomerForm(request.POST or None, instance=customer, principal=request.user, perm=perm)
    if request.method == "POST":
        saved = _save(
            request,
            form,
            save=lambda data: customer_update(
                actor=request.user,
                customer=customer,
                data=data,
                version=form.cleaned_data["version"],
            ),
        )
        if saved is not None:
            messages.success(request, _("Customer updated."))
            return redirect("customers:detail", saved.pk)
    return render(request, "customers/form.html", {"form": form, "customer": customer})


@require_perm("customers.view_customer")
def customer_detail(request, customer_id: int):
    """The customer record and its timeline across every stage."""
    customer = access_customer(request.user, customer_id, merged=True)
    if customer.merged_into_id is not None:
        messages.info(request, _("This record was merged; showing the record it was merged into."))
        return redirect("customers:detail", customer.merged_into_id)
    return _render_detail(request, customer)


def _render_detail(request, customer: Customer, revealed: dict | None = None):
    stage = request.GET.get("stage") if request.GET.get("stage") in dict(STAGES) else None
    timeline = Paginator(customer_timeline(customer=customer, stage=stage), TIMELINE_PAGE_SIZE)
    return render(
        request,
        "customers/detail.html",
        {
            "customer": customer,
            "revealed": revealed or {},
            "can_reveal": can_act_at(request.user, "customers.reveal_pii", customer.home_branch_id),
            "can_edit": can_act_at(
                request.user, "customers.change_customer", customer.home_branch_id
            ),
            "merge_candidates": customer_merge_candidates(principal=request.user, customer=customer)
            if can_act_at(request.user, "customers.merge_customer", customer.home_branch_id)
            else (),
            "timeline": timeline.get_page(request.GET.get("page")),
            "stages": STAGES,
            "stage": stage,
        },
    )


@require_POST
@require_perm("customers.reveal_pii")
def customer_reveal(request, customer_id: int):
    """Show the full ID and phone numbers once; the look is recorded in the audit trail."""
    customer = access_customer(request.user, customer_id)
    revealed = customer_reveal_pii(actor=request.user, customer=customer)
    return _render_detail(request, customer, revealed)


@require_POST
@require_perm("customers.merge_customer")
def customer_merge_view(request, customer_id: int):
    """Merge the posted duplicate into this customer."""
    perm = "customers.merge_customer"
    survivor = access_customer(request.user, customer_id, perm)
    try:
        duplicate = access_customer(request.user, int(request.POST.get("duplicate", "")), perm)
    except ValueError:
        raise Http404 from None
    try:
        customer_merge(actor=request.user, survivor=survivor, duplicate=duplicate)
    except (Conflict, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(
            request,
            _("Customer %(duplicate)s was merged into this record.") % {"duplicate": duplicate.pk},
        )
    return redirect("customers:detail", survivor.pk)
