"""Bugs schemathesis found, pinned: bad input and odd methods answer 4xx, never 500."""

import pytest

from tests.factories import CustomerFactory


@pytest.fixture
def reader(make_api_client):
    return make_api_client(
        ["customers:read", "customers:write", "transactions:read", "care:read", "complaints:read"],
        all_branches=True,
    )


@pytest.mark.django_db
def test_an_unknown_method_is_405_not_500(reader):
    response = reader.generic("TRACE", "/api/v1/customers")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "TRACE" not allowed.'}


@pytest.mark.django_db
def test_options_on_upsert_by_core_banking_id_answers(reader, branch_a):
    CustomerFactory(home_branch=branch_a, core_banking_id="CB1")
    for core_id in ("CB1", "unknown"):
        response = reader.options(f"/api/v1/customers/by-core-id/{core_id}")
        assert response.status_code == 200, core_id
        assert response.json()["name"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/requests", "due_before"),
        ("/api/v1/callbacks", "due_before"),
        ("/api/v1/surveys", "since"),
        ("/api/v1/complaints", "received_after"),
    ],
)
@pytest.mark.parametrize("value", ["2026-04-29T20:41:53+18:01", "0001-01-01T00:00:00+05:00"])
def test_a_date_time_the_database_cannot_compare_is_a_field_error(reader, path, name, value):
    response = reader.get(path, {name: value})
    assert response.status_code == 400
    assert response.json() == {
        name: ["Enter a date and time with a UTC offset within ±15:59 (years 1–9999)."]
    }


@pytest.mark.django_db
def test_a_date_time_with_a_large_but_valid_offset_filters(reader):
    response = reader.get("/api/v1/requests", {"due_before": "2026-04-29T20:41:53+14:00"})
    assert response.status_code == 200
