"""Redis (cache and Celery broker) down: staff keep working; when it returns nothing is lost or
doubled.

The product runs for real: gunicorn and a Celery worker on the test database and a private
redis-server. With Redis stopped, a signed-in teller (a session in the database, cached_db)
issues, calls, starts and completes a ticket, takes a complaint and drafts a service request
over HTTP; every answer succeeds and its rows are there. Meanwhile the complaint's deadlines
fall due. When Redis is back, the periodic tasks are queued as beat queues them (by name,
so the test does not wait out their intervals) and the work catches up: every deadline breached
once, every notification sent once, every event delivered to the webhook receiver exactly once
(no worker dies here; see test_worker_killed for at-least-once delivery).
"""

import copy
import datetime as dt
import time

import httpx
import pytest
from django.utils import timezone

from bankservice.branches.models import OpeningHours, Role
from bankservice.branches.services import membership_grant
from bankservice.events.models import DeliveryStatus, Event, WebhookDelivery
from bankservice.events.webhook_services import webhook_subscription_create
from bankservice.notify.models import Notification, NotificationStatus
from bankservice.sla.models import Deadline, DeadlineState
from complaints.models import Complaint
from reception.models import Ticket, TicketStatus
from tests.complaints.conftest import load_shipped
from tests.conftest import requires_postgres
from tests.factories import BranchFactory, CustomerFactory, RegionFactory, UserFactory
from tests.reception.factories import CounterFactory, ServiceTypeFactory
from transactions import demo
from transactions.models import ServiceRequest

from .processes import staff_http_session, wait_for

