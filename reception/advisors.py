"""Advisor calendars: when each advisor takes appointments (weekly availability, less time off),
which slots of a `with_advisor` service are free with whom, and the services that edit the
calendars.

A slot of such a service is free while at least one advisor who serves the service at its branch
works then and holds no booked or checked-in appointment overlapping it, at any service or
branch. "Any advisor" goes to the free advisor with the fewest bookings that day (ties: the
lowest id), so the work spreads evenly and the choice is reproducible.

Locking: a booking or reschedule with an advisor locks the advisors' user rows (`lock_advisors`)
after the service's row and re-counts under the lock. The user row is the one row every booking
of that advisor shares, whatever the service or branch, so two bookings of one advisor at one
time never both win. Time off and availability changes lock the same row, so a booking never
slips in beside a change that would have refused it. Always in primary-key order: no deadlock.
"""

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bankservice.branches.models import Branch, Role, StaffMembership
from bankservice.branches.scope import branch_ids_for, can_act_at, has_perm
from bankservice.core.errors import BadInput
from bankservice.events.services import record

from .models import (
    AdvisorAvailability,
    AdvisorTimeOff,
    Appointment,
    AppointmentStatus,
    ServiceType,
)

VIEW_PERM = "reception.view_advisoravailability"
EDIT_PERM = "reception.change_advisoravailability"
ADD_PERM = "reception.add_advisoravailability"
DELETE_PERM = "reception.delete_advisoravailability"
TIME_OFF_PERM = "reception.add_advisortimeoff"
TIME_OFF_DELETE_PERM = "reception.delete_advisortimeoff"
# An appointment in these states keeps its advisor busy.
HOLDING_STATES = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)

User = get_user_model()


@dataclass(frozen=True)
class Advisor:
    """An advisor as customers see them: an id and a display name, no personal data."""

    id: int
    name: str


_CJK = re.compile(r"[\u3400-\u9fff]")


def display_name(user) -> str:
    """How customers see an advisor: a Chinese name as its family name and title ("贾经理", as
    Chinese banks do), another as the first name and the family name's initial ("Wei L."); the
    username when no name is set."""
    first, last = (user.first_name or "").strip(), (user.last_name or "").strip()
    if last and _CJK.match(last):
        return _("%(family_name)s (advisor)") % {"family_name": last}
    if first and last:
        return f"{first} {last[0]}."
    return first or last or user.get_username()


def _day_bounds(branch, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(0), tzinfo=branch.zone)
    return start, start + dt.timedelta(days=1)


def serving_availability(service_type: ServiceType):
    """The availability rows of advisors serving the service at its branch (active users)."""
    return AdvisorAvailability.objects.filter(
        branch_id=service_type.branch_id, service_types=service_type, advisor__is_active=True
    )


def serving_advisors(service_type: ServiceType) -> list[Advisor]:
    """Who may be chosen for the service, by display name: one query."""
    users = (
        User.objects.filter(pk__in=serving_availability(service_type).values("advisor_id"))
        .only("id", "username", "first_name", "last_name")
        .order_by("first_name", "last_name", "id")
    )
    return [Advisor(user.pk, display_name(user)) for user in users]


