"""A Celery worker killed with SIGKILL in the middle of the deadline sweep and of webhook
deliveries: after a restart every due deadline is handled exactly once and every event reaches
the receiver.

Deadlines: each batch is claimed and handled in one transaction, so a kill rolls the open batch
back and the next sweep takes it again; the handler's event ("deadline.breached") exists once
per deadline. Webhooks are at least once: the delivery whose answer came back but was not yet
saved when the worker died is sent again, with the same X-Event-Id (receivers de-duplicate on
it); so one event at most is received twice, none is missing.

The killed relay's lease on the subscription is made to run out at once (in production it
outlives the task's hard time limit: three minutes), instead of waiting for it.
"""

import datetime as dt
import time

import pytest
from django.utils import timezone

from bankservice.branches.models import Role
from bankservice.events.models import DeliveryStatus, Event, WebhookDelivery, WebhookSubscription
from bankservice.events.webhook_services import webhook_subscription_create
from bankservice.sla.models import Deadline, DeadlineState
from complaints.services import complaint_create
from tests.complaints.conftest import load_shipped
from tests.conftest import requires_postgres
from tests.factories import CustomerFactory, UserFactory

from .processes import wait_for
from .test_broker_down import always_open_branch, fall_due, staff

pytestmark = [
    requires_postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

COMPLAINTS = 20


def test_a_worker_killed_mid_sweep_and_mid_delivery_loses_and_doubles_nothing(
    resilience_app, resilience_receiver
):
    from complaints.models import Category

    load_shipped("cn", "cn-2026.csv", "csv")
    branch = always_open_branch()
    teller = staff("res-teller", branch, Role.TELLER)
    staff("res-manager", branch, Role.BRANCH_MANAGER, email="manager@example.cn")
    receiver = resilience_receiver(delay=0.1)  # slow: the kill lands among the deliveries
    admin = UserFactory(username="res-admin", is_superuser=True)
    subscription, _secret = webhook_subscription_create(
        actor=admin,
        data={"name": "res", "url": receiver.url, "event_types": ["*"], "all_branches": True},
    )
    first_event = subscription.last_event_id
    category = Category.objects.get(code="card")
    for _i in range(COMPLAINTS):
        complaint_create(
            actor=teller,
            branch=branch,
            channel="counter",
            category=category,
            description="The ATM kept my card.",
            customer=CustomerFactory(home_branch=branch),
        )
    due = list(Deadline.objects.filter(state=DeadlineState.OPEN).values_list("pk", flat=True))
    assert len(due) >= COMPLAINTS
    fall_due(due)

    # Small batches, many transactions: the kill falls between and inside them.
    # A killed batch leaves a gap in the event ids; the relay waits this long for such a gap
    # to fill (an uncommitted transaction) before it passes it.
    app = resilience_app(
        SLA_SWEEP_BATCH_SIZE="2", SLA_SWEEP_MAX_BATCHES="1000", WEBHOOK_GAP_GRACE_SECONDS="2"
    )
    app.start_worker(concurrency=2)
    app.call("events.relay_webhooks", "sla.sweep")

    def mid_work():
        breached = Deadline.objects.filter(pk__in=due, state=DeadlineState.BREACHED).count()
        return breached > 0 and len(receiver.counts()) > 0

    wait_for(mid_work, timeout=60, interval=0.02, what="sweep and relay under way")
    app.kill_worker()
    breached_at_kill = Deadline.objects.filter(pk__in=due, state=DeadlineState.BREACHED).count()
    received_at_kill = len(receiver.counts())
    events = set(Event.objects.filter(pk__gt=first_event).values_list("pk", flat=True))
    print(
        f"killed with {breached_at_kill}/{len(due)} deadlines breached and "
        f"{received_at_kill}/{len(events)} events received"
    )
    assert received_at_kill < len(events), "the kill must land among the deliveries"

    # The dead relay's lease ends (in production after three minutes).
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        lease_until=timezone.now() - dt.timedelta(seconds=1)
    )
    app.start_worker(concurrency=2)
    last_call = 0.0

    def caught_up():
        nonlocal last_call
        if time.monotonic() - last_call > 3:
            app.call("events.relay_webhooks", "sla.sweep")
            last_call = time.monotonic()
        breached = Deadline.objects.filter(pk__in=due, state=DeadlineState.BREACHED).count()
        all_events = Event.objects.filter(pk__gt=first_event).count()
        delivered = WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count()
        return breached == len(due) and delivered == all_events

    wait_for(caught_up, timeout=90, interval=0.5, what="work caught up", log=app.worker_log)

    breaches = Event.objects.filter(type="deadline.breached", payload__deadline_id__in=due)
    per_deadline = {pk: 0 for pk in due}
    for pk in breaches.values_list("payload__deadline_id", flat=True):
        per_deadline[pk] += 1
    assert set(per_deadline.values()) == {1}
    events = set(Event.objects.filter(pk__gt=first_event).values_list("pk", flat=True))
    received = receiver.counts()
    assert {int(e) for e in received} == events
    resent = sum(count - 1 for count in received.values())
    assert resent <= 1, received.most_common(3)
    assert WebhookDelivery.objects.exclude(status=DeliveryStatus.DELIVERED).count() == 0