pytestmark = [
    requires_postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

TASKS = ("events.relay_webhooks", "sla.sweep", "notify.sweep")


def always_open_branch():
    """A branch in UTC open all day every day on a calendar without weekends (a real clock)."""
    branch = BranchFactory(code="r01", region=RegionFactory(code="res"), time_zone="UTC")
    branch.calendar.weekend_days = []
    branch.calendar.save()
    OpeningHours.objects.filter(branch=branch).delete()
    for weekday in range(1, 8):
        OpeningHours.objects.create(
            branch=branch, weekday=weekday, opens_at="00:00", closes_at="23:59:59"
        )
    return branch


def staff(username, branch, *roles, **fields):
    user = UserFactory(username=username, **fields)
    for role in roles:
        membership_grant(user=user, role=role, branch=branch)
    return user


@pytest.fixture
def stage_setup():
    load_shipped("cn", "cn-2026.csv", "csv")  # the complaints' rule pack calendar
    branch = always_open_branch()
    service = ServiceTypeFactory(branch=branch, code="cash", prefix="A")
    counter = CounterFactory(branch=branch, number=1, services=[service])
    teller = staff("res-teller", branch, Role.TELLER)
    staff("res-manager", branch, Role.BRANCH_MANAGER, email="manager@example.cn")
    customer = CustomerFactory(home_branch=branch, preferred_language="en", full_name="Wang Fang")
    request_type = demo.request_type_install(copy.deepcopy(demo.OPEN_ACCOUNT))
    return branch, service, counter, teller, customer, request_type


def fall_due(deadlines) -> None:
    """Move the deadlines' clocks back: started two minutes ago, due one minute ago."""
    now = timezone.now()
    Deadline.objects.filter(pk__in=deadlines).update(
        started_at=now - dt.timedelta(minutes=2), warn_at=None, due_at=now - dt.timedelta(minutes=1)
    )


def timed(latencies, response):
    latencies.append(response.elapsed.total_seconds())
    return response


def test_staff_work_on_while_redis_is_down_and_queued_work_catches_up_once(
    stage_setup, resilience_redis, resilience_app, resilience_receiver
):
    branch, service, counter, teller, customer, request_type = stage_setup
    receiver = resilience_receiver()
    admin = UserFactory(username="res-admin", is_superuser=True)
    subscription, _secret = webhook_subscription_create(
        actor=admin,
        data={"name": "res", "url": receiver.url, "event_types": ["*"], "all_branches": True},
    )
    first_event = subscription.last_event_id
    app = resilience_app(SLA_SWEEP_BATCH_SIZE="5")
    app.start_web()
    app.start_worker()
    cookies, headers = staff_http_session(teller)
    http = httpx.Client(
        base_url=f"http://127.0.0.1:{app.port}", cookies=cookies, headers=headers, timeout=30
    )

    resilience_redis.stop()
    latencies: list[float] = []

    # Reception: issue, call, serve, complete.
    issued = timed(latencies, http.post("/api/v1/tickets", json={"service_type": service.pk}))
    assert issued.status_code == 201, issued.text
    ticket_id = issued.json()["id"]
    signed_in = timed(latencies, http.post(f"/api/v1/counters/{counter.pk}/sign-in"))
    assert signed_in.status_code == 200, signed_in.text
    called = timed(latencies, http.post(f"/api/v1/counters/{counter.pk}/call-next"))
    assert called.status_code == 200, called.text
    for step in ("start", "complete"):
        answer = timed(latencies, http.post(f"/api/v1/tickets/{ticket_id}/{step}", json={}))
        assert answer.status_code == 200, (step, answer.text)
    assert Ticket.objects.get(pk=ticket_id).status == TicketStatus.COMPLETED

    # Complaints: intake, which starts the complaint's clocks.
    taken = timed(
        latencies,
        http.post(
            "/api/v1/complaints",
            json={
                "branch": branch.code,
                "channel": "phone",
                "category": "card",
                "description": "Charged twice for one card payment.",
                "contact_name": "Wang Fang",
                "contact_phone": "+8613912345678",
            },
        ),
    )
    assert taken.status_code == 201, taken.text
    complaint = Complaint.objects.get(pk=taken.json()["id"])

    # Service requests: a draft for the customer being served.
    drafted = timed(
        latencies,
        http.post(
            "/api/v1/requests",
            json={
                "request_type": request_type.code,
                "customer": customer.pk,
                "branch": branch.code,
                "data": {"purpose": "salary"},
            },
        ),
    )
    assert drafted.status_code == 201, drafted.text
    assert ServiceRequest.objects.filter(pk=drafted.json()["id"]).exists()

    # The complaint's clocks fall due while Redis is away (its due times moved into the past).
    due = list(
        Deadline.objects.filter(state=DeadlineState.OPEN, subject_id=complaint.pk).values_list(
            "pk", flat=True
        )
    )
    assert due
    fall_due(due)
    assert app.worker.poll() is None, "the worker must ride out the outage"
    print(f"request latencies with Redis down: {[round(t, 3) for t in latencies]}")

    resilience_redis.start()
    last_call = 0.0

    def caught_up():
        nonlocal last_call
        if time.monotonic() - last_call > 3:
            app.call(*TASKS)
            last_call = time.monotonic()
        breached = Deadline.objects.filter(pk__in=due, state=DeadlineState.BREACHED).count()
        events = Event.objects.filter(pk__gt=first_event).count()
        delivered = WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count()
        open_notes = Notification.objects.exclude(status=NotificationStatus.SENT).count()
        return breached == len(due) and delivered == events and not open_notes

    wait_for(caught_up, timeout=90, interval=0.5, what="work caught up", log=app.worker_log)

    for pk in due:
        assert Event.objects.filter(type="deadline.breached", payload__deadline_id=pk).count() == 1
    notifications = list(Notification.objects.values_list("reference", flat=True))
    assert notifications, "the breaches e-mail the branch manager"
    sent = [line["reference"] for line in app.notification_lines()]
    assert sorted(sent) == sorted(str(reference) for reference in notifications)
    events = set(Event.objects.filter(pk__gt=first_event).values_list("pk", flat=True))
    assert {int(e) for e in receiver.counts()} == events
    assert set(receiver.counts().values()) == {1}
    assert WebhookDelivery.objects.exclude(status=DeliveryStatus.DELIVERED).count() == 0
