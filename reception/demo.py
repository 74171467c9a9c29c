"""Demo configuration for reception: services (some bookable by appointment, wealth and loans
with an advisor), the advisors' weekly calendars, counters, a kiosk and a display per branch.

Called by `manage.py seed_demo` through ReceptionConfig.seed_demo; idempotent.
"""

import datetime as dt

from bankservice.branches.models import Role, StaffMembership

from .models import (
    AdvisorAvailability,
    Counter,
    CounterService,
    Device,
    DeviceKind,
    ServiceCategory,
    ServiceType,
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
    return created


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
