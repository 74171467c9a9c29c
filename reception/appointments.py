"""Appointments: free slots (reads) and booking, rescheduling, cancelling and checking in
(writes), plus the two beat sweeps (no-shows, reminders).

A service's slots are `slot_minutes` long through the branch's opening hours of the day (its
business calendar: holidays closed, lunch breaks respected), each with `slot_capacity` places,
or for a service booked with an advisor (`with_advisor`) one place per free advisor
(reception/advisors.py). A booking, a reschedule and the capacity count behind them hold the
ServiceType row's lock (and the advisors' rows), so two customers never both win the last place
of a slot. Check-in turns an appointment into a queue
ticket (with the appointment's priority weight while on time); later than the late window it
becomes an ordinary walk-in ticket.

Messages (confirmation, change, cancellation, reminder) go to the customer record when there is
one, else to the contact given with the booking, each at most once (notify's dedupe key).
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from bankservice.branches.scope import can_act_at
from bankservice.core.errors import BadInput, Conflict
from bankservice.customers.services import pii_shown
from bankservice.customers.validators import normalize_phone
from bankservice.events.services import record
from bankservice.sla.clock import BusinessClock

from .advisors import Advisor, AdvisorDay, check_advisor, display_name, lock_advisors
from .models import (
    Appointment,
    AppointmentChannel,
    AppointmentStatus,
    ServiceType,
    Ticket,
    VisitSource,
)
from .services import InvalidTransition, ticket_issue

VIEW_PERM = "reception.view_appointment"
BOOK_PERM = "reception.add_appointment"
CHANGE_PERM = "reception.change_appointment"
# An appointment in these states holds its place in the slot.
HOLDING_STATES = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)
# Message channels, SMS first (the one recorded as skipped when the person agreed to none).
CHANNELS = ("sms", "email")
# Rows a sweep takes per transaction.
SWEEP_BATCH = 200


# --- Slots (reads) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    booked: int
    # With an advisor: the free advisors, in the order "any advisor" takes them.
    advisors: tuple[Advisor, ...] = ()

    @property
    def remaining(self) -> int:
        return max(self.capacity - self.booked, 0)

    @property
    def is_free(self) -> bool:
        return self.remaining > 0


@dataclass(frozen=True)
class BookingWindow:
    """When slots may be booked: from `first` (the notice) until `last` (the horizon)."""

    first: dt.datetime
    last: dt.datetime

    @classmethod
    def at(cls, now: dt.datetime) -> "BookingWindow":
        return cls(
            first=now + dt.timedelta(minutes=settings.RECEPTION_BOOKING_NOTICE_MINUTES),
            last=now + dt.timedelta(days=settings.RECEPTION_BOOKING_DAYS),
        )

    def __contains__(self, moment: dt.datetime) -> bool:
        return self.first <= moment <= self.last

    def days(self, zone) -> list[dt.date]:
        """The local dates the window touches, first to last."""
        first, last = self.first.astimezone(zone).date(), self.last.astimezone(zone).date()
        return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _slot_times(
    service_type: ServiceType, day: dt.date, clock: BusinessClock | None = None
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Every slot of the day through the opening hours (a slot never runs past a closing)."""
    branch = service_type.branch
    clock = clock or BusinessClock.for_branch(branch)
    length = dt.timedelta(minutes=service_type.slot_minutes)
    times = []
    for opens, closes in clock.opening_hours(day):
        start = dt.datetime.combine(day, opens, tzinfo=branch.zone)
        end = dt.datetime.combine(day, closes, tzinfo=branch.zone)
        while start + length <= end:
            times.append((start, start + length))
            start += length
    return times


def bookable_days(*, service_type: ServiceType, now: dt.datetime | None = None) -> list[dt.date]:
    """The local days of the booking window with at least one slot (full or not): one calendar
    read for the whole window."""
    if not (service_type.bookable and service_type.is_active and service_type.branch.is_active):
        return []
    window = BookingWindow.at(now or timezone.now())
    clock = BusinessClock.for_branch(service_type.branch)
    return [
        day
        for day in window.days(service_type.branch.zone)
        if any(start in window for start, _end in _slot_times(service_type, day, clock))
    ]


