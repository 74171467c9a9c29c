"""Webhook fixtures: a real local receiver, subscriptions, events, a webhook administrator."""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from bankservice.events.models import DeliveryStatus, WebhookDelivery
from bankservice.events.services import record
from bankservice.events.webhook_services import webhook_subscription_create, webhooks_relay
from tests.factories import CustomerFactory

from .receiver import Receiver


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 5
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 10
    settings.WEBHOOK_BACKOFF_CAP_SECONDS = 600
    settings.WEBHOOK_TIMEOUT_SECONDS = 2.0
    settings.WEBHOOK_BATCH_SIZE = 100
    settings.WEBHOOK_GAP_GRACE_SECONDS = 120


@pytest.fixture
def subscribe(db):
    """subscribe(url, event_types=["customer.*"], branches=(), all_branches=None, name=None)
    -> (subscription, secret); all branches unless branches are given."""
    counter = iter(range(1, 1000))

    def make(url, *, event_types=("customer.*",), branches=(), all_branches=None, name=None):
        if all_branches is None:
            all_branches = not branches
        return webhook_subscription_create(
            actor=None,
            data={
                "name": name or f"receiver {next(counter)}",
                "url": url,
                "event_types": list(event_types),
                "all_branches": all_branches,
                "branches": list(branches),
            },
        )

    return make


@pytest.fixture
def emit(branch_a):
    """emit(type="customer.created", branch=branch_a, customer=None, payload=None) -> Event"""

    def make(type="customer.created", *, branch=branch_a, customer=None, payload=None):
        with transaction.atomic():
            return record(
                type=type,
                actor=None,
                branch=branch,
                customer=customer,
                subject=customer,
                payload=payload if payload is not None else {"n": 1},
            )

    return make


@pytest.fixture
def customer(branch_a):
    return CustomerFactory(home_branch=branch_a)


def make_due() -> int:
    """Bring every pending delivery's next attempt to the past (steps through back-off)."""
    return WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )


def relay_steps(times: int):
    """Run the relay `times` times, making every pending delivery due before each run."""
    reports = []
    for _ in range(times):
        make_due()
        reports.append(webhooks_relay())
    return reports


@pytest.fixture
def webhook_admin(make_staff):
    return make_staff("admin", username="webhook-admin")
