"""Writes to the customer record; each records an event in its transaction."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bankservice.branches.scope import can_act_at
from bankservice.core.errors import Conflict
from bankservice.core.masking import mask_email, mask_identifier, mask_phone
from bankservice.events.services import record

from .models import Customer

STALE = gettext_lazy(
    "Someone else changed this record meanwhile; reload it and make your change again."
)

EDITABLE_FIELDS = (
    "core_banking_id",
    "full_name",
    "id_type",
    "national_id",
    "phone",
    "email",
    "date_of_birth",
    "segment",
    "is_elderly",
    "has_disability",
    "is_pregnant",
    "preferred_language",
    "consent_sms",
    "consent_email",
    "consent_phone",
    "home_branch",
)
MASKERS = {"national_id": mask_identifier, "phone": mask_phone}
REVEALABLE_FIELDS = ("national_id", "phone")


def _for_log(field: str, value: Any) -> Any:
    """A field's value as the event payload may hold it: masked, and JSON-friendly."""
    if field in MASKERS:
        return MASKERS[field](value)
    if hasattr(value, "pk"):
        return value.pk
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _check_branch(actor, perm: str, branch) -> None:
    if branch is None or not can_act_at(actor, perm, branch.pk):
        raise PermissionDenied(_("You may not manage customers of this branch."))


def customer_check_conflicts(*, customer: Customer) -> None:
    """Raise Conflict if another customer holds this core-banking ID or ID number."""
    others = Customer.objects.exclude(pk=customer.pk)
    if (
        customer.core_banking_id
        and others.filter(core_banking_id=customer.core_banking_id).exists()
    ):
        raise Conflict(
            _("A customer with this core-banking ID already exists."), field="core_banking_id"
        )
    if customer.national_id and others.filter(national_id=customer.national_id).exists():
        raise Conflict(_("A customer with this ID number already exists."), field="national_id")


def _validate(customer: Customer) -> None:
    # Field validation and Customer.clean() (normalises ids and phones); uniqueness is checked
    # by customer_check_conflicts, which answers with a conflict rather than a plain field error.
    customer.full_clean(validate_unique=False, validate_constraints=False)
    customer_check_conflicts(customer=customer)


def customer_create(*, actor, data: dict) -> Customer:
    """Create a customer at a branch where the actor may add customers."""
    customer = Customer(**{k: v for k, v in data.items() if k in EDITABLE_FIELDS})
    _check_branch(actor, "customers.add_customer", getattr(customer, "home_branch", None))
    _validate(customer)
    try:
        with transaction.atomic():
            customer.save()
            record(
                type="customer.created",
                actor=actor,
                branch=customer.home_branch,
                customer=customer,
                subject=customer,
                payload={f: _for_log(f, getattr(customer, f)) for f in EDITABLE_FIELDS},
            )
    except IntegrityError:
        # Lost a race with another create of the same person: report it as the duplicate it is.
        customer_check_conflicts(customer=customer)
        raise
    return customer


def customer_update(
    *, actor, customer: Customer, data: dict, version: int | None = None
) -> Customer:
    """Change a customer's fields; the event lists what changed (personal data masked).
    `version`, when given, is the version the editor started from: a record changed since is
    refused (Conflict on "version") rather than overwritten with the editor's older values."""
    with transaction.atomic():
        # Locked so two tellers editing at once apply one after the other, not lost-update.
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        _check_branch(actor, "customers.change_customer", locked.home_branch)
        if version is not None and version != locked.version:
            raise Conflict(STALE, field="version")
        before = {f: getattr(locked, f) for f in EDITABLE_FIELDS}
        for field, value in data.items():
            if field in EDITABLE_FIELDS:
                setattr(locked, field, value)
        _validate(locked)
        if "home_branch" in data and locked.home_branch_id != before["home_branch"].pk:
            _check_branch(actor, "customers.change_customer", locked.home_branch)
        changed = [f for f in EDITABLE_FIELDS if getattr(locked, f) != before[f]]
        if changed:
            locked.version += 1
            locked.save(update_fields=[*changed, "updated_at", "version"])
            record(
                type="customer.updated",
                actor=actor,
                branch=locked.home_branch,
                customer=locked,
                subject=locked,
                payload={
                    "changed": {
                        f: {"from": _for_log(f, before[f]), "to": _for_log(f, getattr(locked, f))}
                        for f in changed
                    }
                },
            )
    return locked


def customer_upsert(*, actor, core_banking_id: str, data: dict) -> tuple[Customer, bool]:
    """Create or update the customer with this core-banking ID (for core-banking sync)."""
    data = {**data, "core_banking_id": core_banking_id}
    existing = Customer.objects.filter(core_banking_id=core_banking_id).first()
    if existing is None:
        try:
            return customer_create(actor=actor, data=data), True
        except Conflict as exc:
            if exc.field != "core_banking_id":
                raise
            existing = Customer.objects.get(core_banking_id=core_banking_id)
    if (
        not Customer.objects.visible_to(actor, "customers.change_customer")
        .filter(pk=existing.pk)
        .exists()
    ):
        raise Conflict(
            _("A customer with this core-banking ID exists outside your branches."),
            field="core_banking_id",
        )
    return customer_update(actor=actor, customer=existing, data=data), False


