"""Demo configuration for reception: services (some bookable by appointment, wealth and loans
with an advisor), the advisors' weekly calendars, counters, a kiosk and a display per branch.

Called by `manage.py seed_demo` through ReceptionConfig.seed_demo; idempotent. It also gives
each branch HISTORY_WEEKS of past tickets (`seed_history`), so the managers' dashboards, trends
and staffing forecast have something to show on a new installation.
"""

import datetime as dt
import random

from django.utils import timezone

from bankservice.branches.models import OpeningHours, Role, StaffMembership

from .models import (
    AdvisorAvailability,
    Counter,
    CounterService,
    Device,
    DeviceKind,
    ServiceCategory,
    ServiceType,
    Ticket,
    TicketStatus,
    Visit,
    VisitSource,
)

# code, prefix, Chinese, English, category, target wait, expected service minutes
SERVICES = [
    ("cash", "A", "现金及转账", "Cash and transfers", ServiceCategory.CASH, 10, 5),
    ("accounts", "B", "开户及银行卡", "Accounts and cards", ServiceCategory.ACCOUNTS, 15, 12),
    ("loans", "C", "贷款业务", "Loans and mortgages", ServiceCategory.LOANS, 20, 25),
    ("wealth", "V", "理财咨询", "Wealth management", ServiceCategory.WEALTH, 20, 20),
    ("enquiry", "E", "业务咨询", "Enquiries", ServiceCategory.ENQUIRY, 10, 6),
]
# Bookable by appointment: code -> (slot minutes, appointments per slot)
BOOKABLE = {"loans": (30, 1), "wealth": (30, 2), "accounts": (15, 2)}
# Booked with a named (or any) advisor, following the advisors' calendars.
WITH_ADVISOR = {"loans", "wealth"}
# The demo advisors' week: Monday to Friday, morning and afternoon (the lunch break is free).
ADVISOR_HOURS = [(dt.time(9, 0), dt.time(12, 0)), (dt.time(13, 0), dt.time(17, 0))]
# counter number -> services in order of preference
COUNTERS = {
    1: ["cash", "accounts"],
    2: ["cash", "enquiry"],
    3: ["accounts", "cash"],
    4: ["wealth", "loans", "enquiry"],
}


def seed_reception(*, branches) -> dict[str, int]:
    created = {"service types": 0, "advisor calendars": 0, "counters": 0, "devices": 0}
    for branch in branches:
        services = {}
        for order, (code, prefix, zh, en, category, target, expected) in enumerate(SERVICES):
            services[code], was_created = ServiceType.objects.get_or_create(
                branch=branch,
                code=code,
                defaults={
                    "prefix": prefix,
                    "name_zh": zh,
                    "name_en": en,
                    "category": category,
                    "target_wait_minutes": target,
                    "expected_service_minutes": expected,
                    "sort_order": order,
                    "bookable": code in BOOKABLE,
                    "slot_minutes": BOOKABLE.get(code, (15, 1))[0],
                    "slot_capacity": BOOKABLE.get(code, (15, 1))[1],
                    "with_advisor": code in WITH_ADVISOR,
                },
            )
            created["service types"] += was_created
        created["advisor calendars"] += _advisor_calendars(
            branch, [services[code] for code in sorted(WITH_ADVISOR)]
        )
        for number, codes in COUNTERS.items():
            counter, was_created = Counter.objects.get_or_create(branch=branch, number=number)
            created["counters"] += was_created
            if was_created:
                for preference, code in enumerate(codes, start=1):
                    CounterService.objects.create(
                        counter=counter, service_type=services[code], preference=preference
                    )
        for kind, name in ((DeviceKind.KIOSK, "Kiosk 1"), (DeviceKind.DISPLAY, "Lobby board")):
            _device, was_created = Device.objects.get_or_create(branch=branch, kind=kind, name=name)
            created["devices"] += was_created
        created["past tickets"] = created.get("past tickets", 0) + seed_history(branch)
    return created


HISTORY_WEEKS = 8
# Arrivals per opening hour (local hour -> mean), and the share of each service.
HOURLY_ARRIVALS = {9: 9, 10: 14, 11: 16, 12: 10, 13: 9, 14: 12, 15: 13, 16: 8}
SERVICE_MIX = {"cash": 45, "accounts": 20, "enquiry": 20, "loans": 7, "wealth": 8}