def available_slots(
    *,
    service_type: ServiceType,
    day: dt.date,
    now: dt.datetime | None = None,
    exclude: Appointment | None = None,
    advisor=None,
) -> list[Slot]:
    """The bookable slots of a service on a (local) day, with the places left in each.

    Only slots inside the booking window; an empty list on a closed day or for a service that is
    not bookable. Fixed queries: the calendar and the opening hours (BusinessClock), then one for
    the day's appointments, whatever the number of slots (with an advisor: three, AdvisorDay).
    `exclude`: an appointment being moved, whose own place does not count. `advisor`: only that
    advisor's places (services with an advisor).
    """
    now = now or timezone.now()
    if not (service_type.bookable and service_type.is_active and service_type.branch.is_active):
        return []
    window = BookingWindow.at(now)
    times = [(s, e) for s, e in _slot_times(service_type, day) if s in window]
    if not times:
        return []
    if service_type.with_advisor:
        calendar = AdvisorDay.load(
            service_type, day, advisor_id=advisor.pk if advisor else None, exclude=exclude
        )
        slots = []
        for start, end in times:
            working, free = calendar.at(start, end)
            slots.append(Slot(start, end, working, working - len(free), tuple(free)))
        return slots
    taken = Appointment.objects.filter(
        service_type=service_type,
        status__in=HOLDING_STATES,
        starts_at__lt=times[-1][1],
        ends_at__gt=times[0][0],
    )
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    booked = list(taken.values_list("starts_at", "ends_at"))
    return [
        Slot(
            starts_at=start,
            ends_at=end,
            capacity=service_type.slot_capacity,
            booked=sum(1 for b_start, b_end in booked if b_start < end and b_end > start),
        )
        for start, end in times
    ]


def move_slots(*, appointment: Appointment, day: dt.date, now: dt.datetime) -> list[Slot]:
    """The free times an appointment can move to on a day (its named advisor's, if any)."""
    return [
        slot
        for slot in available_slots(
            service_type=appointment.service_type,
            day=day,
            now=now,
            exclude=appointment,
            advisor=appointment.advisor if appointment.advisor_chosen else None,
        )
        if slot.is_free and slot.starts_at != appointment.starts_at
    ]


def appointment_list(*, principal, perm: str = VIEW_PERM):
    """Appointments of the principal's branches, with what a list shows."""
    return Appointment.objects.visible_to(principal, perm).select_related(
        "branch", "service_type", "customer", "ticket", "advisor"
    )


def audit_contact_shown(request, appointment: Appointment, *, fields=("phone", "email")) -> None:
    """Record that a page or the API shows the appointment's contact `fields` in full (to a
    role holding customers.reveal_pii)."""
    values = {"phone": appointment.contact_phone, "email": appointment.contact_email}
    pii_shown(
        request,
        fields=[name for name in fields if values[name]],
        subject=appointment,
        branch=appointment.branch,
        customer=appointment.customer,
    )


def manage_path(appointment: Appointment) -> str:
    """The customer's page for the appointment (no login: the reference is the key)."""
    return reverse("reception_public:appointment", args=[appointment.reference])


def manage_url(appointment: Appointment) -> str:
    """The manage link for messages: absolute with RECEPTION_PUBLIC_BASE_URL (a beat task has no
    request to take the host from), else the path."""
    base = getattr(settings, "RECEPTION_PUBLIC_BASE_URL", "")
    return base.rstrip("/") + manage_path(appointment)


# --- Writes -------------------------------------------------------------------------------------


def _check(actor, perm: str, branch_id: int) -> None:
    # actor None: the public page, where the reference (or the rate limit) was checked by the view.
    if actor is not None and not can_act_at(actor, perm, branch_id):
        raise PermissionDenied(_("Your role does not allow this at this branch."))


def _event(type_: str, actor, appointment: Appointment, **payload) -> None:
    record(
        type=f"reception.appointment_{type_}",
        actor=actor,
        branch=appointment.branch,
        customer=appointment.customer,
        subject=appointment,
        payload={
            "service": appointment.service_type.code,
            "starts_at": appointment.starts_at.isoformat(),
            "channel": appointment.channel,
            "advisor": appointment.advisor_id,
            **payload,
        },
    )


