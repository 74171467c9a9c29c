"""Writing complaints and rule packs: intake (complaint_create), the lifecycle (assignment with
recusal, acknowledgement, investigation, waiting on the customer, proposal, decision, withdrawal,
reopening, merging, review, extensions, attachments, root cause), copying a pack to adjust it and
giving a pack to a branch or region. docs/complaints.md describes the lifecycle's rules."""

import datetime as dt
import re
import secrets
import zoneinfo
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from bankservice.branches.models import Branch, Role, StaffMembership
from bankservice.branches.scope import can_act_at
from bankservice.core.errors import BadInput, Conflict
from bankservice.core.uploads import checked_upload
from bankservice.events.services import record
from bankservice.sla.models import DeadlineState
from bankservice.sla.selectors import deadlines_for, open_deadline_for
from bankservice.sla.services import (
    deadline_cancel,
    deadline_extend,
    deadline_meet,
    deadline_pause,
    deadline_resume,
    deadline_start,
)

from . import clocks, deadlines, letters
from .models import (
    DECIDED_STATUSES,
    OPEN_STATUSES,
    REASONED_STATUSES,
    Category,
    Channel,
    ClockMetBy,
    ClockStart,
    Complaint,
    ComplaintAttachment,
    ComplaintExtension,
    ComplaintNote,
    ComplaintStatus,
    ExtensionStatus,
    LetterKind,
    NoteKind,
    PackAssignment,
    RootCause,
    RulePack,
)

ADD_PERM = "complaints.add_complaint"
ATTACH_PERM = "complaints.add_complaintattachment"
HANDLE_PERM = "complaints.handle_complaint"
ASSIGN_PERM = "complaints.assign_complaint"
APPROVE_PERM = "complaints.approve_extension"
LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)
TEXT_MAX = 4000
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
    language: str = "",
) -> Complaint:
    """Record a complaint and start the clocks its receipt starts.

    A member of staff (``actor``) needs ``complaints.add_complaint`` at the branch; actor=None is
    the complainant on the public form. ``language`` (``zh-hans`` or ``en``) is a contact's
    language for letters; a customer's letters follow the customer's preferred language.

    The branch's rule pack (``pack_for_branch``) decides the clocks: every clock of the pack that
    starts on receipt, applies to this complaint (payment services or not) and is not an
    extension becomes a kernel deadline of kind ``complaint.<clock code>``, due when
    complaints/clocks.py says on the pack's calendar. A complaint by the same customer about the same product received within
    ``COMPLAINTS_REPEAT_DAYS`` of an earlier one is flagged as a repeat of the latest such one.
    Records ``complaints.complaint_received`` (ids only).
    """
    if actor is not None:
        _check(actor, ADD_PERM, branch.pk)
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
        language=language,
    )
    pack = clocks.pack_for_branch(branch)
    if pack is None:
        raise BadInput(_("No rule pack applies to this branch."), field="branch")
    with transaction.atomic():
        repeat_of = _earlier_complaint(customer, product, received_at)
        complaint = _insert(
            branch=branch,
            customer=customer,
            product=product,
            staff_complained_about=staff_complained_about,
            pack=pack,
            is_payment_services=is_payment_services,
            repeat_of=repeat_of,
            is_repeat=repeat_of is not None,
            created_by=_user(actor),
            **fields,
        )
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


def _insert(**fields) -> Complaint:
    """Insert a complaint and give it its reference, ``CP<yymmdd of receipt, branch time><id>``."""
    # A unique placeholder until the id is known: the reference is made from the id.
    complaint = Complaint.objects.create(reference=f"tmp-{secrets.token_hex(8)}", **fields)
    zone = zoneinfo.ZoneInfo(complaint.branch.time_zone)
    day = complaint.received_at.astimezone(zone).date()
    complaint.reference = f"CP{day:%y%m%d}{complaint.pk:06d}"
    complaint.save(update_fields=["reference"])
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
    language="",
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
        if language not in ("", *LANGUAGES):
            raise BadInput(_("Choose a language from the list."), field="language")
        if contact_email:
            try:
                validate_email(contact_email)
            except ValidationError:
                raise BadInput(_("Enter a valid e-mail address."), field="contact_email") from None
    _check_categories(category, subcategory)
    description = description.strip()
    if not description:
        raise BadInput(_("Describe the complaint."), field="description")
    currency = currency.strip().upper()
    if amount is not None:
        amount = _amount(amount, field="amount")
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
        # A customer's letters follow the customer's preferred language, read when written.
        "language": language if customer is None else "",
    }


def _amount(value, *, field: str) -> Decimal:
    """A money amount: a number, not negative, at most two decimals; BadInput on ``field``."""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise BadInput(_("Enter the amount as a number."), field=field) from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise BadInput(_("Enter a positive amount with at most two decimals."), field=field)
    return amount


def _check_categories(category: Category, subcategory: Category | None) -> None:
    if category is None or category.parent_id is not None or not category.is_active:
        raise BadInput(_("Choose an active top-level category."), field="category")
    if subcategory is not None and (
        subcategory.parent_id != category.pk or not subcategory.is_active
    ):
        raise BadInput(
            _("Choose an active sub-category of the chosen category."), field="subcategory"
        )


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


