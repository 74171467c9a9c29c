"""Reading customers, always within the reader's branch scope."""

from django.db.models import Q

from .models import Customer


def customer_list(*, principal, perm: str = "customers.view_customer"):
    return Customer.objects.visible_to(principal, perm).select_related("home_branch")


def customer_possible_duplicates(
    *, principal, phone: str = "", national_id: str = "", exclude=None
):
    """Visible customers who share the phone or ID number (a family may share a phone)."""
    match = Q()
    if phone:
        match |= Q(phone=phone)
    if national_id:
        match |= Q(national_id=national_id)
    if not match:
        return Customer.objects.none()
    found = customer_list(principal=principal).filter(match)
    if exclude is not None:
        found = found.exclude(pk=exclude)
    return found[:10]