def _lock_service(service_type: ServiceType) -> ServiceType:
    # Locked by booking and rescheduling into the service's slots: the capacity count below it
    # is then exact (two bookings of the last place queue here and the second sees it taken).
    return (
        ServiceType.objects.select_for_update(of=("self",))
        .select_related("branch__calendar")
        .get(pk=service_type.pk)
    )


def _lock(appointment: Appointment) -> Appointment:
    # Locked by every transition and by the sweeps (SKIP LOCKED): one change at a time.
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("branch", "service_type__branch", "customer", "ticket", "advisor")
        .get(pk=appointment.pk)
    )


def _require_booked(appointment: Appointment, action: str) -> None:
    if appointment.status == AppointmentStatus.BOOKED:
        return
    if appointment.status == AppointmentStatus.CHECKED_IN and appointment.ticket is not None:
        message = _("This appointment is already checked in (ticket %(number)s).") % {
            "number": appointment.ticket.number
        }
    else:
        message = _("This appointment is %(status)s: it cannot be %(action)s.") % {
            "status": appointment.get_status_display(),
            "action": action,
        }
    raise InvalidTransition(message, current=appointment.status)


def _local(moment: dt.datetime, branch) -> str:
    return date_format(moment.astimezone(branch.zone), "Y-m-d H:i")


def _take_slot(
    service_type: ServiceType,
    starts_at: dt.datetime,
    now: dt.datetime,
    exclude: Appointment | None = None,
    advisor=None,
) -> Slot:
    """The free slot starting at `starts_at`; call with the service (and the advisors) locked."""
    if not service_type.bookable or not service_type.is_active:
        raise BadInput(_("This service cannot be booked."), field="service_type")
    if not service_type.branch.is_active:
        raise BadInput(_("This branch takes no bookings."), field="service_type")
    if timezone.is_naive(starts_at):
        raise BadInput(_("Give the time with its time zone."), field="starts_at")
    window = BookingWindow.at(now)
    if starts_at not in window:
        raise BadInput(
            _("Appointments can be booked from %(first)s to %(last)s.")
            % {
                "first": _local(window.first, service_type.branch),
                "last": _local(window.last, service_type.branch),
            },
            field="starts_at",
        )
    day = starts_at.astimezone(service_type.branch.zone).date()
    slots = available_slots(
        service_type=service_type, day=day, now=now, exclude=exclude, advisor=advisor
    )
    slot = next((s for s in slots if s.starts_at == starts_at), None)
    if slot is None:
        raise BadInput(
            _("%(time)s is not an appointment slot of this service: choose one of the listed.")
            % {"time": _local(starts_at, service_type.branch)},
            field="starts_at",
        )
    if not slot.is_free and advisor is not None:
        raise Conflict(
            _("%(advisor)s is not free at %(time)s: please choose another time or advisor.")
            % {"advisor": display_name(advisor), "time": _local(starts_at, service_type.branch)}
        )
    if not slot.is_free:
        raise Conflict(
            _("The %(time)s slot has just been taken: please choose another time.")
            % {"time": _local(starts_at, service_type.branch)}
        )
    return slot


def _refuse_overlap(
    *, customer, phone: str, slot: Slot, exclude: Appointment | None = None
) -> None:
    """One person, one booked appointment at a time (the customer, or the contact's phone)."""
    who = Q(customer=customer) if customer is not None else Q(contact_phone=phone)
    if customer is None and not phone:
        return
    clash = Appointment.objects.filter(
        who,
        status=AppointmentStatus.BOOKED,
        starts_at__lt=slot.ends_at,
        ends_at__gt=slot.starts_at,
    ).select_related("branch")
    if exclude is not None:
        clash = clash.exclude(pk=exclude.pk)
    other = clash.first()
    if other is not None:
        raise Conflict(
            _("There is already an appointment for this customer at %(time)s.")
            % {"time": _local(other.starts_at, other.branch)}
        )


def _clean_contact(name: str, phone: str, email: str) -> tuple[str, str, str]:
    name, phone, email = name.strip()[:80], phone.strip(), email.strip()
    if not name:
        raise BadInput(_("Give the customer's name."), field="contact_name")
    if phone:
        try:
            phone = normalize_phone(phone)
        except ValidationError as exc:
            raise BadInput(exc.messages[0], field="contact_phone") from None
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise BadInput(_("Enter a valid e-mail address."), field="contact_email") from None
    if not phone and not email:
        raise BadInput(_("Give a phone number or an e-mail address."), field="contact_phone")
    return name, phone, email


