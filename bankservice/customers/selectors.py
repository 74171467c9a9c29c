"""Reading customers, always within the reader's branch scope."""

from django.db.models import Q

from .models import Customer


def customer_list(*, principal, perm: str = "customers.view_customer", merged: bool = False):
    """Customers the principal may see with `perm`; merged duplicates only when asked."""
    customers = Customer.objects.visible_to(principal, perm).select_related("home_branch")
    return customers if merged else customers.filter(merged_into__isnull=True)


# A merge chain longer than this is a data error; it stops there rather than looping.
MAX_MERGE_HOPS = 5


def customer_in_use(customer):
    """The record that speaks for the customer now: a duplicate merged into another gives way
    to the record it was merged into (whose address, consent and opt-outs are kept up to date).
    """
    for _hop in range(MAX_MERGE_HOPS):
        if getattr(customer, "merged_into_id", None) is None:
            break
        customer = customer.merged_into
    return customer


def customer_merged_ids(*, customer) -> list[int]:
    """The customer's id and the ids of every record merged into it (at any depth)."""
    ids, frontier = [customer.pk], [customer.pk]
    while frontier:
        frontier = list(
            Customer.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True)
        )
        ids.extend(frontier)
    return ids


def customer_merge_candidates(*, principal, customer):
    """Visible, unmerged customers who look like the same person (same phone, or same name and
    birth date), for a manager to merge."""
    match = Q()
    if customer.phone:
        match |= Q(phone=customer.phone)
    if customer.date_of_birth:
        match |= Q(full_name=customer.full_name, date_of_birth=customer.date_of_birth)
    if not match:
        return Customer.objects.none()
    return (
        customer_list(principal=principal, perm="customers.merge_customer")
        .filter(match)
        .exclude(pk=customer.pk)[:10]
    )


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