@dataclass
class AdvisorDay:
    """The advisors serving a service on one local day: when they work (availability less time
    off), when they are busy, and how many appointments each already has that day."""

    advisors: dict[int, Advisor]
    working: dict[int, list[tuple[dt.datetime, dt.datetime]]]
    away: dict[int, list[tuple[dt.datetime, dt.datetime]]]
    busy: dict[int, list[tuple[dt.datetime, dt.datetime]]]
    bookings: dict[int, int]

    @classmethod
    def load(
        cls,
        service_type: ServiceType,
        day: dt.date,
        *,
        advisor_id: int | None = None,
        exclude: Appointment | None = None,
    ) -> "AdvisorDay":
        """Three queries whatever the number of advisors or slots: availability (with the
        advisors' names), time off, and the advisors' appointments that day."""
        branch = service_type.branch
        rows = serving_availability(service_type).filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=day),
            Q(valid_until__isnull=True) | Q(valid_until__gte=day),
            weekday=day.isoweekday(),
        )
        if advisor_id is not None:
            rows = rows.filter(advisor_id=advisor_id)
        rows = rows.select_related("advisor").only(
            "starts",
            "ends",
            "advisor__id",
            "advisor__username",
            "advisor__first_name",
            "advisor__last_name",
        )
        advisors, working = {}, defaultdict(list)
        for row in rows:
            advisors[row.advisor_id] = Advisor(row.advisor_id, display_name(row.advisor))
            working[row.advisor_id].append(
                (
                    dt.datetime.combine(day, row.starts, tzinfo=branch.zone),
                    dt.datetime.combine(day, row.ends, tzinfo=branch.zone),
                )
            )
        away, busy, bookings = defaultdict(list), defaultdict(list), defaultdict(int)
        if advisors:
            start, end = _day_bounds(branch, day)
            for who, s, e in AdvisorTimeOff.objects.filter(
                advisor_id__in=advisors, starts_at__lt=end, ends_at__gt=start
            ).values_list("advisor_id", "starts_at", "ends_at"):
                away[who].append((s, e))
            taken = Appointment.objects.filter(
                advisor_id__in=advisors,
                status__in=HOLDING_STATES,
                starts_at__lt=end,
                ends_at__gt=start,
            )
            if exclude is not None:
                taken = taken.exclude(pk=exclude.pk)
            for who, s, e in taken.values_list("advisor_id", "starts_at", "ends_at"):
                busy[who].append((s, e))
                bookings[who] += 1
        return cls(advisors, working, away, busy, bookings)

    def at(self, start: dt.datetime, end: dt.datetime) -> tuple[int, list[Advisor]]:
        """(advisors working through the slot, those of them free), the free ones in the order
        "any advisor" takes them: fewest bookings that day, then lowest id."""
        working = [
            who
            for who in self.advisors
            if any(s <= start and end <= e for s, e in self.working[who])
            and not any(s < end and e > start for s, e in self.away[who])
        ]
        free = [who for who in working if not any(s < end and e > start for s, e in self.busy[who])]
        free.sort(key=lambda who: (self.bookings[who], who))
        return len(working), [self.advisors[who] for who in free]


def check_advisor(service_type: ServiceType, advisor) -> None:
    """Refuse an advisor for a service booked without one, or who does not serve it."""
    if advisor is None:
        return
    if not service_type.with_advisor:
        raise BadInput(_("This service is not booked with an advisor."), field="advisor")
    if not serving_availability(service_type).filter(advisor_id=advisor.pk).exists():
        raise BadInput(
            _("%(advisor)s does not take appointments for this service.")
            % {"advisor": display_name(advisor)},
            field="advisor",
        )


def lock_advisors(service_type: ServiceType, advisor=None) -> None:
    """Lock the user rows of the advisors a booking may take (the named one, else every advisor
    serving the service), in id order; see the module docstring for who else locks them."""
    if advisor is not None:
        _lock_advisor(advisor)
        return
    ids = serving_availability(service_type).values("advisor_id")
    list(User.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))


def _lock_advisor(advisor) -> None:
    # Also taken by the calendar writes below: see the module docstring.
    list(User.objects.select_for_update().filter(pk=advisor.pk).values_list("pk"))


# --- Calendar reads -----------------------------------------------------------------------------


def advisor_branch_ids(advisor) -> set[int]:
    """The branches where the user is an advisor or has availability: where managers may see and
    edit their calendar."""
    held = (
        StaffMembership.objects.filter(user=advisor, role__name=Role.ADVISOR, branch__isnull=False)
        .order_by()
        .values_list("branch_id", flat=True)
    )
    planned = (
        AdvisorAvailability.objects.filter(advisor=advisor)
        .order_by()
        .values_list("branch_id", flat=True)
    )
    return set(held.union(planned))


def is_self(actor, advisor) -> bool:
    """Whether the actor is that advisor (never an API client: its ids are another table's)."""
    return not getattr(actor, "is_api_client", False) and actor.pk == advisor.pk


def may_see_calendar(actor, advisor, perm: str = VIEW_PERM) -> bool:
    """The advisor themselves, or staff with `perm` at one of the advisor's branches."""
    if is_self(actor, advisor):
        return has_perm(actor, perm)
    ids = branch_ids_for(actor, perm)
    return ids is None or bool(ids & advisor_branch_ids(advisor))