def appointment_book(
    *,
    actor,
    service_type: ServiceType,
    starts_at: dt.datetime,
    customer=None,
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    consent_sms: bool = False,
    consent_email: bool = False,
    channel: str = AppointmentChannel.STAFF,
    notes: str = "",
    language: str = "",
    advisor=None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Book a slot for a customer record or for a contact (name and phone or e-mail); for a
    service with an advisor, with `advisor` (named) or the free advisor with the fewest
    bookings that day (None: "any advisor")."""
    now = now or timezone.now()
    _check(actor, BOOK_PERM, service_type.branch_id)
    if channel not in AppointmentChannel.values:
        raise BadInput(_("Unknown booking channel."), field="channel")
    if customer is not None:
        customer = customer.merged_into if customer.merged_into_id else customer
        contact_name = contact_phone = contact_email = ""
        consent_sms = consent_email = False
        language = language or customer.preferred_language
    else:
        contact_name, contact_phone, contact_email = _clean_contact(
            contact_name, contact_phone, contact_email
        )
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    with transaction.atomic():
        locked = _lock_service(service_type)
        check_advisor(locked, advisor)
        if locked.with_advisor:
            lock_advisors(locked, advisor)
        slot = _take_slot(locked, starts_at, now, advisor=advisor)
        _refuse_overlap(customer=customer, phone=contact_phone, slot=slot)
        appointment = Appointment.objects.create(
            branch=locked.branch,
            service_type=locked,
            customer=customer,
            contact_name=contact_name,
            contact_phone=contact_phone,
            contact_email=contact_email,
            contact_consent_sms=consent_sms,
            contact_consent_email=consent_email,
            language=language,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            channel=channel,
            advisor_id=slot.advisors[0].id if locked.with_advisor else None,
            advisor_chosen=advisor is not None,
            notes=notes.strip()[:300],
            created_by=None if actor is None or getattr(actor, "is_api_client", False) else actor,
            # Booked within the reminder's lead time: the confirmation is the reminder.
            reminded_at=now if _within_reminder(slot.starts_at, now) else None,
        )
        _event("booked", actor, appointment, ends_at=slot.ends_at.isoformat())
        _notify(appointment, "reception.appointment_booked", "booked")
    return appointment


def _within_reminder(starts_at: dt.datetime, now: dt.datetime) -> bool:
    return starts_at - now <= dt.timedelta(hours=settings.RECEPTION_REMINDER_HOURS)


def appointment_reschedule(
    *, actor, appointment: Appointment, starts_at: dt.datetime, now: dt.datetime | None = None
) -> Appointment:
    """Move a booked appointment to another free slot of the same service.

    With an advisor: the same advisor if free then; a named advisor who is not is refused, an
    "any advisor" booking goes to another free advisor.
    """
    now = now or timezone.now()
    with transaction.atomic():
        service_type = _lock_service(appointment.service_type)
        locked = _lock(appointment)
        _check(actor, CHANGE_PERM, locked.branch_id)
        _require_booked(locked, _("rescheduled"))
        if starts_at == locked.starts_at:
            raise BadInput(_("The appointment is already at that time."), field="starts_at")
        named = locked.advisor if locked.advisor_chosen else None
        if service_type.with_advisor:
            lock_advisors(service_type, named)
        slot = _take_slot(service_type, starts_at, now, exclude=locked, advisor=named)
        _refuse_overlap(
            customer=locked.customer, phone=locked.contact_phone, slot=slot, exclude=locked
        )
        previous, previous_advisor = locked.starts_at, locked.advisor_id
        if service_type.with_advisor:
            free = [a.id for a in slot.advisors]
            locked.advisor_id = previous_advisor if previous_advisor in free else free[0]
        locked.starts_at, locked.ends_at = slot.starts_at, slot.ends_at
        locked.reschedule_count += 1
        locked.reminded_at = now if _within_reminder(slot.starts_at, now) else None
        locked.save(
            update_fields=["starts_at", "ends_at", "reschedule_count", "reminded_at", "advisor"]
        )
        _event(
            "rescheduled",
            actor,
            locked,
            previous=previous.isoformat(),
            previous_advisor=previous_advisor,
        )
        _withdraw_pending_messages(locked)
        _notify(locked, "reception.appointment_changed", f"changed-{locked.reschedule_count}")
    return locked


def appointment_cancel(
    *, actor, appointment: Appointment, reason: str = "", now: dt.datetime | None = None
) -> Appointment:
    """Cancel a booked appointment; its place is free again."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(appointment)
        _check(actor, CHANGE_PERM, locked.branch_id)
        _require_booked(locked, _("cancelled"))
        locked.status = AppointmentStatus.CANCELLED
        locked.cancelled_at = now
        locked.save(update_fields=["status", "cancelled_at"])
        _event("cancelled", actor, locked, reason=reason.strip()[:200])
        _withdraw_pending_messages(locked)
        _notify(locked, "reception.appointment_cancelled", "cancelled")
    return locked


@dataclass(frozen=True)
class CheckInWindow:
    opens: dt.datetime
    on_time_until: dt.datetime

    @classmethod
    def of(cls, appointment: Appointment) -> "CheckInWindow":
        return cls(
            opens=appointment.starts_at
            - dt.timedelta(minutes=settings.RECEPTION_CHECKIN_EARLY_MINUTES),
            on_time_until=appointment.starts_at
            + dt.timedelta(minutes=settings.RECEPTION_CHECKIN_LATE_MINUTES),
        )


def appointment_check_in(
    *, actor, appointment: Appointment, now: dt.datetime | None = None
) -> Ticket:
    """The customer has arrived: issue the queue ticket and link it.

    From EARLY minutes before the start until LATE minutes after it the ticket carries the
    appointment's priority weight; later it is an ordinary walk-in ticket (the appointment is
    still recorded as checked in, with `late: true` in the event). Before the window: 409.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(appointment)
        _check(actor, CHANGE_PERM, locked.branch_id)
        _require_booked(locked, _("checked in"))
        window = CheckInWindow.of(locked)
        if now < window.opens:
            raise InvalidTransition(
                _("Too early: check-in for this appointment opens at %(time)s.")
                % {"time": _local(window.opens, locked.branch)},
                current=locked.status,
            )
        late = now > window.on_time_until
        # A contact's phone and language carry to the visit; with their SMS consent they also get
        # the "you're nearly next" SMS (reception/next_notice.py).
        is_contact = locked.customer_id is None
        ticket = ticket_issue(
            actor=actor,
            service_type=locked.service_type,
            source=VisitSource.APPOINTMENT,
            customer=locked.customer,
            is_appointment=not late,
            contact_phone=locked.contact_phone if is_contact else "",
            sms_when_next=is_contact and locked.contact_consent_sms and bool(locked.contact_phone),
            language=locked.language,
            now=now,
        )
        locked.status = AppointmentStatus.CHECKED_IN
        locked.checked_in_at = now
        locked.ticket = ticket
        locked.save(update_fields=["status", "checked_in_at", "ticket"])
        _event(
            "checked_in",
            actor,
            locked,
            number=ticket.number,
            late=late,
            minutes_from_start=int((now - locked.starts_at).total_seconds() // 60),
        )
    return ticket


# --- Sweeps (beat) ------------------------------------------------------------------------------


def appointments_mark_no_shows(*, now: dt.datetime | None = None) -> int:
    """Booked appointments whose check-in window has passed become no-shows (safe to rerun)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=settings.RECEPTION_CHECKIN_LATE_MINUTES)
    marked = 0
    while True:
        with transaction.atomic():
            batch = list(
                Appointment.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(status=AppointmentStatus.BOOKED, starts_at__lt=cutoff)
                .select_related("branch", "service_type", "customer", "advisor")
                .order_by("starts_at", "id")[:SWEEP_BATCH]
            )
            for appointment in batch:
                if Appointment.objects.filter(
                    pk=appointment.pk, status=AppointmentStatus.BOOKED
                ).update(status=AppointmentStatus.NO_SHOW):
                    _event("no_show", None, appointment)
                    marked += 1
        if len(batch) < SWEEP_BATCH:
            return marked


