"""Dashboards: the KPI rollups, and the live monitor's alert rules (issue 9).

- `DayRollup` holds a day's measures (dashboards/kpis.py MEASURES) per branch and service;
  `StaffDayRollup` the same per member of staff too (only the pages by staff member read it, so
  the others sum five times fewer rows); `HourRollup` per hour of the day. All three are written
  only by dashboards.rollups from the stages' records, so a rollup can be deleted and rebuilt for
  any date range at any time. Scalar measures are columns (summed in SQL); histograms are sparse
  JSON {bucket: count} (summed in Python).
- `RollupDay` marks a day as rolled up (when, how many rows); its row lock serialises two
  workers rolling up the same day.
- An `AlertRule` is a threshold on a live figure of a branch (longest wait, customers waiting,
  service level today, deadlines at risk); an `AlertFiring` is one episode over the threshold,
  notified once to the branch managers and closed when the figure is back.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bankservice.branches.models import Branch
from bankservice.branches.scope import ScopedQuerySet

SCALAR_FIELDS = (
    "tickets_issued",
    "tickets_called",
    "wait_seconds",
    "within_target",
    "abandoned",
    "no_show",
    "served",
    "service_seconds",
    "consultations",
    "first_contact_resolved",
    "requests_finished",
    "turnaround_seconds",
    "requests_reworked",
    "csat_answers",
    "csat_sum",
    "csat_satisfied",
    "nps_answers",
    "nps_promoters",
    "nps_detractors",
    "complaints_received",
    "complaints_closed",
    "complaints_within_deadline",
    "callbacks_closed",
    "callbacks_done",
    "counter_open_seconds",
    "counter_busy_seconds",
)


class Measures(models.Model):
    """The additive measures of one rollup row (see dashboards/kpis.py for their meaning)."""

    tickets_issued = models.IntegerField(default=0)
    tickets_called = models.IntegerField(default=0)
    wait_seconds = models.FloatField(default=0)
    within_target = models.IntegerField(default=0)
    abandoned = models.IntegerField(default=0)
    no_show = models.IntegerField(default=0)
    served = models.IntegerField(default=0)
    service_seconds = models.FloatField(default=0)
    consultations = models.IntegerField(default=0)
    first_contact_resolved = models.IntegerField(default=0)
    requests_finished = models.IntegerField(default=0)
    turnaround_seconds = models.FloatField(default=0)
    requests_reworked = models.IntegerField(default=0)
    csat_answers = models.IntegerField(default=0)
    csat_sum = models.IntegerField(default=0)
    csat_satisfied = models.IntegerField(default=0)
    nps_answers = models.IntegerField(default=0)
    nps_promoters = models.IntegerField(default=0)
    nps_detractors = models.IntegerField(default=0)
    complaints_received = models.IntegerField(default=0)
    complaints_closed = models.IntegerField(default=0)
    complaints_within_deadline = models.IntegerField(default=0)
    callbacks_closed = models.IntegerField(default=0)
    callbacks_done = models.IntegerField(default=0)
    counter_open_seconds = models.FloatField(default=0)
    counter_busy_seconds = models.FloatField(default=0)
    # {"wait_histogram": {"3": 12, ...}, ...}: only the histograms and buckets with data.
    histograms = models.JSONField(default=dict)

    objects = ScopedQuerySet.as_manager()
    scope_branch_field = "branch_id"

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.day} {self.branch_id} {self.service}"


class DayRollup(Measures):
    """A day's measures per branch and service: what every page reads unless it asks by staff."""

    day = models.DateField()
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+")
    service = models.CharField(max_length=60, blank=True)

    class Meta:
        verbose_name = _("daily KPI rollup")
        verbose_name_plural = _("daily KPI rollups")
        default_permissions = ()
        permissions = [
            ("view_kpis", _("Can see the KPIs and dashboards of their branches")),
            ("view_staff_performance", _("Can see the performance of each member of staff")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["day", "branch", "service"], name="dayrollup_unique"),
        ]
        indexes = [models.Index(fields=["day"], name="dayrollup_day_idx")]


class StaffDayRollup(Measures):
    """A day's measures per branch, service and member of staff (blank: records nobody's), for
    the pages by staff member. Its rows add up to the day's DayRollup rows."""

    day = models.DateField()
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+")
    service = models.CharField(max_length=60, blank=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("daily KPI rollup by staff member")
        verbose_name_plural = _("daily KPI rollups by staff member")
        default_permissions = ()
        indexes = [
            models.Index(fields=["branch", "day"], name="staffdayrollup_branch_day_idx"),
            models.Index(fields=["staff", "day"], name="staffdayrollup_staff_day_idx"),
        ]


class HourRollup(Measures):
    day = models.DateField()
    hour = models.PositiveSmallIntegerField()
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+")
    service = models.CharField(max_length=60, blank=True)

    class Meta:
        verbose_name = _("hourly KPI rollup")
        verbose_name_plural = _("hourly KPI rollups")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["day", "hour", "branch", "service"], name="hourrollup_unique"
            ),
        ]
        indexes = [models.Index(fields=["branch", "day"], name="hourrollup_branch_day_idx")]


class RollupDay(models.Model):
    day = models.DateField(unique=True)
    rolled_up_at = models.DateTimeField()
    rows = models.PositiveIntegerField(default=0)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return str(self.day)


class AlertMetric(models.TextChoices):
    LONGEST_WAIT = "longest_wait", _("Longest wait now, minutes")
    WAITING = "waiting", _("Customers waiting now")
    SERVICE_LEVEL = "service_level", _("Service level today below, per cent")
    AT_RISK = "at_risk", _("Complaints and callbacks at risk of breach")


class AlertRule(models.Model):
    branch = models.ForeignKey(
        Branch, on_delete=models.CASCADE, related_name="+", verbose_name=_("branch")
    )
    metric = models.CharField(_("figure"), max_length=20, choices=AlertMetric.choices)
    # For the queue figures: one service's code, or blank for the whole branch.
    service = models.CharField(_("service code"), max_length=60, blank=True)
    threshold = models.PositiveIntegerField(_("threshold"))
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_branch_field = "branch_id"

    class Meta:
        ordering = ["branch", "metric", "service"]
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(metric__in=AlertMetric.values), name="alertrule_metric_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.branch_id} {self.metric} {self.threshold}"


class AlertFiring(models.Model):
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="firings")
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+")
    value = models.FloatField()
    fired_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_branch_field = "branch_id"

    class Meta:
        ordering = ["-fired_at"]
        default_permissions = ()
        constraints = [
            # One open episode per rule: a second worker's check finds it and notifies nothing.
            models.UniqueConstraint(
                fields=["rule"], condition=Q(cleared_at__isnull=True), name="alertfiring_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.fired_at:%Y-%m-%d %H:%M}"
