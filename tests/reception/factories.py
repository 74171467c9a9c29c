"""factory_boy factories for reception configuration: services and counters.

Tickets are not built by a factory on purpose: issue them through `ticket_issue` (or the
`issue_tickets` fixture in conftest.py) so numbering, priority and events are the real ones.
"""

import factory

from reception.models import (
    AdvisorAvailability,
    Counter,
    CounterService,
    CounterState,
    ServiceCategory,
    ServiceType,
)
from tests.factories import BranchFactory, UserFactory


class ServiceTypeFactory(factory.django.DjangoModelFactory):
    """A service at a branch. `prefix` defaults to "A": give services their own letter when they
    should not share a number series."""

    class Meta:
        model = ServiceType

    branch = factory.SubFactory(BranchFactory)
    code = factory.Sequence(lambda n: f"service-{n}")
    name_zh = factory.LazyAttribute(lambda o: f"业务 {o.code}")
    name_en = factory.LazyAttribute(lambda o: f"Service {o.code}")
    prefix = "A"
    category = ServiceCategory.CASH
    target_wait_minutes = 15
    expected_service_minutes = 8


class CounterFactory(factory.django.DjangoModelFactory):
    """A counter, closed and nobody signed in (sign in with `counter_sign_in`).

    `services=[s1, s2]` links services with preference 1, 2 … in that order:
    `CounterFactory(branch=b, services=[cash, accounts])`.
    """

    class Meta:
        model = Counter
        skip_postgeneration_save = True

    branch = factory.SubFactory(BranchFactory)
    number = factory.Sequence(lambda n: n + 1)
    name = ""
    state = CounterState.CLOSED

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            for preference, service_type in enumerate(extracted, start=1):
                CounterService.objects.create(
                    counter=self, service_type=service_type, preference=preference
                )


class AdvisorAvailabilityFactory(factory.django.DjangoModelFactory):
    """A weekly period of an advisor, Thursday 09:00–17:00 by default:
    `AdvisorAvailabilityFactory(advisor=u, branch=b, service_types=[wealth])`."""

    class Meta:
        model = AdvisorAvailability
        skip_postgeneration_save = True

    advisor = factory.SubFactory(UserFactory)
    branch = factory.SubFactory(BranchFactory)
    weekday = 4
    starts = "09:00"
    ends = "17:00"

    @factory.post_generation
    def service_types(self, create, extracted, **kwargs):
        if create and extracted:
            self.service_types.set(extracted)