def appointments_send_reminders(*, now: dt.datetime | None = None) -> int:
    """The reminder, once, for booked appointments starting within RECEPTION_REMINDER_HOURS."""
    now = now or timezone.now()
    horizon = now + dt.timedelta(hours=settings.RECEPTION_REMINDER_HOURS)
    reminded = 0
    while True:
        with transaction.atomic():
            batch = list(
                Appointment.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(
                    status=AppointmentStatus.BOOKED,
                    reminded_at__isnull=True,
                    starts_at__gt=now,
                    starts_at__lte=horizon,
                )
                .select_related("branch", "service_type", "customer", "advisor")
                .order_by("starts_at", "id")[:SWEEP_BATCH]
            )
            for appointment in batch:
                if Appointment.objects.filter(pk=appointment.pk, reminded_at__isnull=True).update(
                    reminded_at=now
                ):
                    _notify(
                        appointment,
                        "reception.appointment_reminder",
                        f"reminder-{appointment.reschedule_count}",
                    )
                    _event("reminded", None, appointment)
                    reminded += 1
        if len(batch) < SWEEP_BATCH:
            return reminded


# --- Messages -----------------------------------------------------------------------------------


def _channels(appointment: Appointment) -> list[str]:
    """The channels the person agreed to and has an address for; else SMS, which notify then
    records as skipped with its reason (so the attempt is visible)."""
    if appointment.customer is not None:
        who = appointment.customer
        offers = [
            ("sms", who.consent_sms and who.phone),
            ("email", who.consent_email and who.email),
        ]
    else:
        offers = [
            ("sms", appointment.contact_consent_sms and appointment.contact_phone),
            ("email", appointment.contact_consent_email and appointment.contact_email),
        ]
    return [channel for channel, usable in offers if usable] or [CHANNELS[0]]


