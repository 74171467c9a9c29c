"""A broker outage at commit time fails nothing: the row waits and the sweep sends it."""

import time

import pytest
from django.db import transaction

from bankservice.notify.models import NotificationStatus
from bankservice.notify.services import notification_send, notification_sweep
from tests.conftest import use_broker

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down():
    # Nothing listens on port 1: connections are refused at once.
    use_broker("redis://127.0.0.1:1/0", {})
    # the autouse _memory_broker fixture restores the real broker afterwards


def test_broker_down_at_commit_does_not_fail_the_request(
    broker_down, sms_gateway, customer, teller, django_capture_on_commit_callbacks, caplog
):
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        n = notification_send(
            customer=customer,
            channel="sms",
            template="generic.message",
            context={"text": "Your card is ready."},
            actor=teller,
        )
    elapsed = time.monotonic() - started
    assert len(callbacks) == 1
    assert elapsed < 2, f"the request waited {elapsed:.1f} s for a dead broker"
    assert "not queued (broker unavailable)" in caplog.text
    n.refresh_from_db()
    assert n.status == NotificationStatus.PENDING
    assert sms_gateway.requests == []

    # The broker is still down; beat and a worker run the sweep once it is back.
    assert notification_sweep().delivered == 1
    n.refresh_from_db()
    assert n.status == NotificationStatus.SENT
    assert len(sms_gateway.requests) == 1
