"""The OpenAPI schema generates without warnings and describes the API."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_schema_generates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    # --fail-on-warn turns every drf-spectacular warning into a non-zero exit.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(out))
    text = out.read_text()
    for path in (
        "/api/v1/customers:",
        "/api/v1/customers/{id}:",
        "/api/v1/customers/{id}/reveal:",
        "/api/v1/customers/by-core-id/{core_banking_id}:",
        "/api/v1/branches:",
        "/api/v1/service-types:",
        "/api/v1/service-types/{id}:",
        "/api/v1/counters:",
        "/api/v1/counters/{id}:",
        *(
            f"/api/v1/counters/{{id}}/{step}:"
            for step in ("sign-in", "sign-out", "pause", "resume", "call-next")
        ),
        "/api/v1/tickets:",
        "/api/v1/tickets/{id}:",
        *(
            f"/api/v1/tickets/{{id}}/{step}:"
            for step in ("recall", "start", "complete", "no-show", "transfer", "park", "unpark")
        ),
        "/api/v1/request-types:",
        "/api/v1/requests:",
        "/api/v1/requests/{id}:",
        *(
            f"/api/v1/requests/{{id}}/{step}:"
            for step in (
                "submit",
                "approve",
                "return",
                "reject",
                "cancel",
                "documents",
                "core-result",
            )
        ),
        "/api/v1/bundles:",
        "/api/v1/bundle-runs:",
        "/api/v1/bundle-runs/{id}/confirm:",
    ):
        assert path in text, path
    assert "ApiKeyAuth" in text
    # Create and every step of a request say that they honour the key.
    assert text.count("name: Idempotency-Key") >= 10


@pytest.mark.django_db
def test_schema_and_docs_need_a_signed_in_user_or_key(client, api, teller, make_api_client):
    assert client.get("/api/schema/").status_code in {401, 403}
    client.force_login(teller)
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # Swagger UI comes from our own static files (drf-spectacular-sidecar), not a CDN.
    assert b"cdn" not in docs.content.lower()
    assert b"/static/drf_spectacular_sidecar/" in docs.content
    keyed = make_api_client(["customers:read"], all_branches=True)
    assert keyed.get("/api/schema/").status_code == 200