def message_context(appointment: Appointment) -> dict:
    branch = appointment.branch
    return {
        "service_en": appointment.service_type.name_en,
        "service_zh": appointment.service_type.name_zh,
        "when": _local(appointment.starts_at, branch),
        "checkin_from": date_format(
            CheckInWindow.of(appointment).opens.astimezone(branch.zone), "H:i"
        ),
        "branch_address": branch.address,
        "manage_url": manage_url(appointment),
        "advisor": display_name(appointment.advisor) if appointment.advisor_id else "",
    }


def _message_key(appointment: Appointment, step: str, channel: str) -> str:
    return f"appointment:{appointment.reference}:{step}:{channel}"


def _withdraw_pending_messages(appointment: Appointment) -> None:
    """Messages not sent yet (held by quiet hours, waiting for a retry) name a time that no
    longer holds: withdraw them before the change or cancellation message goes out. Found by
    their exact dedupe keys (the unique index), never by a pattern."""
    from bankservice.notify.models import Notification, NotificationStatus
    from bankservice.notify.services import notification_cancel

    versions = range(appointment.reschedule_count + 1)
    steps = ["booked", *(f"changed-{n}" for n in versions), *(f"reminder-{n}" for n in versions)]
    keys = [_message_key(appointment, step, channel) for step in steps for channel in CHANNELS]
    pending = Notification.objects.filter(dedupe_key__in=keys, status=NotificationStatus.PENDING)
    for notification in pending:
        notification_cancel(notification=notification, actor=None, reason="appointment changed")


def _notify(appointment: Appointment, template: str, step: str) -> None:
    """Queue the message in the caller's transaction; the dedupe key makes it once per step."""
    from bankservice.notify.services import Contact, notification_send

    recipient = {"customer": appointment.customer}
    if appointment.customer is None:
        recipient = {
            "contact": Contact(
                name=appointment.contact_name,
                phone=appointment.contact_phone,
                email=appointment.contact_email,
                language=appointment.language,
                consent_sms=appointment.contact_consent_sms,
                consent_email=appointment.contact_consent_email,
            )
        }
    for channel in _channels(appointment):
        notification_send(
            **recipient,
            branch=appointment.branch,
            channel=channel,
            template=template,
            context=message_context(appointment),
            dedupe_key=_message_key(appointment, step, channel),
        )
