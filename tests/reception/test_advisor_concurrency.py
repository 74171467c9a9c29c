"""The last free advisor at a time on PostgreSQL: bookings racing for them through two services,
some naming the advisor, some "any advisor"; exactly one wins.

Each booking locks its own service's row (different rows for the two services, so that lock
alone would let both in), then the advisors' user rows, and re-counts under that lock: the
losers wait for the winner's commit, then see the advisor busy (409).
"""

import datetime as dt
import zoneinfo

import pytest

from bankservice.branches.models import Role
from bankservice.core.errors import Conflict
from reception.appointments import appointment_book
from reception.models import AdvisorAvailability, Appointment, ServiceType
from tests.concurrency import run_together
from tests.conftest import requires_postgres
from tests.reception.factories import ServiceTypeFactory

# serialized_rollback: the flush between transactional tests would drop the role groups that
# a data migration created.
pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)
SLOT = dt.datetime(2026, 3, 5, 10, 0, tzinfo=SHANGHAI)  # a Thursday


@pytest.mark.parametrize("racers", [2, 8])
def test_the_last_free_advisor_goes_to_one_booking_across_services(branch_a, make_staff, racers):
    wealth = ServiceTypeFactory(
        branch=branch_a, code="wealth", prefix="V", bookable=True, with_advisor=True
    )
    loans = ServiceTypeFactory(
        branch=branch_a, code="loans", prefix="L", bookable=True, with_advisor=True
    )
    li = make_staff(Role.ADVISOR, branch=branch_a, username="adv-li")
    zhang = make_staff(Role.ADVISOR, branch=branch_a, username="adv-zhang")
    for advisor in (li, zhang):
        row = AdvisorAvailability.objects.create(
            advisor=advisor, branch=branch_a, weekday=4, starts="09:00", ends="17:00"
        )
        row.service_types.set([wealth, loans])
    appointment_book(
        actor=None,
        service_type=wealth,
        starts_at=SLOT,
        advisor=zhang,
        contact_name="First",
        contact_phone="13900000000",
        now=NOW,
    )

    def booker(n):
        def book():
            return appointment_book(
                actor=None,
                # Each thread its own objects, read on its own connection.
                service_type=ServiceType.objects.select_related("branch").get(
                    pk=(wealth if n % 2 else loans).pk
                ),
                starts_at=SLOT,
                advisor=type(li).objects.get(pk=li.pk) if n % 4 < 2 else None,
                contact_name=f"Racer {n}",
                contact_phone=f"1390000{n:04d}",
                now=NOW,
            )

        return book

    results = run_together(*(booker(n + 1) for n in range(racers)))

    won = [r for r in results if isinstance(r, Appointment)]
    lost = [r for r in results if isinstance(r, Conflict)]
    assert len(won) == 1, results
    assert len(lost) == racers - 1, results
    assert {r.status_code for r in lost} == {409}
    assert all("is not free" in str(r) or "has just been taken" in str(r) for r in lost)
    assert won[0].advisor_id == li.pk
    assert Appointment.objects.filter(advisor=li, starts_at=SLOT).count() == 1
