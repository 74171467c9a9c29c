"""The last place of a slot on PostgreSQL: bookings racing for it, exactly one wins.

Booking locks the service's row before it counts the slot's appointments, so the losers wait,
then count again and see the slot full (409), whichever thread the database lets in first.
"""

import datetime as dt
import zoneinfo

import pytest

from bankservice.core.errors import Conflict
from bankservice.events.models import Event
from reception.appointments import appointment_book
from reception.models import Appointment, ServiceType
from tests.concurrency import run_together
from tests.conftest import requires_postgres
from tests.reception.factories import ServiceTypeFactory

# serialized_rollback: the flush between transactional tests would drop the role groups that
# a data migration created.
pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)
SLOT = dt.datetime(2026, 3, 5, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize("racers", [2, 8])
def test_the_last_place_of_a_slot_goes_to_one_booking(branch_a, racers):
    service = ServiceTypeFactory(
        branch=branch_a, code="wealth", prefix="V", bookable=True, slot_minutes=30, slot_capacity=2
    )
    appointment_book(
        actor=None,
        service_type=service,
        starts_at=SLOT,
        contact_name="First",
        contact_phone="13900000000",
        now=NOW,
    )

    def booker(n):
        def book():
            return appointment_book(
                actor=None,
                # Each thread its own objects, read on its own connection.
                service_type=ServiceType.objects.select_related("branch").get(pk=service.pk),
                starts_at=SLOT,
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
    assert all("has just been taken" in str(r) for r in lost)
    assert Appointment.objects.filter(service_type=service, starts_at=SLOT).count() == 2
    assert Event.objects.filter(type="reception.appointment_booked").count() == 2
