"""Writing complaints and rule packs: intake (complaint_create), copying a pack to adjust it,
and giving a pack to a branch or region."""

import datetime as dt
import re
import secrets
import zoneinfo
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bankservice.core.errors import BadInput, Conflict
from bankservice.events.services import record
from bankservice.sla.services import deadline_start

from . import clocks, deadlines
from .models import (
    Category,
    Channel,
    ClockStart,
    Complaint,
    PackAssignment,
    RulePack,
)

COPY_SUFFIX = "-copy"
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def complaint_create(
    *,
    actor,
    branch,
    channel: str,
    category: Category,
    description: str,
    received_at: dt.datetime | None = None,
    customer=None,
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    product=None,
    subcategory: Category | None = None,
    desired_outcome: str = "",
    amount: Decimal | None = None,
    currency: str = "",
    staff_complained_about=None,
    is_payment_services: bool = False,
) -> Complaint:
    """Record a complaint and start the clocks its receipt starts.

    The branch's rule pack (``pack_for_branch``) decides the clocks: every clock of the pack that
    starts on receipt, applies to this complaint (payment services or not) and is not an
    extension becomes a kernel deadline of kind ``complaint.<clock code>``, due when
    complaints/clocks.py says on the pack's calendar. A complaint by the same customer about the same product received within
    ``COMPLAINTS_REPEAT_DAYS`` of an earlier one is flagged as a repeat of the latest such one.
    Records ``complaints.complaint_received`` (ids only).
    """
    received_at = received_at or timezone.now()
    fields = _checked_intake(
        channel=channel,
        category=category,
        subcategory=subcategory,
        description=description,
        received_at=received_at,
        customer=customer,
        contact_name=contact_name,
        contact_phone=contact_phone,
        contact_email=contact_email,
        desired_outcome=desired_outcome,
        amount=amount,
        currency=currency,
    )
    pack = clocks.pack_for_branch(branch)
    if pack is None:
        raise BadInput(_("No rule pack applies to this branch."), field="branch")
    with transaction.atomic():
        repeat_of = _earlier_complaint(customer, product, received_at)
        complaint = Complaint.objects.create(
            # A unique placeholder until the id is known: the reference is made from the id.
            reference=f"tmp-{secrets.token_hex(8)}",
            branch=branch,
            customer=customer,
            product=product,
            staff_complained_about=staff_complained_about,
            pack=pack,
            is_payment_services=is_payment_services,
            repeat_of=repeat_of,
            is_repeat=repeat_of is not None,
            created_by=actor,
            **fields,
        )
        day = received_at.astimezone(zoneinfo.ZoneInfo(branch.time_zone)).date()
        complaint.reference = f"CP{day:%y%m%d}{complaint.pk:06d}"
        complaint.save(update_fields=["reference"])
        started = _start_clocks(complaint, actor=actor)
        record(
            type="complaints.complaint_received",
            actor=actor,
            branch=branch,
            customer=customer,
            subject=complaint,
            payload={
                "complaint_id": complaint.pk,
                "pack_id": pack.pk,
                "category_id": category.pk,
                "subcategory_id": subcategory.pk if subcategory else None,
                "product_id": product.pk if product else None,
                "channel": channel,
                "repeat_of_id": repeat_of.pk if repeat_of else None,
                "deadline_ids": [deadline.pk for deadline in started],
            },
        )
    return complaint


def _checked_intake(
    *,
    channel,
    category,
    subcategory,
    description,
    received_at,
    customer,
    contact_name,
    contact_phone,
    contact_email,
    desired_outcome,
    amount,
    currency,
) -> dict:
    """The complaint's own fields, cleaned; BadInput naming the field otherwise."""
    if channel not in Channel.values:
        raise BadInput(_("Choose a channel from the list."), field="channel")
    if timezone.is_naive(received_at):
        raise BadInput(_("Give the time of receipt with its time zone."), field="received_at")
    if received_at > timezone.now():
        raise BadInput(_("A complaint cannot be received in the future."), field="received_at")
    contact_name, contact_phone = contact_name.strip(), contact_phone.strip()
    contact_email = contact_email.strip()
    if customer is not None:
        if contact_name or contact_phone or contact_email:
            raise BadInput(
                _("A customer's complaint takes the customer's details, not a contact's."),
                field="contact_name",
            )
    else:
        if not contact_name:
            raise BadInput(
                _("Choose the customer, or give the complainant's name."), field="contact_name"
            )
        if not (contact_phone or contact_email):
            raise BadInput(
                _("Give a phone number or an e-mail address to reach the complainant."),
                field="contact_phone",
            )
        if contact_email:
            try:
                validate_email(contact_email)
            except ValidationError:
                raise BadInput(_("Enter a valid e-mail address."), field="contact_email") from None
    if category.parent_id is not None or not category.is_active:
        raise BadInput(_("Choose an active top-level category."), field="category")
    if subcategory is not None and (
        subcategory.parent_id != category.pk or not subcategory.is_active
    ):
        raise BadInput(
            _("Choose an active sub-category of the chosen category."), field="subcategory"
        )
    description = description.strip()
    if not description:
        raise BadInput(_("Describe the complaint."), field="description")
    currency = currency.strip().upper()
    if amount is not None:
        try:
            amount = Decimal(amount)
        except (InvalidOperation, TypeError, ValueError):
            raise BadInput(_("Enter the amount as a number."), field="amount") from None
        if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
            raise BadInput(_("Enter a positive amount with at most two decimals."), field="amount")
        if not _CURRENCY.match(currency):
            raise BadInput(
                _("Give the currency of the amount (a three-letter code such as CNY)."),
                field="currency",
            )
    elif currency:
        raise BadInput(_("Give the amount the currency is for."), field="amount")
    return {
        "channel": channel,
        "category": category,
        "subcategory": subcategory,
        "description": description,
        "desired_outcome": desired_outcome.strip(),
        "amount": amount,
        "currency": currency,
        "received_at": received_at,
        "contact_name": contact_name,
        "contact_phone": contact_phone,
        "contact_email": contact_email,
    }


