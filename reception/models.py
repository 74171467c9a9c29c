"""Reception: the service catalogue, counters, visits and queue tickets of a branch."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bankservice.branches.models import OpeningHours
from bankservice.branches.scope import ScopedQuerySet
from bankservice.core.language import in_language


class ServiceCategory(models.TextChoices):
    CASH = "cash", _("Cash and payments")
    ACCOUNTS = "accounts", _("Accounts and cards")
    LOANS = "loans", _("Loans and mortgages")
    WEALTH = "wealth", _("Wealth management")
    ENQUIRY = "enquiry", _("Enquiries")
    OTHER = "other", _("Other")


class ServiceType(models.Model):
    """A service a branch queues customers for; services sharing a prefix share a number series."""

    branch = models.ForeignKey(
        "branches.Branch", on_delete=models.CASCADE, related_name="service_types"
    )
    code = models.SlugField(_("code"), max_length=30)
    name_zh = models.CharField(_("name (Chinese)"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=80)
    prefix = models.CharField(
        _("ticket prefix"), max_length=1, help_text=_("One capital letter: A, B, V …")
    )
    category = models.CharField(
        _("category"), max_length=10, choices=ServiceCategory.choices, default=ServiceCategory.OTHER
    )
    target_wait_minutes = models.PositiveSmallIntegerField(_("target wait (minutes)"), default=15)
    expected_service_minutes = models.PositiveSmallIntegerField(
        _("expected service time (minutes)"), default=8
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order on the kiosk"), default=0)
    remote_checkin = models.BooleanField(
        _("remote check-in"),
        default=True,
        help_text=_("Customers may join this queue from their own phone while the branch is open."),
    )
    # Appointments: slots of slot_minutes through the opening hours, slot_capacity bookings each.
    bookable = models.BooleanField(_("bookable by appointment"), default=False)
    slot_minutes = models.PositiveSmallIntegerField(_("appointment slot (minutes)"), default=15)
    slot_capacity = models.PositiveSmallIntegerField(_("appointments per slot"), default=1)
    # Advisor appointments (wealth, loan, mortgage): a slot is free while an advisor who serves
    # the service is available then (AdvisorAvailability, less time off) and not already booked;
    # slot_capacity does not apply.
    with_advisor = models.BooleanField(
        _("booked with an advisor"),
        default=False,
        help_text=_("Slots follow the advisors' calendars; each appointment has its advisor."),
    )

    objects = ScopedQuerySet.as_manager()
    scope_branch_field = "branch_id"

    class Meta:
        ordering = ["branch", "sort_order", "code"]
        verbose_name = _("service type")
        verbose_name_plural = _("service types")
        constraints = [
            models.UniqueConstraint(fields=["branch", "code"], name="servicetype_unique_code"),
            models.CheckConstraint(
                condition=Q(prefix__regex=r"^[A-Z]$"), name="servicetype_prefix_letter"
            ),
            models.CheckConstraint(
                condition=Q(expected_service_minutes__gte=1), name="servicetype_service_time_pos"
            ),
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=5, slot_minutes__lte=240),
                name="servicetype_slot_minutes_range",
            ),
            models.CheckConstraint(
                condition=Q(slot_capacity__gte=1), name="servicetype_slot_capacity_pos"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix} · {self.name}"

    @property
    def name(self) -> str:
        """The name in the active language."""
        return in_language(self.name_zh, self.name_en)


class CounterState(models.TextChoices):
    OPEN = "open", pgettext_lazy("counter state", "Open")
    PAUSED = "paused", _("Paused")
    CLOSED = "closed", _("Closed")


class Counter(models.Model):
    """A service point (window, desk) where a member of staff calls and serves tickets."""

    branch = models.ForeignKey("branches.Branch", on_delete=models.CASCADE, related_name="counters")
    number = models.PositiveSmallIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=60, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=CounterState.choices, default=CounterState.CLOSED
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="counters",
        verbose_name=_("signed-in staff"),
    )
    services = models.ManyToManyField(
        ServiceType, through="CounterService", related_name="counters", verbose_name=_("services")
    )
    # Where the counter stands in its branch's priority:standard cycle (PriorityRule ratios).
    ratio_step = models.PositiveSmallIntegerField(default=0, editable=False)

    objects = ScopedQuerySet.as_manager()
    scope_branch_field = "branch_id"

    class Meta:
        ordering = ["branch", "number"]
        verbose_name = _("counter")
        verbose_name_plural = _("counters")
        constraints = [
            models.UniqueConstraint(fields=["branch", "number"], name="counter_unique_number"),
            # A member of staff works at one counter at a time.
            models.UniqueConstraint(
                fields=["staff"], condition=Q(staff__isnull=False), name="counter_one_per_staff"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["open", "paused", "closed"]), name="counter_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name or str(_("Counter %(number)s") % {"number": self.number})


class CounterService(models.Model):
    """A service a counter serves; a lower preference is called first."""

    counter = models.ForeignKey(Counter, on_delete=models.CASCADE, related_name="service_links")
    service_type = models.ForeignKey(ServiceType, on_delete=models.CASCADE, related_name="+")
    preference = models.PositiveSmallIntegerField(_("preference"), default=1)

    class Meta:
        ordering = ["counter", "preference"]
        verbose_name = _("counter service")
        verbose_name_plural = _("counter services")
        constraints = [
            models.UniqueConstraint(
                fields=["counter", "service_type"], name="counterservice_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.counter} · {self.service_type} ({self.preference})"


class PriorityRule(models.Model):
    """How a branch orders its queue. Each weight moves a ticket ahead by that many minutes;
    after `max_wait_minutes` any ticket goes first, so nobody waits for ever."""

    branch = models.OneToOneField(
        "branches.Branch", on_delete=models.CASCADE, related_name="priority_rule"
    )
    appointment_minutes = models.PositiveSmallIntegerField(_("appointment on time"), default=15)
    priority_segment_minutes = models.PositiveSmallIntegerField(_("priority customer"), default=5)
    private_segment_minutes = models.PositiveSmallIntegerField(
        _("private banking customer"), default=10
    )
    elderly_minutes = models.PositiveSmallIntegerField(_("elderly"), default=10)
    disability_minutes = models.PositiveSmallIntegerField(_("disability"), default=15)
    pregnant_minutes = models.PositiveSmallIntegerField(_("pregnant"), default=15)
    transferred_minutes = models.PositiveSmallIntegerField(_("transferred visit"), default=10)
    max_wait_minutes = models.PositiveSmallIntegerField(
        _("maximum wait before a ticket goes first"), default=45
    )
    # Optional ratio between tickets with a priority weight and standard ones, per counter:
    # 2 and 1 call two priority tickets, then one standard, and so on while both kinds wait.
    ratio_priority = models.PositiveSmallIntegerField(_("priority calls per cycle"), default=0)
    ratio_standard = models.PositiveSmallIntegerField(_("standard calls per cycle"), default=0)

    class Meta:
        verbose_name = _("priority rule")
        verbose_name_plural = _("priority rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(ratio_priority=0, ratio_standard=0)
                | Q(ratio_priority__gte=1, ratio_standard__gte=1),
                name="priorityrule_ratio_both_or_none",
                violation_error_message=_("Set both ratio numbers, or leave both at 0."),
            ),
        ]

    def __str__(self) -> str:
        return str(_("Priority rule of %(branch)s") % {"branch": self.branch})


class DailySequence(models.Model):
    """The last number given today for a prefix at a branch (A001, A002 …, reset each day)."""

    branch = models.ForeignKey("branches.Branch", on_delete=models.CASCADE, related_name="+")
    business_date = models.DateField()
    prefix = models.CharField(max_length=1)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "business_date", "prefix"], name="dailysequence_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.business_date} {self.prefix}{self.last_number:03d}"


class DeviceKind(models.TextChoices):
    KIOSK = "kiosk", _("Ticket kiosk")
    DISPLAY = "display", _("Display board")


def new_device_token() -> str:
    return secrets.token_urlsafe(24)


class Device(models.Model):
    """A kiosk or display screen in a branch; it opens its page with an unguessable token
    instead of a staff login (revoke it by deactivating the device)."""

    branch = models.ForeignKey("branches.Branch", on_delete=models.CASCADE, related_name="devices")
    kind = models.CharField(_("kind"), max_length=10, choices=DeviceKind.choices)
    name = models.CharField(_("name"), max_length=60)
    token = models.CharField(max_length=40, unique=True, default=new_device_token, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    chime = models.BooleanField(_("chime on call"), default=True)

    objects = ScopedQuerySet.as_manager()
    scope_branch_field = "branch_id"

    class Meta:
        ordering = ["branch", "kind", "name"]
        verbose_name = _("device")
        verbose_name_plural = _("devices")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.name}"


class VisitSource(models.TextChoices):
    GREETER = "greeter", _("Greeter")
    KIOSK = "kiosk", _("Kiosk")
    REMOTE = "remote", _("Remote check-in")
    APPOINTMENT = "appointment", _("Appointment")
    API = "api", _("API")


class Visit(models.Model):
    """One customer's visit to a branch; transfers add tickets to the same visit."""

    branch = models.ForeignKey("branches.Branch", on_delete=models.PROTECT, related_name="visits")
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visits",
        verbose_name=_("customer"),
    )
    source = models.CharField(_("source"), max_length=12, choices=VisitSource.choices)
    arrived_at = models.DateTimeField(_("arrived at"))
    # A walk-in without a customer record may leave a phone number for the "you're next" SMS
    # (remote check-in); an identified customer is texted at their own number with consent.
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    sms_when_next = models.BooleanField(_("SMS when nearly next"), default=False)
    language = models.CharField(_("language"), max_length=8, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_branch_field = "branch_id"

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        indexes = [models.Index(fields=["branch", "arrived_at"], name="visit_branch_time_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.branch}"


class TicketStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    CALLED = "called", _("Called")
    SERVING = "serving", _("Being served")
    PARKED = "parked", _("Parked")
    COMPLETED = "completed", _("Completed")
    NO_SHOW = "no_show", _("No-show")
    TRANSFERRED = "transferred", _("Transferred")
    UNSERVED = "unserved", _("Closed unserved")


# A ticket in these states still holds a place in the branch.
OPEN_STATES = (
    TicketStatus.WAITING,
    TicketStatus.CALLED,
    TicketStatus.SERVING,
    TicketStatus.PARKED,
)
TERMINAL_STATES = (
    TicketStatus.COMPLETED,
    TicketStatus.NO_SHOW,
    TicketStatus.TRANSFERRED,
    TicketStatus.UNSERVED,
)
# At a counter: the one ticket a counter is busy with.
AT_COUNTER_STATES = (TicketStatus.CALLED, TicketStatus.SERVING)


def new_public_token() -> str:
    return secrets.token_urlsafe(16)


class Ticket(models.Model):
    """A place in a queue: issued, called to a counter, served, completed (or not)."""

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="tickets")
    branch = models.ForeignKey("branches.Branch", on_delete=models.PROTECT, related_name="tickets")
    service_type = models.ForeignKey(
        ServiceType, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("service")
    )
    business_date = models.DateField(_("business date"))
    prefix = models.CharField(max_length=1)
    sequence = models.PositiveIntegerField()
    number = models.CharField(_("number"), max_length=8)
    status = models.CharField(
        _("status"), max_length=12, choices=TicketStatus.choices, default=TicketStatus.WAITING
    )
    # When the customer first joined a queue in this visit: a transfer keeps it.
    arrived_at = models.DateTimeField(_("arrived at"))
    issued_at = models.DateTimeField(_("issued at"))
    # arrived_at moved earlier by the priority rule's weights: the queue is ordered by it.
    priority_at = models.DateTimeField()
    priority_reasons = models.JSONField(default=list, blank=True)
    is_appointment = models.BooleanField(default=False)
    counter = models.ForeignKey(
        Counter, on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets"
    )
    # Transferred or parked to one counter: only that counter calls it.
    reserved_counter = models.ForeignKey(
        Counter, on_delete=models.SET_NULL, null=True, blank=True, related_name="reserved_tickets"
    )
    served_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    called_at = models.DateTimeField(null=True, blank=True)
    # When the "you're next" message went out (once per ticket).
    next_notified_at = models.DateTimeField(null=True, blank=True)
    recall_count = models.PositiveSmallIntegerField(default=0)
    serving_started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)
    transferred_from = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="transferred_to"
    )
    public_token = models.CharField(max_length=32, unique=True, default=new_public_token)

    objects = ScopedQuerySet.as_manager()
    scope_branch_field = "branch_id"

    class Meta:
        ordering = ["priority_at", "id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "business_date", "prefix", "sequence"],
                name="ticket_unique_number",
            ),
            # A counter is busy with one ticket at a time.
            models.UniqueConstraint(
                fields=["counter"],
                condition=Q(status__in=["called", "serving"]),
                name="ticket_one_per_counter",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "waiting",
                        "called",
                        "serving",
                        "parked",
                        "completed",
                        "no_show",
                        "transferred",
                        "unserved",
                    ]
                ),
                name="ticket_status_valid",
            ),
        ]
        indexes = [
            # call-next: the waiting tickets of a branch's services, in queue order.
            models.Index(
                fields=["service_type", "priority_at"],
                condition=Q(status="waiting"),
                name="ticket_waiting_queue_idx",
            ),
            models.Index(fields=["branch", "business_date"], name="ticket_branch_day_idx"),
            # The floor view's waiting list and the end-of-day close.
            models.Index(
                fields=["branch", "priority_at"],
                condition=Q(status__in=["waiting", "parked"]),
                name="ticket_branch_open_idx",
            ),
            # Recent service times for the estimate.
            models.Index(
                fields=["service_type", "-finished_at"],
                condition=Q(status="completed"),
                name="ticket_completed_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number


# --- Appointments -----------------------------------------------------------------------------


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CHECKED_IN = "checked_in", _("Checked in")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("No-show")


class AppointmentChannel(models.TextChoices):
    STAFF = "staff", _("Staff")
    PUBLIC = "public", _("Public booking page")
    API = "api", _("API")


class Appointment(models.Model):
    """A booked slot for a service at a branch; check-in turns it into a ticket.

    The customer is a record (booked by staff or the API) or, from the public page, a contact:
    name, phone and e-mail given with the booking, used only for this appointment's messages.
    """

    branch = models.ForeignKey(
        "branches.Branch", on_delete=models.PROTECT, related_name="appointments"
    )
    service_type = models.ForeignKey(
        ServiceType,
        on_delete=models.PROTECT,
        related_name="appointments",
        verbose_name=_("service"),
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("customer"),
    )
    contact_name = models.CharField(_("name"), max_length=80, blank=True)
    contact_phone = models.CharField(_("phone"), max_length=20, blank=True)
    contact_email = models.EmailField(_("e-mail"), blank=True)
    contact_consent_sms = models.BooleanField(_("messages by SMS"), default=False)
    contact_consent_email = models.BooleanField(_("messages by e-mail"), default=False)
    language = models.CharField(_("language"), max_length=8, default="zh-hans")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=AppointmentStatus.choices,
        default=AppointmentStatus.BOOKED,
    )
    channel = models.CharField(
        _("booked through"), max_length=8, choices=AppointmentChannel.choices
    )
    notes = models.CharField(_("notes"), max_length=300, blank=True)
    reference = models.CharField(max_length=32, unique=True, default=new_public_token)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("booked at"), auto_now_add=True)
    reschedule_count = models.PositiveSmallIntegerField(default=0)
    reminded_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    ticket = models.OneToOneField(
        Ticket, on_delete=models.PROTECT, null=True, blank=True, related_name="appointment"
    )
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="advisor_appointments",
        verbose_name=_("advisor"),
    )
    # The customer named this advisor (kept on a reschedule, or refused); False: "any advisor",
    # so a reschedule may hand the appointment to another free advisor.
    advisor_chosen = models.BooleanField(_("advisor chosen by name"), default=False)

    objects = ScopedQuerySet.as_manager()
    scope_branch_field = "branch_id"

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="appointment_ends_after"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["booked", "checked_in", "cancelled", "no_show"]),
                name="appointment_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(customer__isnull=False) | ~Q(contact_name=""),
                name="appointment_has_someone",
            ),
        ]
        indexes = [
            # Slot capacity and the day's list: the booked appointments of a service in time order.
            models.Index(
                fields=["service_type", "starts_at"],
                condition=Q(status="booked"),
                name="appointment_booked_idx",
            ),
            models.Index(fields=["branch", "starts_at"], name="appointment_branch_time_idx"),
            # An advisor's booked hours (one appointment at a time, whatever the service).
            models.Index(
                fields=["advisor", "starts_at"],
                condition=Q(status="booked"),
                name="appointment_advisor_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_type.prefix} {timezone.localtime(self.starts_at):%Y-%m-%d %H:%M}"


class AdvisorAvailability(models.Model):
    """When an advisor takes appointments at a branch: a weekly pattern, for some services.

    Within the branch's opening hours only (a holiday closes the branch, whatever the pattern).
    """

    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="availability",
        verbose_name=_("advisor"),
    )
    branch = models.ForeignKey(
        "branches.Branch", on_delete=models.CASCADE, related_name="advisor_availability"
    )
    service_types = models.ManyToManyField(
        ServiceType, related_name="advisor_availability", verbose_name=_("services")
    )
    # ISO weekday (1 = Monday), as the branch's opening hours.
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=OpeningHours.Weekday.choices)
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_branch_field = "branch_id"

    class Meta:
        ordering = ["advisor", "weekday", "starts"]
        verbose_name = _("advisor availability")
        verbose_name_plural = _("advisor availability")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends__gt=models.F("starts")), name="availability_ends_after"
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=1, weekday__lte=7), name="availability_weekday_valid"
            ),
        ]
        indexes = [models.Index(fields=["branch", "weekday"], name="availability_day_idx")]

    def __str__(self) -> str:
        return f"{self.advisor} {self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"


class AdvisorTimeOff(models.Model):
    """An advisor away (leave, training, a meeting): no appointments then, at any branch."""

    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="time_off",
        verbose_name=_("advisor"),
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=120, blank=True)

    class Meta:
        ordering = ["advisor", "starts_at"]
        verbose_name = _("advisor time off")
        verbose_name_plural = _("advisor time off")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="timeoff_ends_after"
            ),
        ]
        indexes = [models.Index(fields=["advisor", "ends_at"], name="timeoff_advisor_idx")]

    def __str__(self) -> str:
        return f"{self.advisor} {self.starts_at:%Y-%m-%d}"