def customer_reveal_pii(*, actor, customer: Customer, fields=REVEALABLE_FIELDS) -> dict[str, str]:
    """Return full ID and phone numbers to an actor allowed to see them; the look is audited."""
    fields = [f for f in fields if f in REVEALABLE_FIELDS]
    if not fields:
        raise ValidationError({"fields": _("Name national_id and/or phone.")})
    if not can_act_at(actor, "customers.reveal_pii", customer.home_branch_id):
        raise PermissionDenied(_("Your role may not see full ID and phone numbers."))
    with transaction.atomic():
        record(
            type="customer.pii_revealed",
            actor=actor,
            branch=customer.home_branch,
            customer=customer,
            subject=customer,
            payload={"fields": fields},
        )
    return {f: getattr(customer, f) or "" for f in fields}


def pii_shown(request, *, fields, subject, branch, customer: Customer | None = None) -> None:
    """Audit a page or API response that shows `fields` (ID, phone numbers, e-mail) unmasked.

    For the stage pages and the API, which show them in full to a role holding
    customers.reveal_pii: one customer.pii_revealed event per response and person (the customer,
    or the anonymous contact on `subject`), naming the fields and where (the request's path)."""
    fields = sorted(fields)
    if not fields:
        return
    key = ("customer", customer.pk) if customer is not None else (subject._meta.label, subject.pk)
    seen = request.__dict__.setdefault("_pii_shown", set())
    if key in seen:
        return
    seen.add(key)
    with transaction.atomic(savepoint=False):
        record(
            type="customer.pii_revealed",
            actor=request.user,
            branch=branch,
            customer=customer,
            subject=subject,
            payload={"fields": fields, "where": request.path},
        )


def contact_shown(request, subject) -> dict[str, str]:
    """Who a stage record (a complaint, a consultation) is about, as a page or the API shows it:
    its customer's or its contact's (`contact_name`, `contact_phone`, `contact_email`) name,
    phone and e-mail; the phone and e-mail masked unless the user holds customers.reveal_pii at
    the record's branch, and then the look is audited (pii_shown)."""
    customer = subject.customer
    if customer is not None:
        name, phone, email = customer.full_name, customer.phone, customer.email
    else:
        name = subject.contact_name
        phone, email = subject.contact_phone, subject.contact_email
    if request is not None and can_act_at(request.user, "customers.reveal_pii", subject.branch_id):
        pii_shown(
            request,
            fields=[f for f, value in (("phone", phone), ("email", email)) if value],
            subject=subject,
            branch=subject.branch,
            customer=customer,
        )
    else:
        phone, email = mask_phone(phone), mask_email(email)
    return {"name": name, "phone": phone, "email": email}


# Fields a survivor takes over from its duplicate when it has none of its own.
MERGE_FILL_FIELDS = (
    "core_banking_id",
    "national_id",
    "phone",
    "email",
    "date_of_birth",
)


def customer_merge(*, actor, survivor: Customer, duplicate: Customer) -> Customer:
    """Merge a duplicate record into the survivor; the duplicate's history stays with it and
    shows on the survivor's timeline. Blank fields of the survivor are filled from it."""
    if survivor.pk == duplicate.pk:
        raise ValidationError({"duplicate": _("A customer cannot be merged into itself.")})
    with transaction.atomic():
        # Both rows locked in id order, so two merges of the same pair cannot interleave.
        locked = {
            c.pk: c
            for c in Customer.objects.select_for_update()
            .filter(pk__in=[survivor.pk, duplicate.pk])
            .order_by("pk")
        }
        survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
        for customer in (survivor, duplicate):
            _check_branch(actor, "customers.merge_customer", customer.home_branch)
            if customer.merged_into_id is not None:
                raise Conflict(
                    _("Customer %(id)s has already been merged.") % {"id": customer.pk},
                    field="duplicate",
                )
        filled = [
            f for f in MERGE_FILL_FIELDS if not getattr(survivor, f) and getattr(duplicate, f)
        ]
        taken = {f: getattr(duplicate, f) for f in filled}
        # Unique values move: clear them on the duplicate first.
        duplicate.merged_into = survivor
        duplicate.merged_at = timezone.now()
        for field in ("core_banking_id", "national_id"):
            if field in taken:
                setattr(duplicate, field, None)
        duplicate.save(
            update_fields=[
                "merged_into",
                "merged_at",
                "core_banking_id",
                "national_id",
                "updated_at",
            ]
        )
        for field, value in taken.items():
            setattr(survivor, field, value)
        if filled:
            survivor.save(update_fields=[*filled, "updated_at"])
        payload = {
            "survivor": survivor.pk,
            "duplicate": duplicate.pk,
            "filled": {f: _for_log(f, v) for f, v in taken.items()},
        }
        for customer in (survivor, duplicate):
            record(
                type="customer.merged",
                actor=actor,
                branch=customer.home_branch,
                customer=customer,
                subject=customer,
                payload=payload,
            )
    return survivor
