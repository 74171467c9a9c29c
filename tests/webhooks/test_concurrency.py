"""Two relays at once (PostgreSQL): each event reaches each receiver exactly once, in order."""

import pytest

from bankservice.events.models import WebhookAttempt, WebhookDelivery
from bankservice.events.webhook_services import webhooks_relay
from tests.concurrency import run_together
from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_two_relays_at_once_deliver_each_event_exactly_once(receiver, subscribe, emit):
    receiver.delay = 0.005  # long enough for the two relays to overlap
    paths = [f"/r{i}" for i in range(3)]
    for path in paths:
        subscribe(receiver.url(path), event_types=["customer.*"])
    expected = []
    skipped = 0
    for _round in range(3):
        expected += [emit().pk for _ in range(8)]
        reports = run_together(webhooks_relay, webhooks_relay)
        assert not any(isinstance(r, Exception) for r in reports), reports
        skipped += sum(r.skipped for r in reports)
        assert sum(r.delivered for r in reports) == 3 * 8  # no event sent twice
        for path in paths:
            assert receiver.ids(path) == expected, path
    assert skipped, "the relays never met: the race was not exercised"
    assert WebhookDelivery.objects.filter(status="delivered").count() == 3 * len(expected)
    assert WebhookAttempt.objects.count() == 3 * len(expected)
