"""Two tellers at once: the database keeps one person one record and no edit is lost."""

import random

import pytest

from bankservice.core.errors import Conflict
from bankservice.customers.models import Customer
from bankservice.customers.services import customer_create, customer_update
from bankservice.events.models import Event
from tests.concurrency import run_together
from tests.conftest import requires_postgres
from tests.factories import CustomerFactory, make_resident_id

# serialized_rollback: the flush between transactional tests would drop the role groups that
# a data migration created.
pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_two_tellers_creating_the_same_person_make_one_record(make_staff, branch_a):
    tellers = [make_staff("teller", branch=branch_a, username=f"t{i}") for i in range(2)]
    for attempt in range(5):  # the race is real; repeat to give it a chance to bite
        national_id = make_resident_id(random.Random(attempt))
        data = {"full_name": "陈一", "national_id": national_id, "home_branch": branch_a}
        results = run_together(
            *(lambda t=t, d=data: customer_create(actor=t, data=dict(d)) for t in tellers)
        )
        created = [r for r in results if isinstance(r, Customer)]
        conflicts = [r for r in results if isinstance(r, Conflict)]
        assert len(created) == 1 and len(conflicts) == 1, results
        assert conflicts[0].field == "national_id"
        assert Customer.objects.filter(national_id=national_id).count() == 1
        assert Event.objects.filter(type="customer.created", customer=created[0]).count() == 1
    assert Event.objects.filter(type="customer.created").count() == 5


def test_two_tellers_editing_at_once_lose_neither_change(make_staff, branch_a):
    customer = CustomerFactory(home_branch=branch_a)
    one, two = (make_staff("teller", branch=branch_a, username=f"e{i}") for i in range(2))
    results = run_together(
        lambda: customer_update(actor=one, customer=customer, data={"segment": "priority"}),
        lambda: customer_update(actor=two, customer=customer, data={"email": "chen@example.cn"}),
    )
    assert all(isinstance(r, Customer) for r in results), results
    customer.refresh_from_db()
    assert (customer.segment, customer.email) == ("priority", "chen@example.cn")
    assert Event.objects.filter(type="customer.updated").count() == 2
