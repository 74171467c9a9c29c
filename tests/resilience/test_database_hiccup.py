"""A database connection dropped in the middle of a request (PostgreSQL backend terminated, as in
a failover or a server restart): that request answers 503 with Retry-After and writes nothing;
the next one reconnects and succeeds (bankservice.core.middleware.DatabaseUnavailableMiddleware).

The request is caught mid-transaction on purpose: a second connection holds a table lock the
request's own transaction needs after its first writes, the request's backend is found waiting
on it in pg_stat_activity and terminated with pg_terminate_backend.
"""

import threading

import psycopg
import pytest
from django.db import connection

from bankservice.events.models import Event
from reception.models import Ticket, Visit
from tests.conftest import requires_postgres

from .processes import wait_for

# serialized_rollback: the flush between transactional tests would drop the data migrations
# install (role groups) that later tests rely on.
pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def raw_connection() -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=False)


def terminate_backend_blocked_by(table: str, mode: str, request) -> None:
    """Run `request()` in a thread while `table` is locked in `mode`; terminate the request's
    backend as soon as it waits for the lock; return the thread's response."""
    result = {}
    with raw_connection() as locker:
        locker.execute(f"LOCK TABLE {table} IN {mode} MODE")

        def run():
            try:
                result["response"] = request()
            finally:
                connection.close()

        thread = threading.Thread(target=run)
        thread.start()
        database = connection.settings_dict["NAME"]

        def blocked_backend():
            row = locker.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
                " AND wait_event_type = 'Lock'",
                [database],
            ).fetchone()
            return row and row[0]

        pid = wait_for(blocked_backend, timeout=30, what=f"a request waiting on {table}")
        assert locker.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
        locker.rollback()
    thread.join(timeout=30)
    assert not thread.is_alive()
    return result["response"]


def test_api_request_losing_its_connection_answers_503_and_writes_nothing(
    api, teller, open_counter, cash_service, reception_clock
):
    api.force_login(teller)
    events_before = Event.objects.count()

    # Issuing writes a visit and a ticket, then records the event: it waits at the event.
    response = terminate_backend_blocked_by(
        "events_event",
        "EXCLUSIVE",
        lambda: api.post("/api/v1/tickets", {"service_type": cash_service.pk}),
    )

    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    assert response.json() == {"detail": "The service is briefly unavailable; try again shortly."}
    assert Ticket.objects.count() == 0
    assert Visit.objects.count() == 0
    assert Event.objects.count() == events_before

    again = api.post("/api/v1/tickets", {"service_type": cash_service.pk})
    assert again.status_code == 201, again.content
    assert Ticket.objects.get().number == "A001"  # the failed request used no number either


def test_page_request_losing_its_connection_answers_a_503_page(
    client, teller, open_counter, issue_tickets
):
    issue_tickets(1)
    client.force_login(teller)
    url = "/api/v1/tickets"
    page = "/reception/counter/"
    assert client.get(page).status_code == 200

    response = terminate_backend_blocked_by(
        "reception_ticket", "ACCESS EXCLUSIVE", lambda: client.get(page)
    )

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith("text/html")
    assert "Service unavailable" in response.content.decode()
    assert client.get(page).status_code == 200
    assert client.get(url).status_code == 200
