"""Property-based tests of the whole API against its OpenAPI schema (schemathesis).

Every operation runs with generated valid and invalid input, with an API key holding every
scope for every branch, against the demo bank (seed_demo, small) so that path ids resolve:
no answer may be a server error, and every answer's status, content type and body must be
what the schema says. Each operation runs in its own transaction over the same seeded data.
"""

import datetime as dt
import io
import zlib
import zoneinfo

import pytest
import schemathesis
import time_machine
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bankservice import celery_app
from bankservice.core.models import ApiScope
from bankservice.core.services import apiclient_create

from ..conftest import use_broker
from . import openapi_document

# A Wednesday morning in Shanghai: the demo branches are open, tickets can be issued.
NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Modest: the whole module (about 150 operations) runs in a few minutes on two cores. Fixed
# (derandomized) examples keep CI runs identical.
EXAMPLES = settings(
    max_examples=5,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # a failure reports its first example, unshrunk
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)


class Seeded:
    """The seeded demo bank: an all-powerful API key and, per path template, ids that exist."""

    def __init__(self, key: str, existing: dict[str, list]):
        self.headers = {"Authorization": f"Api-Key {key}"}
        self.existing = existing

    def resolve(self, case) -> None:
        """Point a valid path id at a seeded object, most of the time; the rest stay as
        generated (mostly unknown: a 404)."""
        values = self.existing.get(case.path)
        components = case.meta.components if case.meta is not None else {}
        path_mode = getattr(components.get(ParameterLocation.PATH), "mode", None)
        if not values or path_mode != GenerationMode.POSITIVE:
            return
        (name,) = case.path_parameters
        pick = zlib.crc32(repr(case.path_parameters[name]).encode())
        if pick % 4:
            case.path_parameters[name] = values[pick % len(values)]


def _existing_ids(paths: dict, headers: dict) -> dict[str, list]:
    """For each path with one parameter, the values of that parameter its list shows."""
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=headers["Authorization"])
    existing = {}
    for path in paths:
        if path.count("{") != 1:
            continue
        collection, _sep, rest = path.partition("/{")
        name = rest.partition("}")[0]
        if collection not in paths or "get" not in paths[collection]:
            continue
        body = http.get(collection, {"page_size": 100}).json()
        rows = body.get("results", body) if isinstance(body, dict) else body
        existing[path] = [row[name] for row in rows if isinstance(row, dict) and name in row]
    return existing


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The demo bank, seeded once for the module inside a transaction rolled back at its end;
    each test runs in a nested transaction (a savepoint) of its own."""
    from django.conf import settings as django_settings

    broker = (celery_app.conf.broker_url, dict(celery_app.conf.broker_transport_options or {}))
    use_broker("memory://", {})  # nothing the seeding queues leaves the process
    with (
        pytest.MonkeyPatch.context() as patch,
        django_db_blocker.unblock(),
        time_machine.travel(NOW, tick=False),
        transaction.atomic(),
    ):
        patch.setattr(django_settings, "DEMO_DATA_ALLOWED", True)
        call_command("seed_demo", "--customers", "12", stdout=io.StringIO(), stderr=io.StringIO())
        _client, key = apiclient_create(
            name="schemathesis", scopes=list(ApiScope.values), all_branches=True
        )
        headers = {"Authorization": f"Api-Key {key}"}
        yield Seeded(key, _existing_ids(openapi_document()["paths"], headers))
        transaction.set_rollback(True)
    use_broker(*broker)


# Loaded at collection: one test per operation (pytest-django has set Django up by then).
schema = schemathesis.openapi.from_dict(openapi_document())
schema.app = WSGIHandler()


@pytest.fixture
def _test_env(seeded, db, settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    # Requests go through the WSGI handler itself; like Django's test client, keep the test's
    # connection (and its transaction) open across them.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.usefixtures("_test_env")
@schema.parametrize()
@EXAMPLES
def test_every_operation_conforms(case, seeded):
    seeded.resolve(case)
    case.call_and_validate(headers=seeded.headers, checks=CHECKS)


@pytest.mark.usefixtures("_test_env")
def test_workflows_through_inferred_links(seeded):
    """Stateful: drf-spectacular writes no OpenAPI links, so schemathesis infers them from the
    schema (ids a response returns feed the operations that take them: list a ticket, then start
    or park it; create a request, then submit it ...) and walks random sequences of calls."""
    workflow = schema.as_state_machine()
    # One rule per inferred link (GET_api_v1_tickets___200_... -> POST_api_v1_tickets_id_start).
    assert sum("_api_v1_" in name for name in dir(workflow)) > 50

    class Workflow(workflow):
        def get_call_kwargs(self, case):
            return {"headers": seeded.headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    Workflow.run(
        settings=settings(EXAMPLES, max_examples=15, stateful_step_count=6, phases=[Phase.generate])
    )
