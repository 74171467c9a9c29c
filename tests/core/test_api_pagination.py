"""Cursor pagination of the lists that grow without bound (bankservice/core/api_pagination.py):
walking the pages neither repeats nor skips a row while rows are added, and the schema says so."""

from urllib.parse import parse_qs, urlparse

import pytest
from drf_spectacular.generators import SchemaGenerator

from bankservice.core.models import ApiScope
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers"
# The lists with a cursor; the others (branches, services, categories, rules…) stay small.
CURSOR_LISTS = {
    "/api/v1/appointments",
    "/api/v1/bundle-runs",
    "/api/v1/callbacks",
    "/api/v1/complaint-extensions",
    "/api/v1/complaints",
    "/api/v1/consultations",
    "/api/v1/corrective-actions",
    "/api/v1/customers",
    "/api/v1/events",
    "/api/v1/letters",
    "/api/v1/requests",
    "/api/v1/surveys",
    "/api/v1/tickets",
    "/api/v1/webhook-deliveries",
}


def walk(http, url, params, *, between_pages=lambda: None):
    """Every page of a list, following `next`; returns the ids in the order seen."""
    seen = []
    response = http.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"next", "previous", "results"}
        seen += [row["id"] for row in body["results"]]
        if not body["next"]:
            return seen
        between_pages()
        response = http.get(body["next"])


def test_walking_all_pages_while_rows_are_added_repeats_and_skips_none(make_api_client, branch_a):
    existing = [CustomerFactory(home_branch=branch_a).pk for _n in range(7)]
    kiosks = make_api_client(["customers:read"], all_branches=True)
    added = []

    def add_rows():
        added.append(CustomerFactory(home_branch=branch_a).pk)

    seen = walk(kiosks, CUSTOMERS, {"page_size": 2}, between_pages=add_rows)
    assert len(seen) == len(set(seen))
    assert seen == sorted(seen)  # oldest first
    assert seen[: len(existing)] == existing
    # Rows added behind the cursor turn up on the later pages, never twice.
    assert set(seen) <= set(existing) | set(added)


def test_newest_first_lists_walk_back_from_the_newest(
    make_api_client, reception_clock, cash_service
):
    kiosks = make_api_client(["reception:read", "reception:write"], all_branches=True)

    def issue() -> int:
        response = kiosks.post("/api/v1/tickets", {"service_type": cash_service.pk})
        assert response.status_code == 201, response.content
        return response.json()["id"]

    ids = [issue() for _n in range(5)]
    newer = []

    def add_rows():
        newer.append(issue())

    seen = walk(kiosks, "/api/v1/tickets", {"page_size": 2}, between_pages=add_rows)
    # Tickets issued after the walk began are newer than its start: none is seen, none twice.
    assert seen == sorted(ids, reverse=True)
    assert newer and not set(newer) & set(seen)


def test_a_page_costs_the_same_queries_however_deep(
    make_api_client, branch_a, django_assert_num_queries
):
    for _n in range(9):
        CustomerFactory(home_branch=branch_a)
    kiosks = make_api_client(["customers:read"], all_branches=True)
    first = kiosks.get(CUSTOMERS, {"page_size": 3}).json()
    # The key, then the page: no COUNT(*), no OFFSET scan.
    with django_assert_num_queries(2):
        second = kiosks.get(first["next"]).json()
    with django_assert_num_queries(2):
        third = kiosks.get(second["next"]).json()
    assert third["next"] is None and third["previous"]
    assert "cursor" in parse_qs(urlparse(second["next"]).query)


def test_page_size_is_capped(make_api_client, branch_a):
    for _n in range(3):
        CustomerFactory(home_branch=branch_a)
    kiosks = make_api_client(["customers:read"], all_branches=True)
    assert len(kiosks.get(CUSTOMERS, {"page_size": 1}).json()["results"]) == 1
    assert len(kiosks.get(CUSTOMERS, {"page_size": 100000}).json()["results"]) == 3


def test_a_forged_cursor_is_a_404_with_the_error_body(make_api_client):
    kiosks = make_api_client(["customers:read"], all_branches=True)
    response = kiosks.get(CUSTOMERS, {"cursor": "not-a-cursor"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor"}


def test_the_schema_describes_cursor_lists_and_only_those():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    with_cursor = {
        path
        for path, operations in schema["paths"].items()
        if any(p["name"] == "cursor" for p in operations.get("get", {}).get("parameters", []))
    }
    assert with_cursor == CURSOR_LISTS
    page = schema["components"]["schemas"]["PaginatedCustomerList"]
    assert set(page["properties"]) == {"next", "previous", "results"}


def test_every_cursor_list_answers_pages_without_a_count(make_api_client):
    everything = make_api_client(
        [scope.value for scope in ApiScope], all_branches=True, name="everything"
    )
    # Letters are listed one complaint at a time (`?complaint=` is required); webhook
    # deliveries are for administrators only (tests/webhooks/test_api.py).
    for path in sorted(CURSOR_LISTS - {"/api/v1/letters", "/api/v1/webhook-deliveries"}):
        response = everything.get(path)
        assert response.status_code == 200, (path, response.content)
        assert set(response.json()) == {"next", "previous", "results"}, path
