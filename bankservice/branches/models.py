"""Regions, branches, their business calendars and opening hours, and staff membership."""

import zoneinfo

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .scope import ScopedQuerySet


def validate_time_zone(value: str) -> None:
    """Accept only IANA time zone names such as Asia/Shanghai."""
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class Region(models.Model):
    """A group of branches managed together (regional managers see their region)."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name


class BusinessCalendar(models.Model):
    """Working days of one jurisdiction or branch: weekends, public holidays, make-up days."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    # ISO weekdays that are normally not worked (Monday = 1 … Sunday = 7).
    weekend_days = models.JSONField(_("weekend days"), default=list, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        days = self.weekend_days
        if not isinstance(days, list) or not all(isinstance(d, int) and 1 <= d <= 7 for d in days):
            raise ValidationError({"weekend_days": _("List ISO weekdays from 1 (Mon) to 7 (Sun).")})


class CalendarDay(models.Model):
    """An exception to the weekly pattern: a holiday, or a weekend day worked in its place."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday")
        WORKDAY = "workday", _("Make-up working day")

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        ordering = ["calendar", "date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendarday_unique_date"),
            models.CheckConstraint(
                condition=Q(kind__in=["holiday", "workday"]), name="calendarday_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}".strip()


class Branch(models.Model):
    """A branch: the unit staff belong to, customers are homed at and managers are judged by."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="branches", verbose_name=_("region")
    )
    time_zone = models.CharField(
        _("time zone"), max_length=50, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        related_name="branches",
        verbose_name=_("business calendar"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = ScopedQuerySet.as_manager()
    # Where this model sits relative to Branch, for ScopedQuerySet.visible_to().
    scope_branch_field = "id"

    class Meta:
        ordering = ["code"]
        verbose_name = _("branch")
        verbose_name_plural = _("branches")

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class OpeningHours(models.Model):
    """One opening interval of a branch on a weekday; a day may have several (lunch break)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 1, _("Monday")
        TUESDAY = 2, _("Tuesday")
        WEDNESDAY = 3, _("Wednesday")
        THURSDAY = 4, _("Thursday")
        FRIDAY = 5, _("Friday")
        SATURDAY = 6, _("Saturday")
        SUNDAY = 7, _("Sunday")

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))

    class Meta:
        ordering = ["branch", "weekday", "opens_at"]
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "weekday", "opens_at"], name="openinghours_unique_start"
            ),
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="openinghours_closes_after"
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=1, weekday__lte=7), name="openinghours_weekday_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"


class Role(models.TextChoices):
    """Staff roles; each is a Django group whose permissions a data migration sets."""

    GREETER = "greeter", _("Greeter")
    TELLER = "teller", _("Teller")
    ADVISOR = "advisor", _("Advisor")
    PROCESSOR = "processor", _("Back-office processor")
    APPROVER = "approver", _("Approver")
    COMPLAINT_OFFICER = "complaint_officer", _("Complaint officer")
    CARE_AGENT = "care_agent", _("Care agent")
    CARE_LEAD = "care_lead", _("Care team lead")
    BRANCH_MANAGER = "branch_manager", _("Branch manager")
    REGIONAL_MANAGER = "regional_manager", _("Regional manager")
    HQ_MANAGER = "hq_manager", _("Head-office manager")
    AUDITOR = "auditor", _("Auditor")
    ADMIN = "admin", _("Administrator")


class StaffMembership(models.Model):
    """A user holds a role at one branch, over one region, or (neither set) across the bank."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.ForeignKey(
        Group, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("role")
    )
    branch = models.ForeignKey(
        Branch,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("branch"),
    )
    region = models.ForeignKey(
        Region,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("region"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [
            models.CheckConstraint(
                condition=Q(branch__isnull=True) | Q(region__isnull=True),
                name="membership_branch_or_region",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "branch"],
                condition=Q(branch__isnull=False),
                name="membership_unique_branch",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "region"],
                condition=Q(region__isnull=False),
                name="membership_unique_region",
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=Q(branch__isnull=True, region__isnull=True),
                name="membership_unique_bankwide",
            ),
        ]

    def __str__(self) -> str:
        where = self.branch or self.region or _("whole bank")
        role = Role(self.role.name).label if self.role.name in Role.values else self.role.name
        return f"{self.user} · {role} · {where}"


class RoleSecurityPolicy(models.Model):
    """What a role demands at sign-in: an administrator may require two-factor for it."""

    role = models.OneToOneField(
        Group, on_delete=models.CASCADE, related_name="security_policy", verbose_name=_("role")
    )
    require_two_factor = models.BooleanField(_("require two-factor sign-in"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["role__name"]
        verbose_name = _("role security policy")
        verbose_name_plural = _("role security policies")

    def __str__(self) -> str:
        return str(self.role)