def seed_history(branch, *, weeks: int = HISTORY_WEEKS) -> int:
    """Closed tickets for the branch's opening days of the last `weeks` weeks (busier on
    Mondays and before lunch), served by its tellers; none if it has past tickets already."""
    today = timezone.localdate(timezone.now(), branch.zone)
    if Ticket.objects.filter(branch=branch, business_date__lt=today).exists():
        return 0
    services = {s.code: s for s in ServiceType.objects.filter(branch=branch, is_active=True)}
    mix = [(services[code], weight) for code, weight in SERVICE_MIX.items() if code in services]
    tellers = list(
        StaffMembership.objects.filter(branch=branch, role__name=Role.TELLER).values_list(
            "user_id", flat=True
        )
    )
    counters = list(Counter.objects.filter(branch=branch).order_by("number"))
    hours = {}
    for weekday, opens, closes in OpeningHours.objects.filter(branch=branch).values_list(
        "weekday", "opens_at", "closes_at"
    ):
        hours.setdefault(weekday, []).extend(range(opens.hour, closes.hour))
    if not (mix and tellers and counters and hours):
        return 0
    rng = random.Random(f"history-{branch.code}")  # noqa: S311 (demo data, not secrets)
    tickets = []
    for back in range(weeks * 7, 0, -1):
        day = today - dt.timedelta(days=back)
        sequences: dict[str, int] = {}
        for hour in hours.get(day.isoweekday(), ()):
            busy = 1.3 if day.isoweekday() == 1 else 1.0
            arrivals = round(rng.gauss(HOURLY_ARRIVALS.get(hour, 6) * busy, 2))
            for _ in range(max(arrivals, 0)):
                service = rng.choices([s for s, _w in mix], [w for _s, w in mix])[0]
                issued = dt.datetime.combine(
                    day, dt.time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=branch.zone
                )
                sequences[service.prefix] = sequences.get(service.prefix, 0) + 1
                tickets.append(
                    _past_ticket(rng, branch, service, issued, sequences, tellers, counters)
                )
    visits = Visit.objects.bulk_create([visit for visit, _ticket in tickets], batch_size=1000)
    for visit, (_visit, ticket) in zip(visits, tickets, strict=True):
        ticket.visit = visit
    Ticket.objects.bulk_create([ticket for _visit, ticket in tickets], batch_size=1000)
    return len(tickets)


def _past_ticket(rng, branch, service, issued, sequences, tellers, counters):
    """One closed ticket: mostly completed; some no-shows and some who left before a call."""
    sequence = sequences[service.prefix]
    busy = HOURLY_ARRIVALS.get(issued.hour, 6) / 10
    wait = dt.timedelta(seconds=rng.expovariate(1 / (300 * busy * busy)))
    service_time = dt.timedelta(
        seconds=max(60.0, rng.gauss(service.expected_service_minutes * 60, 120))
    )
    ticket = Ticket(
        branch=branch,
        service_type=service,
        business_date=issued.date(),
        prefix=service.prefix,
        sequence=sequence,
        number=f"{service.prefix}{sequence:03d}",
        arrived_at=issued,
        issued_at=issued,
        priority_at=issued,
    )
    outcome = rng.random()
    if outcome < 0.05:  # left before being called
        ticket.status = TicketStatus.UNSERVED
        ticket.finished_at = issued + wait
    else:
        ticket.counter = rng.choice(counters)
        ticket.served_by_id = rng.choice(tellers)
        ticket.called_at = issued + wait
        if outcome < 0.09:
            ticket.status = TicketStatus.NO_SHOW
            ticket.finished_at = ticket.called_at + dt.timedelta(minutes=2)
        else:
            ticket.status = TicketStatus.COMPLETED
            ticket.serving_started_at = ticket.called_at + dt.timedelta(seconds=40)
            ticket.finished_at = ticket.serving_started_at + service_time
    visit = Visit(branch=branch, source=VisitSource.KIOSK, arrived_at=issued)
    return visit, ticket


def _advisor_calendars(branch, services) -> int:
    """A weekly calendar for each advisor of the branch who has none yet."""
    advisors = StaffMembership.objects.filter(branch=branch, role__name=Role.ADVISOR).exclude(
        user__availability__branch=branch
    )
    count = 0
    for membership in advisors.select_related("user"):
        for weekday in range(1, 6):
            for starts, ends in ADVISOR_HOURS:
                row = AdvisorAvailability.objects.create(
                    advisor=membership.user,
                    branch=branch,
                    weekday=weekday,
                    starts=starts,
                    ends=ends,
                )
                row.service_types.set(services)
        count += 1
    return count


def demo_links(*, base_url: str) -> list[str]:
    devices = (
        Device.objects.filter(is_active=True)
        .select_related("branch")
        .order_by("branch__code", "kind")[:20]
    )
    lines = [
        f"  {d.branch.code} {d.get_kind_display()}: {base_url}/{d.kind}/{d.token}/" for d in devices
    ]
    lines = ["\nReception devices (no login needed):", *lines] if lines else []

    def branches_with(**flags) -> list[str]:
        return list(
            ServiceType.objects.filter(is_active=True, branch__is_active=True, **flags)
            .order_by("branch__code")
            .values_list("branch__code", flat=True)
            .distinct()[:20]
        )

    booking = [f"  {code} {base_url}/book/{code}/" for code in branches_with(bookable=True)]
    if booking:
        lines += ["\nAppointments, public booking page (no login needed):", *booking]
    checkin = [
        f"  {code} {base_url}/checkin/{code}/" for code in branches_with(remote_checkin=True)
    ]
    if checkin:
        lines += ["\nRemote check-in from a phone (while the branch is open):", *checkin]
    return lines