def _start_clocks(
    complaint: Complaint,
    *,
    actor,
    starts_on: str = ClockStart.RECEIVED,
    at: dt.datetime | None = None,
) -> list:
    """Start each clock of the pack that ``starts_on`` starts (at ``at``, default the receipt)
    and that applies to the complaint.

    Extensions are not started here: they count from receipt as well, but only replace their
    clock when approved.
    """
    at = at or complaint.received_at
    calendar = clocks.pack_calendar(complaint.pack, branch=complaint.branch)
    started = []
    for clock in clocks.clocks_for(complaint.pack, payment_services=complaint.is_payment_services):
        # An extension counts from receipt too, but runs only once approved, replacing its clock.
        if clock.starts_on != starts_on or clock.extends_id is not None:
            continue
        due = clocks.due_at(clock, at, calendar=calendar)
        started.append(
            deadline_start(
                subject=complaint,
                kind=deadlines.kind_for(clock),
                policy=deadlines.policy_for(clock),
                branch=complaint.branch,
                actor=actor,
                started_at=at,
                due_at=due,
                warn_at=clocks.warn_at(clock, at, calendar=calendar, due=due),
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


# --- The lifecycle -----------------------------------------------------------------------------
# Every function: keyword-only, `actor` is a User (None only where said: the complainant on the
# public pages), runs in transaction.atomic, locks the complaint row, checks the permission at
# the complaint's branch and the transition under the lock, records a `complaints.*` event
# (ids only) and returns the fresh complaint. Errors: PermissionDenied (role/branch/recusal),
# BadInput(field=...) (bad values), Conflict (the state moved on meanwhile / not allowed now).
# Free text (notes, reasons) never goes into an event.


def _user(actor):
    """The acting user, or None for the complainant (actor=None) and API clients."""
    if actor is None or getattr(actor, "is_api_client", False):
        return None
    return actor


def _check(actor, perm: str, branch_id: int) -> None:
    if not can_act_at(actor, perm, branch_id):
        raise PermissionDenied(_("Your role does not allow this at this branch."))


def _managers_above(staff_id: int):
    """User ids of the managers above a member of staff: the branch managers of the branches
    where they work and the regional managers of those branches' regions (or of a region they
    hold a role over)."""
    memberships = StaffMembership.objects.filter(user_id=staff_id)
    branch_ids = memberships.filter(branch__isnull=False).values("branch_id")
    return StaffMembership.objects.filter(
        Q(role__name=Role.BRANCH_MANAGER, branch_id__in=branch_ids)
        | Q(
            role__name=Role.REGIONAL_MANAGER,
            region_id__in=Branch.objects.filter(pk__in=branch_ids).values("region_id"),
        )
        | Q(
            role__name=Role.REGIONAL_MANAGER,
            region_id__in=memberships.filter(region__isnull=False).values("region_id"),
        )
    ).values("user_id")


def _is_recused(actor, complaint: Complaint) -> bool:
    """The staff member complained about, or (pack.recuse_role_chain) a manager above them."""
    user = _user(actor)
    staff_id = complaint.staff_complained_about_id
    if user is None or staff_id is None:
        return False
    if user.pk == staff_id:
        return True
    return (
        complaint.pack.recuse_role_chain
        and _managers_above(staff_id).filter(user_id=user.pk).exists()
    )


def _require(actor, perm: str, complaint: Complaint) -> None:
    """``perm`` at the complaint's branch, and not recused from it."""
    _check(actor, perm, complaint.branch_id)
    if _is_recused(actor, complaint):
        raise PermissionDenied(
            _("You may not act on a complaint about yourself or a member of your staff.")
        )


def _require_handler(actor, complaint: Complaint) -> None:
    """A handler of this complaint: its officer, anyone who may handle it while unassigned, or
    a manager (``assign_complaint``)."""
    _require(actor, HANDLE_PERM, complaint)
    user = _user(actor)
    assigned = complaint.assigned_to_id
    mine = assigned is None or (user is not None and assigned == user.pk)
    if not mine and not can_act_at(actor, ASSIGN_PERM, complaint.branch_id):
        raise PermissionDenied(_("This complaint is assigned to another officer."))


def _require_status(complaint: Complaint, statuses, *, action: str) -> None:
    if complaint.status not in statuses:
        raise Conflict(
            _("Complaint %(reference)s is %(status)s: it cannot be %(action)s.")
            % {
                "reference": complaint.reference,
                "status": complaint.get_status_display(),
                "action": action,
            }
        )


def _text(value: str, *, field: str, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise BadInput(_("This field is required."), field=field)
    if len(value) > TEXT_MAX:
        raise BadInput(_("At most %(limit)d characters.") % {"limit": TEXT_MAX}, field=field)
    return value


def _lock(complaint: Complaint | int) -> Complaint:
    """The complaint, locked for one transition, with what the transitions read.

    Who else locks this row: every lifecycle service here (they wait their turn, then re-check
    the state). The deadline sweep locks only deadline rows; escalation (complaints/deadlines.py)
    locks the complaint inside the sweep's transaction.
    """
    pk = complaint if isinstance(complaint, int) else complaint.pk
    try:
        return (
            Complaint.objects.select_for_update(of=("self",))
            .select_related("branch", "pack", "customer")
            .get(pk=pk)
        )
    except Complaint.DoesNotExist:
        raise Http404(_("No such complaint.")) from None


def _save(complaint: Complaint, *fields) -> None:
    complaint.save(update_fields=[*fields, "updated_at"])


def _event(type_: str, actor, complaint: Complaint, **payload) -> None:
    record(
        type=f"complaints.{type_}",
        actor=actor,
        branch=complaint.branch,
        customer=complaint.customer,
        subject=complaint,
        payload={"complaint_id": complaint.pk, "status": complaint.status, **payload},
    )


def _clock_deadlines(complaint: Complaint) -> list[tuple]:
    """(deadline, pack clock) of each of the complaint's clocks, oldest first; a deadline of a
    clock its pack no longer has is left alone."""
    by_kind = {deadlines.kind_for(clock): clock for clock in complaint.pack.clocks.all()}
    return [(d, by_kind.get(d.kind)) for d in deadlines_for(complaint) if d.kind in by_kind]


def _cancel_open(complaint: Complaint, actor, *, starts_on=None) -> list[int]:
    """Cancel the complaint's open clocks (only those ``starts_on`` starts, if given) and, unless
    limited, its open escalation deadline; the ids cancelled."""
    cancelled = []
    for deadline, clock in _clock_deadlines(complaint):
        if deadline.state == DeadlineState.OPEN and (
            starts_on is None or clock.starts_on == starts_on
        ):
            cancelled.append(deadline_cancel(deadline=deadline, actor=actor).pk)
    if starts_on is None:
        escalation = open_deadline_for(complaint, kind=deadlines.ESCALATION_KIND)
        if escalation is not None:
            cancelled.append(deadline_cancel(deadline=escalation, actor=actor).pk)
    return cancelled


def _note(actor, complaint: Complaint, kind: str, text: str) -> ComplaintNote | None:
    """Keep what staff wrote with a transition on the case (not in the event: free text)."""
    if not text:
        return None
    return ComplaintNote.objects.create(
        complaint=complaint, kind=kind, text=text, author=_user(actor)
    )


def complaint_add_note(*, actor, complaint: Complaint, text: str) -> ComplaintNote:
    """A case note by a handler of the complaint (investigation findings, a call made), at any
    status: the case file keeps growing after a decision too."""
    text = _text(text, field="text")
    with transaction.atomic():
        complaint = _lock(complaint)
        _require_handler(actor, complaint)
        note = _note(actor, complaint, NoteKind.NOTE, text)
        _event("note_added", actor, complaint, note_id=note.pk)
    return note


def _close_waiting_extensions(complaint: Complaint) -> None:
    # The complaint ended or was decided: a waiting request is moot (refused, by nobody).
    complaint.extensions.filter(status=ExtensionStatus.REQUESTED).update(
        status=ExtensionStatus.REFUSED, decided_at=timezone.now()
    )


def eligible_officers(complaint: Complaint):
    """Active users who may handle the complaint: `complaints.handle_complaint` at its branch,
    minus the staff member complained about and, if the pack recuses the role chain, the
    managers above them (branch managers of their branches, regional managers of their regions).
    A QuerySet of users ordered by name."""
    where = Q(branch_id=complaint.branch_id) | Q(branch__isnull=True, region__isnull=True)
    region_id = Branch.objects.filter(pk=complaint.branch_id).values("region_id")
    where |= Q(region_id__in=region_id)
    holders = StaffMembership.objects.filter(
        where,
        role__permissions__content_type__app_label="complaints",
        role__permissions__codename="handle_complaint",
    ).values("user_id")
    users = get_user_model().objects.filter(is_active=True, pk__in=holders)
    staff_id = complaint.staff_complained_about_id
    if staff_id is not None:
        users = users.exclude(pk=staff_id)
        if complaint.pack.recuse_role_chain:
            users = users.exclude(pk__in=_managers_above(staff_id))
    return users.order_by("first_name", "last_name", "username")


def complaint_assign(*, actor, complaint: Complaint, officer) -> Complaint:
    """Give the complaint to `officer` (one of eligible_officers). A manager
    (`assign_complaint`) assigns anyone eligible; an officer may take an unassigned one."""
    with transaction.atomic():
        complaint = _lock(complaint)
        _require(actor, HANDLE_PERM, complaint)
        _require_status(complaint, OPEN_STATUSES, action=_("assigned"))
        manager = can_act_at(actor, ASSIGN_PERM, complaint.branch_id)
        user = _user(actor)
        if not manager:
            if user is None or officer.pk != user.pk:
                raise PermissionDenied(_("Only a manager assigns a complaint to someone else."))
            if complaint.assigned_to_id not in (None, user.pk):
                raise Conflict(_("This complaint has been assigned to another officer meanwhile."))
        if complaint.assigned_to_id == officer.pk:
            return complaint
        if not eligible_officers(complaint).filter(pk=officer.pk).exists():
            raise BadInput(_("This person may not handle this complaint."), field="officer")
        previous = complaint.assigned_to_id
        complaint.assigned_to = officer
        complaint.assigned_at = timezone.now()
        _save(complaint, "assigned_to", "assigned_at")
        _event("complaint_assigned", actor, complaint, officer_id=officer.pk, previous_id=previous)
    return complaint


def complaint_acknowledge(*, actor, complaint: Complaint, send_letter: bool = True) -> Complaint:
    """received -> acknowledged: meets the clocks met by acknowledgement and (unless
    send_letter=False, e.g. acknowledged in person) sends the acknowledgement letter."""
    with transaction.atomic():
        complaint = _lock(complaint)
        _require_handler(actor, complaint)
        _require_status(complaint, [ComplaintStatus.RECEIVED], action=_("acknowledged"))
        complaint.status = ComplaintStatus.ACKNOWLEDGED
        complaint.acknowledged_at = timezone.now()
        _save(complaint, "status", "acknowledged_at")
        met = _meet(complaint, actor, {ClockMetBy.ACKNOWLEDGEMENT})
        letter = _letter(actor, complaint, LetterKind.ACKNOWLEDGEMENT) if send_letter else None
        _event(
            "complaint_acknowledged",
            actor,
            complaint,
            deadline_ids=met,
            letter_id=letter.pk if letter else None,
        )
    return complaint


def _meet(complaint: Complaint, actor, met_by: set, pairs: list | None = None) -> list[int]:
    """Meet the complaint's clocks met by ``met_by``: open ones, and breached ones not yet met
    (a late meet, for on-time reports). A window is met only while still open; a window that
    has passed is left to the sweep. The ids met."""
    now = timezone.now()
    met = []
    for deadline, clock in pairs if pairs is not None else _clock_deadlines(complaint):
        if clock.met_by not in met_by:
            continue
        if clock.is_window:
            if deadline.state == DeadlineState.OPEN and deadline.due_at > now:
                met.append(deadline_meet(deadline=deadline, actor=actor).pk)
        elif deadline.state == DeadlineState.OPEN or (
            deadline.state == DeadlineState.BREACHED and deadline.met_at is None
        ):
            met.append(deadline_meet(deadline=deadline, actor=actor).pk)
    return met


def _letter(actor, complaint: Complaint, kind: str, extension=None):
    return letters.letter_send(
        actor=_user(actor), complaint=complaint, kind=kind, extension=extension
    )


def complaint_investigate(*, actor, complaint: Complaint) -> Complaint:
    """received/acknowledged -> investigating (needs an assigned officer)."""
    with transaction.atomic():
        complaint = _lock(complaint)
        _require_handler(actor, complaint)
        _require_status(
            complaint,
            [ComplaintStatus.RECEIVED, ComplaintStatus.ACKNOWLEDGED],
            action=_("investigated"),
        )
        if complaint.assigned_to_id is None:
            raise Conflict(_("Assign the complaint to an officer first."))
        complaint.status = ComplaintStatus.INVESTIGATING
        _save(complaint, "status")
        _event("complaint_investigating", actor, complaint)
    return complaint


def complaint_wait_on_customer(*, actor, complaint: Complaint, note: str) -> Complaint:
    """investigating -> waiting_on_customer: pauses the open clocks that may pause (internal
    targets); regulatory clocks run on."""
    with transaction.atomic():
        complaint = _lock(complaint)
        _require_handler(actor, complaint)
        _require_status(complaint, [ComplaintStatus.INVESTIGATING], action=_("put on hold"))
        note = _text(note, field="note")
        now = timezone.now()
        paused = []
        for deadline, clock in _clock_deadlines(complaint):
            # An overdue clock is not paused: the pause cannot undo its lateness.
            if (
                clock.pausable
                and deadline.state == DeadlineState.OPEN
                and not deadline.is_paused
                and deadline.due_at > now
            ):
                paused.append(deadline_pause(deadline=deadline, actor=actor).pk)
        complaint.status = ComplaintStatus.WAITING_ON_CUSTOMER
        _save(complaint, "status")
        _note(actor, complaint, NoteKind.WAITING, note)
        _event("complaint_waiting", actor, complaint, paused_deadline_ids=paused)
    return complaint


def complaint_customer_replied(*, actor, complaint: Complaint, note: str = "") -> Complaint:
    """waiting_on_customer -> investigating: resumes the paused clocks."""
    with transaction.atomic():
        complaint = _lock(complaint)
        _require_handler(actor, complaint)
        _require_status(
            complaint, [ComplaintStatus.WAITING_ON_CUSTOMER], action=_("marked as replied")
        )
        note = _text(note, field="note", required=False)
        resumed = [
            deadline_resume(deadline=deadline, actor=actor).pk
            for deadline, _clock in _clock_deadlines(complaint)
            if deadline.state == DeadlineState.OPEN and deadline.is_paused
        ]
        complaint.status = ComplaintStatus.INVESTIGATING
        _save(complaint, "status")
        _note(actor, complaint, NoteKind.REPLIED, note)
        _event("complaint_customer_replied", actor, complaint, resumed_deadline_ids=resumed)
    return complaint


def complaint_propose(*, actor, complaint: Complaint, proposal: str) -> Complaint:
    """investigating -> resolution_proposed, with the proposed resolution."""
    with transaction.atomic():
        complaint = _lock(complaint)
        _require_handler(actor, complaint)
        _require_status(complaint, [ComplaintStatus.INVESTIGATING], action=_("given a proposal"))
        complaint.resolution_proposal = _text(proposal, field="proposal")
        complaint.status = ComplaintStatus.RESOLUTION_PROPOSED
        _save(complaint, "status", "resolution_proposal")
        _event("resolution_proposed", actor, complaint)
    return complaint


def complaint_accept(*, actor, complaint: Complaint) -> Complaint:
    """resolution_proposed -> resolved (the customer accepted): a decision. actor=None when the
    complainant accepts on the public progress page. Same effects as complaint_decide."""
    with transaction.atomic():
        complaint = _lock(complaint)
        if actor is not None:
            _require_handler(actor, complaint)
        _require_status(complaint, [ComplaintStatus.RESOLUTION_PROPOSED], action=_("accepted"))
        complaint.status = ComplaintStatus.RESOLVED
        _decided(actor, complaint, send_letter=True)
    return complaint


def complaint_decide(
    *,
    actor,
    complaint: Complaint,
    outcome: str,
    reasons: str,
    redress_amount=None,
    send_letter: bool = True,
) -> Complaint:
    """An open complaint -> upheld / partially_upheld / rejected (`outcome`), with reasons and
    redress. Meets the clocks met by a decision (and by acknowledgement), ends the escalation
    deadline, starts the clocks that a decision starts (the review window), and sends the final
    response letter (the summary resolution letter if decided inside an open summary window)."""
    if outcome not in REASONED_STATUSES:
        raise BadInput(_("Choose upheld, partially upheld or rejected."), field="outcome")
    reasons = _text(reasons, field="reasons")
    if redress_amount in (None, ""):
        redress_amount = None
    else:
        redress_amount = _amount(redress_amount, field="redress_amount")
    with transaction.atomic():
        complaint = _lock(complaint)
        _require_handler(actor, complaint)
        _require_status(complaint, OPEN_STATUSES, action=_("decided"))
        complaint.status = outcome
        complaint.decision_reasons = reasons
        complaint.redress_amount = redress_amount
        _decided(actor, complaint, send_letter=send_letter)
    return complaint


def _decided(actor, complaint: Complaint, *, send_letter: bool) -> None:
    """What every decision does, the complaint's new status set (under the lock)."""
    complaint.decided_at = timezone.now()
    _save(complaint, "status", "decided_at", "decision_reasons", "redress_amount")
    pairs = _clock_deadlines(complaint)
    window_open = any(
        clock.is_window
        and clock.met_by == ClockMetBy.DECISION
        and deadline.state == DeadlineState.OPEN
        and deadline.due_at > complaint.decided_at
        for deadline, clock in pairs
    )
    met = _meet(complaint, actor, {ClockMetBy.DECISION, ClockMetBy.ACKNOWLEDGEMENT}, pairs)
    escalation = open_deadline_for(complaint, kind=deadlines.ESCALATION_KIND)
    if escalation is not None:
        met.append(deadline_meet(deadline=escalation, actor=actor).pk)
    _close_waiting_extensions(complaint)
    # A review's decision is final: no window to ask for another review.
    started = []
    if complaint.review_of_id is None:
        started = _start_clocks(
            complaint, actor=actor, starts_on=ClockStart.DECISION, at=complaint.decided_at
        )
    letter = None
    if send_letter:
        if complaint.review_of_id is not None:
            kind = LetterKind.REVIEW_DECISION
        elif window_open:
            kind = LetterKind.SUMMARY_RESOLUTION
        else:
            kind = LetterKind.FINAL_RESPONSE
        letter = _letter(actor, complaint, kind)
    _event(
        "complaint_decided",
        actor,
        complaint,
        met_deadline_ids=met,
        started_deadline_ids=[d.pk for d in started],
        letter_id=letter.pk if letter else None,
        redress=str(complaint.redress_amount) if complaint.redress_amount is not None else None,
    )


def complaint_withdraw(
    *, actor, complaint: Complaint, note: str = "", withdrawn_at=None
) -> Complaint:
    """An open complaint -> withdrawn (ended_at = withdrawn_at or now); cancels every open clock."""
    note = _text(note, field="note", required=False)
    now = timezone.now()
    withdrawn_at = withdrawn_at or now
    if timezone.is_naive(withdrawn_at) or withdrawn_at > now:
        raise BadInput(_("Give a past time with its time zone."), field="withdrawn_at")
    with transaction.atomic():
        complaint = _lock(complaint)
        _require_handler(actor, complaint)
        _require_status(complaint, OPEN_STATUSES, action=_("withdrawn"))
        if withdrawn_at < complaint.received_at:
            raise BadInput(
                _("A complaint is withdrawn after it was received."), field="withdrawn_at"
            )
        complaint.status = ComplaintStatus.WITHDRAWN
        complaint.ended_at = withdrawn_at
        _save(complaint, "status", "ended_at")
        cancelled = _cancel_open(complaint, actor)
        _close_waiting_extensions(complaint)
        _note(actor, complaint, NoteKind.WITHDRAWN, note)
        _event("complaint_withdrawn", actor, complaint, cancelled_deadline_ids=cancelled)
    return complaint


def complaint_reopen(*, actor, complaint: Complaint, reason: str) -> Complaint:
    """A decided complaint -> investigating (`assign_complaint`); reopened_count + 1; cancels the
    clocks the decision started; the next decision starts them again."""
    reason = _text(reason, field="reason")
    with transaction.atomic():
        complaint = _lock(complaint)
        _require(actor, ASSIGN_PERM, complaint)
        _require_status(complaint, DECIDED_STATUSES, action=_("reopened"))
        previous = complaint.status
        complaint.status = ComplaintStatus.INVESTIGATING
        # No longer decided; the reasons and redress stay until the next decision replaces them.
        complaint.decided_at = None
        complaint.reopened_count += 1
        _save(complaint, "status", "decided_at", "reopened_count")
        cancelled = _cancel_open(complaint, actor, starts_on=ClockStart.DECISION)
        _note(actor, complaint, NoteKind.REOPENED, reason)
        _event(
            "complaint_reopened",
            actor,
            complaint,
            previous_status=previous,
            reopened_count=complaint.reopened_count,
            cancelled_deadline_ids=cancelled,
        )
    return complaint


def complaint_merge(*, actor, complaint: Complaint, into: Complaint) -> Complaint:
    """Merge an open complaint into an earlier open complaint of the same customer: `complaint`
    -> merged (merged_into=into), its open clocks cancelled; `into` keeps its clocks, which run
    from the earlier receipt."""
    if complaint.pk == into.pk:
        raise BadInput(_("A complaint cannot be merged into itself."), field="into")
    with transaction.atomic():
        # Both rows, in id order so that two merges of the same pair cannot deadlock.
        locked = {c.pk: _lock(c) for c in sorted((complaint, into), key=lambda c: c.pk)}
        complaint, into = locked[complaint.pk], locked[into.pk]
        _require_handler(actor, complaint)
        _require_handler(actor, into)
        _require_status(complaint, OPEN_STATUSES, action=_("merged"))
        if into.status not in OPEN_STATUSES:
            raise Conflict(_("A complaint is merged only into an open complaint."))
        if complaint.customer_id is None or complaint.customer_id != into.customer_id:
            raise BadInput(_("Only complaints of the same customer are merged."), field="into")
        if (into.received_at, into.pk) > (complaint.received_at, complaint.pk):
            raise BadInput(_("Merge the later complaint into the earlier one."), field="into")
        complaint.status = ComplaintStatus.MERGED
        complaint.merged_into = into
        complaint.ended_at = timezone.now()
        _save(complaint, "status", "merged_into", "ended_at")
        cancelled = _cancel_open(complaint, actor)
        _close_waiting_extensions(complaint)
        _event(
            "complaint_merged",
            actor,
            complaint,
            merged_into_id=into.pk,
            cancelled_deadline_ids=cancelled,
        )
    return complaint


def complaint_request_review(
    *, actor, complaint: Complaint, reason: str, received_at=None
) -> Complaint:
    """The complainant asks for a review (核查) of a decided complaint: a new complaint with
    review_of=complaint, same customer/contact/branch/category/product, starting the pack's
    clocks that a review request starts (if the pack has none, the clocks receipt starts). The
    window clock (met by a review request) is met; refused (BadInput field="received_at") when
    the window has passed. actor=None from the public progress page."""
    reason = _text(reason, field="reason")
    now = timezone.now()
    received_at = received_at or now
    if timezone.is_naive(received_at) or received_at > now:
        raise BadInput(_("Give a past time with its time zone."), field="received_at")
    with transaction.atomic():
        original = _lock(complaint)
        if actor is not None:
            _require(actor, ADD_PERM, original)
        _require_status(original, DECIDED_STATUSES, action=_("reviewed"))
        if original.review_of_id is not None:
            raise Conflict(_("A review's decision is final."))
        if received_at < original.decided_at:
            raise BadInput(_("A review is requested after the decision."), field="received_at")
        window = _review_window(original)
        if window is None:
            if original.reviews.filter(status__in=OPEN_STATUSES).exists():
                raise Conflict(_("A review of this complaint is under way."))
        else:
            if window.met_at is not None:
                raise Conflict(_("A review of this decision has been requested already."))
            if received_at > window.due_at:
                raise BadInput(
                    _("The time to ask for a review of this decision has passed."),
                    field="received_at",
                )
            # Met even if the sweep has marked it passed: the request came in time.
            deadline_meet(deadline=window, actor=actor)
        review = _insert(
            branch=original.branch,
            customer=original.customer,
            contact_name=original.contact_name,
            contact_phone=original.contact_phone,
            contact_email=original.contact_email,
            language=original.language,
            channel=Channel.ONLINE_FORM if actor is None else original.channel,
            product_id=original.product_id,
            category_id=original.category_id,
            subcategory_id=original.subcategory_id,
            description=reason,
            amount=original.amount,
            currency=original.currency,
            staff_complained_about_id=original.staff_complained_about_id,
            received_at=received_at,
            pack=original.pack,
            is_payment_services=original.is_payment_services,
            review_of=original,
            created_by=_user(actor),
        )
        review_starts = {clock.starts_on for clock in original.pack.clocks.all()}
        starts_on = (
            ClockStart.REVIEW_REQUESTED
            if ClockStart.REVIEW_REQUESTED in review_starts
            else ClockStart.RECEIVED
        )
        started = _start_clocks(review, actor=actor, starts_on=starts_on)
        _event(
            "review_requested",
            actor,
            original,
            review_id=review.pk,
            window_deadline_id=window.pk if window else None,
        )
        _event(
            "complaint_received",
            actor,
            review,
            pack_id=review.pack_id,
            review_of_id=original.pk,
            deadline_ids=[d.pk for d in started],
        )
    return review


def _review_window(complaint: Complaint):
    """The window to ask for a review of the latest decision (a clock met by a review request),
    or None when the pack has none."""
    window = None
    for deadline, clock in _clock_deadlines(complaint):
        if clock.met_by == ClockMetBy.REVIEW_REQUEST and deadline.state != DeadlineState.CANCELLED:
            window = deadline  # the latest wins: a reopened complaint's new decision
    return window


def extension_request(*, actor, complaint: Complaint, clock, reason: str):
    """Ask to extend the complaint's running clock to the pack's extension `clock` (a PackClock
    whose `extends` is the clock now running). Approved at once if the clock needs no approval
    (then applied: the deadline's due time moves to the extension's due time from receipt and,
    if the clock says so, the extension notice letter is sent); otherwise waits for
    extension_decide. Returns the ComplaintExtension."""
    reason = _text(reason, field="reason")
    with transaction.atomic():
        complaint = _lock(complaint)
        _require_handler(actor, complaint)
        if _user(actor) is None:
            raise PermissionDenied(_("Extensions are asked for by members of staff."))
        _require_status(complaint, OPEN_STATUSES, action=_("extended"))
        applicable = clocks.clocks_for(
            complaint.pack, payment_services=complaint.is_payment_services
        )
        clock = next(
            (c for c in applicable if c.pk == getattr(clock, "pk", clock) and c.extends_id),
            None,
        )
        if clock is None:
            raise BadInput(_("Choose an extension of this complaint's clocks."), field="clock")
        deadline = _chain_deadline(complaint, clock)
        extensions = complaint.extensions.all()
        applied = {e.clock_id for e in extensions if e.status == ExtensionStatus.APPROVED}
        if any(e.status == ExtensionStatus.REQUESTED for e in extensions):
            raise Conflict(_("An extension of this complaint is waiting for approval."))
        if clock.pk in applied:
            raise Conflict(_("This extension has been applied already."))
        if clock.extends.extends_id is not None and clock.extends_id not in applied:
            raise Conflict(_("Apply the previous extension first."))
        new_due_at = _extended_due(complaint, clock)
        if new_due_at <= deadline.due_at:
            raise Conflict(_("This extension would not move the deadline later."))
        extension = ComplaintExtension.objects.create(
            complaint=complaint,
            clock=clock,
            reason=reason,
            requested_by=actor,
            old_due_at=deadline.due_at,
            new_due_at=new_due_at,
        )
        _event(
            "extension_requested",
            actor,
            complaint,
            extension_id=extension.pk,
            clock_id=clock.pk,
            deadline_id=deadline.pk,
        )
        if not clock.requires_approval:
            _apply_extension(actor, complaint, extension, deadline)
    return extension


def _chain_deadline(complaint: Complaint, clock):
    """The open deadline of the chain the extension ``clock`` belongs to (it keeps the kind of
    the chain's first clock); Conflict when it is not running."""
    base = clock
    while base.extends_id is not None:
        base = base.extends
    deadline = open_deadline_for(complaint, kind=deadlines.kind_for(base))
    if deadline is None:
        raise Conflict(_("The clock this extension extends is not running."))
    return deadline


def _extended_due(complaint: Complaint, clock):
    calendar = clocks.pack_calendar(complaint.pack, branch=complaint.branch)
    return clocks.due_at(clock, complaint.received_at, calendar=calendar)


def _apply_extension(actor, complaint: Complaint, extension, deadline) -> None:
    """Approve and apply (under the complaint's lock): the deadline moves, the clocks an
    approved extension starts start, and the complainant is told if the clock says so."""
    extension.status = ExtensionStatus.APPROVED
    extension.decided_at = timezone.now()
    extension.old_due_at = deadline.due_at
    extension.save(
        update_fields=["status", "decided_at", "decided_by", "decision_note", "old_due_at"]
    )
    deadline_extend(
        deadline=deadline, new_due_at=extension.new_due_at, reason=extension.reason, actor=actor
    )
    started = _start_clocks(
        complaint, actor=actor, starts_on=ClockStart.EXTENSION_APPROVED, at=extension.decided_at
    )
    letter = None
    if extension.clock.notify_complainant:
        letter = _letter(actor, complaint, LetterKind.EXTENSION_NOTICE, extension=extension)
    _event(
        "extension_applied",
        actor,
        complaint,
        extension_id=extension.pk,
        clock_id=extension.clock_id,
        deadline_id=deadline.pk,
        due_at=extension.new_due_at.isoformat(),
        started_deadline_ids=[d.pk for d in started],
        letter_id=letter.pk if letter else None,
    )


def extension_decide(*, actor, extension, approve: bool, note: str = ""):
    """A higher level (`approve_extension`, never the requester) approves (applied as above) or
    refuses a waiting extension. Returns the ComplaintExtension."""
    note = _text(note, field="note", required=False)
    with transaction.atomic():
        complaint = _lock(extension.complaint_id)
        _require(actor, APPROVE_PERM, complaint)
        user = _user(actor)
        if user is None:
            raise PermissionDenied(_("Extensions are approved by members of staff."))
        extension = (
            ComplaintExtension.objects.select_for_update(of=("self",))
            .select_related("clock__extends")
            .get(pk=extension.pk)
        )
        if extension.status != ExtensionStatus.REQUESTED:
            raise Conflict(_("This extension has been decided already."))
        if extension.requested_by_id == user.pk:
            raise PermissionDenied(_("You asked for this extension: someone else must decide it."))
        extension.decided_by = user
        extension.decision_note = note
        if approve:
            _require_status(complaint, OPEN_STATUSES, action=_("extended"))
            deadline = _chain_deadline(complaint, extension.clock)
            if extension.new_due_at <= deadline.due_at:
                raise Conflict(_("This extension would not move the deadline later."))
            _apply_extension(actor, complaint, extension, deadline)
        else:
            extension.status = ExtensionStatus.REFUSED
            extension.decided_at = timezone.now()
            extension.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
            _event("extension_refused", actor, complaint, extension_id=extension.pk)
    return extension


def attachment_add(*, actor, complaint: Complaint, uploaded_file):
    """Attach a file (type sniffed, size limited: COMPLAINTS_ATTACHMENT_*). actor=None when it
    comes with the public form. Returns the ComplaintAttachment."""
    with transaction.atomic():
        complaint = _lock(complaint)
        if actor is not None:
            _require(actor, ATTACH_PERM, complaint)
        _require_status(complaint, OPEN_STATUSES, action=_("given files"))
        if actor is None:
            given = complaint.attachments.filter(uploaded_by__isnull=True, is_removed=False)
            if given.count() >= settings.COMPLAINTS_PUBLIC_MAX_FILES:
                raise BadInput(
                    _("At most %(limit)d files.") % {"limit": settings.COMPLAINTS_PUBLIC_MAX_FILES},
                    field="file",
                )
        checked = checked_upload(
            uploaded_file,
            max_bytes=settings.COMPLAINTS_ATTACHMENT_MAX_BYTES,
            allowed=settings.COMPLAINTS_ATTACHMENT_TYPES,
            field="file",
        )
        attachment = ComplaintAttachment(
            complaint=complaint,
            name=checked.name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            uploaded_by=_user(actor),
        )
        attachment.file.save("upload", ContentFile(checked.data), save=False)
        attachment.save()
        _event(
            "attachment_added",
            actor,
            complaint,
            attachment_id=attachment.pk,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
        )
    return attachment


def attachment_remove(*, actor, attachment):
    """Hide an attachment (the file is kept for the audit trail)."""
    with transaction.atomic():
        complaint = _lock(attachment.complaint_id)
        _require_handler(actor, complaint)
        attachment = ComplaintAttachment.objects.select_for_update().get(
            pk=attachment.pk, complaint=complaint
        )
        if attachment.is_removed:
            return attachment
        attachment.is_removed = True
        attachment.save(update_fields=["is_removed"])
        _event("attachment_removed", actor, complaint, attachment_id=attachment.pk)
    return attachment


def complaint_set_root_cause(*, actor, complaint: Complaint, root_cause, note: str) -> Complaint:
    """Record the root cause (an active RootCause) and the analysis."""
    note = _text(note, field="note")
    with transaction.atomic():
        complaint = _lock(complaint)
        _require_handler(actor, complaint)
        _require_status(complaint, [*OPEN_STATUSES, *DECIDED_STATUSES], action=_("analysed"))
        if (
            root_cause is None
            or not RootCause.objects.filter(pk=root_cause.pk, is_active=True).exists()
        ):
            raise BadInput(_("Choose an active root cause."), field="root_cause")
        previous = complaint.root_cause_id
        complaint.root_cause = root_cause
        complaint.root_cause_note = note
        _save(complaint, "root_cause", "root_cause_note")
        _event(
            "root_cause_set", actor, complaint, root_cause_id=root_cause.pk, previous_id=previous
        )
    return complaint


def complaint_classify(
    *, actor, complaint: Complaint, category: Category, subcategory=None, product=None
) -> Complaint:
    """Correct what an open complaint is about (a complaint raised from a consultation arrives
    as "service"; a complainant may pick the wrong category). The clocks stay: they depend on
    the pack and on payment services, not on the category."""
    _check_categories(category, subcategory)
    with transaction.atomic():
        complaint = _lock(complaint)
        _require_handler(actor, complaint)
        _require_status(complaint, OPEN_STATUSES, action=_("reclassified"))
        previous = {
            "previous_category_id": complaint.category_id,
            "previous_subcategory_id": complaint.subcategory_id,
            "previous_product_id": complaint.product_id,
        }
        complaint.category, complaint.subcategory, complaint.product = (
            category,
            subcategory,
            product,
        )
        _save(complaint, "category", "subcategory", "product")
        _event(
            "complaint_classified",
            actor,
            complaint,
            category_id=category.pk,
            subcategory_id=subcategory.pk if subcategory else None,
            product_id=product.pk if product else None,
            **previous,
        )
    return complaint