def may_edit_time_off(actor, advisor, perm: str = TIME_OFF_PERM, branch_ids=None) -> bool:
    """The advisor for themselves (with `perm`), or whoever plans availability (a branch manager)
    at one of the advisor's branches (`branch_ids` when the caller has them already)."""
    if is_self(actor, advisor):
        return has_perm(actor, perm)
    branch_ids = advisor_branch_ids(advisor) if branch_ids is None else branch_ids
    return any(can_act_at(actor, ADD_PERM, b) for b in branch_ids)


def advisors_visible_to(actor, perm: str = VIEW_PERM):
    """Advisors (by role membership) at the branches where the actor holds `perm`."""
    ids = branch_ids_for(actor, perm)
    members = StaffMembership.objects.filter(role__name=Role.ADVISOR, branch__isnull=False)
    if ids is not None:
        members = members.filter(branch_id__in=ids)
    return User.objects.filter(pk__in=members.values("user_id"), is_active=True).order_by(
        "first_name", "last_name", "id"
    )


@dataclass
class AdvisorWeek:
    """An advisor's week from `first` (a Monday) as seen from one of their branches (times in
    its zone): availability rows, time off and appointments."""

    advisor: object
    first: dt.date
    branch: Branch | None
    branches: list[Branch]
    zone: object
    availability: list
    time_off: list
    appointments: list

    @property
    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=n) for n in range(7)]


def advisor_week(*, advisor, day: dt.date | None = None, branch_id=None) -> AdvisorWeek:
    """The week holding `day` (default today), from the advisor's branch `branch_id` (default
    their first). Five queries: the branches, availability (with services), time off,
    appointments."""
    branches = list(
        Branch.objects.filter(pk__in=advisor_branch_ids(advisor))
        .select_related("calendar")
        .order_by("code")
    )
    branch = next((b for b in branches if str(b.pk) == str(branch_id)), None)
    branch = branch or (branches[0] if branches else None)
    zone = branch.zone if branch else timezone.get_current_timezone()
    day = day or timezone.localdate(timezone.now(), zone)
    first = day - dt.timedelta(days=day.weekday())
    start = dt.datetime.combine(first, dt.time(0), tzinfo=zone)
    end = start + dt.timedelta(days=7)
    last = first + dt.timedelta(days=6)
    availability = list(
        AdvisorAvailability.objects.filter(advisor=advisor)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=last))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=first))
        .select_related("branch")
        .prefetch_related("service_types")
        .order_by("weekday", "starts", "id")
    )
    time_off = list(
        AdvisorTimeOff.objects.filter(advisor=advisor, starts_at__lt=end, ends_at__gt=start)
    )
    appointments = list(
        Appointment.objects.filter(advisor=advisor, starts_at__lt=end, ends_at__gt=start)
        .select_related("branch", "service_type", "customer", "ticket")
        .order_by("starts_at", "id")
    )
    return AdvisorWeek(advisor, first, branch, branches, zone, availability, time_off, appointments)


# --- Calendar writes ----------------------------------------------------------------------------


def _require(actor, perm: str, branch_id: int) -> None:
    if not can_act_at(actor, perm, branch_id):
        raise PermissionDenied(_("Your role does not allow this at this branch."))


def availability_add(
    *,
    actor,
    advisor,
    branch: Branch,
    service_types: list[ServiceType],
    weekday: int,
    starts: dt.time,
    ends: dt.time,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> AdvisorAvailability:
    """Add a weekly period when the advisor takes appointments at a branch (branch manager)."""
    _require(actor, ADD_PERM, branch.pk)
    if not 1 <= weekday <= 7:
        raise BadInput(_("Choose a weekday."), field="weekday")
    if ends <= starts:
        raise BadInput(_("The end must be after the start."), field="ends")
    if valid_from and valid_until and valid_until < valid_from:
        raise BadInput(_("'Valid until' must not be before 'valid from'."), field="valid_until")
    if not service_types:
        raise BadInput(_("Choose at least one service."), field="service_types")
    if any(s.branch_id != branch.pk or not s.with_advisor for s in service_types):
        raise BadInput(
            _("Choose services of this branch that are booked with an advisor."),
            field="service_types",
        )
    if branch.pk not in advisor_branch_ids(advisor):
        raise BadInput(_("This person is not an advisor at this branch."), field="advisor")
    with transaction.atomic():
        _lock_advisor(advisor)
        overlap = AdvisorAvailability.objects.filter(
            advisor=advisor, weekday=weekday, starts__lt=ends, ends__gt=starts
        ).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=valid_from or dt.date.min),
            Q(valid_from__isnull=True) | Q(valid_from__lte=valid_until or dt.date.max),
        )
        if overlap.exists():
            raise BadInput(
                _("This overlaps another period of the advisor on that day."), field="starts"
            )
        row = AdvisorAvailability.objects.create(
            advisor=advisor,
            branch=branch,
            weekday=weekday,
            starts=starts,
            ends=ends,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        row.service_types.set(service_types)
        record(
            type="reception.advisor_availability_added",
            actor=actor,
            branch=branch,
            subject=row,
            payload={
                "advisor": advisor.pk,
                "weekday": weekday,
                "starts": starts.isoformat(),
                "ends": ends.isoformat(),
                "services": sorted(s.code for s in service_types),
                "valid_from": valid_from.isoformat() if valid_from else None,
                "valid_until": valid_until.isoformat() if valid_until else None,
            },
        )
    return row


def availability_delete(*, actor, availability: AdvisorAvailability) -> None:
    """Remove a weekly period (appointments already booked in it stay booked)."""
    _require(actor, DELETE_PERM, availability.branch_id)
    with transaction.atomic():
        _lock_advisor(availability.advisor)
        record(
            type="reception.advisor_availability_removed",
            actor=actor,
            branch=availability.branch,
            subject=availability,
            payload={
                "advisor": availability.advisor_id,
                "weekday": availability.weekday,
                "starts": availability.starts.isoformat(),
                "ends": availability.ends.isoformat(),
            },
        )
        availability.delete()


def time_off_add(
    *, actor, advisor, starts_at: dt.datetime, ends_at: dt.datetime, reason: str = ""
) -> tuple[AdvisorTimeOff, list[Appointment]]:
    """Record time off: the advisor for themselves, a manager for their branches' advisors.

    Appointments already booked in that time are not cancelled silently: they are returned
    (and named in the event) so that staff move them.
    """
    if not may_edit_time_off(actor, advisor):
        raise PermissionDenied(_("Only the advisor or their branch manager adds their time off."))
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise BadInput(_("Give the time with its time zone."), field="starts_at")
    if ends_at <= starts_at:
        raise BadInput(_("The end must be after the start."), field="ends_at")
    with transaction.atomic():
        _lock_advisor(advisor)
        time_off = AdvisorTimeOff.objects.create(
            advisor=advisor, starts_at=starts_at, ends_at=ends_at, reason=reason.strip()[:120]
        )
        clashes = list(
            Appointment.objects.filter(
                advisor=advisor,
                status=AppointmentStatus.BOOKED,
                starts_at__lt=ends_at,
                ends_at__gt=starts_at,
            )
            .select_related("branch", "service_type")
            .order_by("starts_at", "id")
        )
        record(
            type="reception.advisor_time_off_added",
            actor=actor,
            subject=time_off,
            payload={
                "advisor": advisor.pk,
                "starts_at": starts_at.isoformat(),
                "ends_at": ends_at.isoformat(),
                "clashing_appointments": [a.pk for a in clashes],
            },
        )
    return time_off, clashes


def time_off_delete(*, actor, time_off: AdvisorTimeOff) -> None:
    """Remove time off (the advisor's own, or a manager for their branches' advisors)."""
    advisor = time_off.advisor
    if not may_edit_time_off(actor, advisor, TIME_OFF_DELETE_PERM):
        raise PermissionDenied(
            _("Only the advisor or their branch manager removes their time off.")
        )
    with transaction.atomic():
        _lock_advisor(advisor)
        record(
            type="reception.advisor_time_off_removed",
            actor=actor,
            subject=time_off,
            payload={
                "advisor": advisor.pk,
                "starts_at": time_off.starts_at.isoformat(),
                "ends_at": time_off.ends_at.isoformat(),
            },
        )
        time_off.delete()