def _earlier_complaint(customer, product, received_at: dt.datetime) -> Complaint | None:
    """The latest complaint of the customer about the product within the repeat window."""
    if customer is None or product is None:
        return None
    window = dt.timedelta(days=settings.COMPLAINTS_REPEAT_DAYS)
    return (
        Complaint.objects.filter(
            customer=customer,
            product=product,
            received_at__gte=received_at - window,
            received_at__lte=received_at,
        )
        .order_by("-received_at", "-id")
        .first()
    )


def _start_clocks(complaint: Complaint, *, actor) -> list:
    """Start each clock of the pack that receipt starts and that applies to the complaint.

    Extensions are not started here: they count from receipt as well, but only replace their
    clock when approved.
    """
    calendar = clocks.pack_calendar(complaint.pack, branch=complaint.branch)
    started = []
    for clock in clocks.clocks_for(complaint.pack, payment_services=complaint.is_payment_services):
        # An extension counts from receipt too, but runs only once approved, replacing its clock.
        if clock.starts_on != ClockStart.RECEIVED or clock.extends_id is not None:
            continue
        due = clocks.due_at(clock, complaint.received_at, calendar=calendar)
        started.append(
            deadline_start(
                subject=complaint,
                kind=deadlines.kind_for(clock),
                policy=deadlines.policy_for(clock),
                branch=complaint.branch,
                actor=actor,
                started_at=complaint.received_at,
                due_at=due,
                warn_at=clocks.warn_at(clock, complaint.received_at, calendar=calendar, due=due),
            )
        )
    return started


def pack_copy(
    *, pack: RulePack, actor, code: str | None = None, name_zh: str = "", name_en: str = ""
) -> RulePack:
    """A new, independent pack with the same clocks; the original is left untouched.

    Without a code the copy is named ``<code>-copy`` (``-copy-2`` … if taken). The copy keeps the
    original's active flag and is assigned nowhere: an administrator adjusts it, then assigns it.
    """
    with transaction.atomic():
        code = code or _free_copy_code(pack.code)
        if RulePack.objects.filter(code=code).exists():
            raise BadInput(_("A rule pack with this code exists already."), field="code")
        copy = RulePack.objects.create(
            code=code,
            name_zh=name_zh or f"{pack.name_zh}（副本）",
            name_en=name_en or f"{pack.name_en} (copy)",
            jurisdiction=pack.jurisdiction,
            calendar_id=pack.calendar_id,
            copied_from=pack,
            is_active=pack.is_active,
        )
        # Clocks in id order, so a clock's extension target is copied before it.
        copies = {}
        for clock in pack.clocks.order_by("id"):
            original_id = clock.pk
            clock.pk = None
            clock._state.adding = True
            clock.pack = copy
            clock.extends = copies.get(clock.extends_id)
            clock.save(force_insert=True)
            copies[original_id] = clock
        record(
            type="complaints.pack_copied",
            actor=actor,
            subject=copy,
            payload={"pack_id": copy.pk, "code": copy.code, "copied_from_id": pack.pk},
        )
    return copy


def pack_assign(*, pack: RulePack, actor, branch=None, region=None) -> PackAssignment:
    """Give ``pack`` to a branch, a region, or (neither) the whole bank, replacing the former one."""
    if branch is not None and region is not None:
        raise BadInput(_("Assign a pack to a branch or a region, not both."), field="region")
    if not pack.is_active:
        raise BadInput(_("This rule pack is not active."), field="pack")
    with transaction.atomic():
        # The row is the level's one slot; locking it serialises two administrators.
        assignment = (
            PackAssignment.objects.select_for_update().filter(branch=branch, region=region).first()
        )
        previous_id = assignment.pack_id if assignment else None
        try:
            with transaction.atomic():
                if assignment is None:
                    assignment = PackAssignment.objects.create(
                        pack=pack, branch=branch, region=region
                    )
                else:
                    assignment.pack = pack
                    assignment.save(update_fields=["pack"])
        except IntegrityError:
            # Another administrator assigned this level at the same moment.
            raise Conflict(_("This level was assigned a pack meanwhile; try again.")) from None
        record(
            type="complaints.pack_assigned",
            actor=actor,
            branch=branch,
            subject=assignment,
            payload={
                "pack_id": pack.pk,
                "previous_pack_id": previous_id,
                "branch_id": branch.pk if branch else None,
                "region_id": region.pk if region else None,
            },
        )
    return assignment


def _free_copy_code(code: str) -> str:
    base = f"{code[: RulePack._meta.get_field('code').max_length - 8]}{COPY_SUFFIX}"
    taken = set(RulePack.objects.filter(code__startswith=base).values_list("code", flat=True))
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate
