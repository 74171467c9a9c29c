"""The OpenAPI schema documents how to authenticate and every error an operation may answer."""

import pytest

from . import openapi_document

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def document():
    return openapi_document()


def operations(document):
    for path, items in document["paths"].items():
        for method, operation in items.items():
            if method in METHODS:
                yield path, method, operation


def test_both_auth_schemes_are_documented_and_required_everywhere(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiKeyAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Api-Key <key>`; keys are issued to API clients by an administrator.",
    }
    assert schemes["cookieAuth"] == {"type": "apiKey", "in": "cookie", "name": "sessionid"}
    for path, method, operation in operations(document):
        # Never anonymous: no empty requirement ({}) that would make auth optional.
        assert operation["security"] == [{"ApiKeyAuth": []}, {"cookieAuth": []}], (method, path)


def test_every_operation_documents_its_errors_with_a_body(document):
    detail = {"$ref": "#/components/schemas/Detail"}
    assert document["components"]["schemas"]["Detail"]["required"] == ["detail"]
    assert document["components"]["schemas"]["ErrorMessages"]["type"] == "object"
    count = 0
    for path, method, operation in operations(document):
        responses = operation["responses"]
        for code in ("401", "403"):
            assert responses[code]["content"]["application/json"]["schema"] == detail, (
                code,
                method,
                path,
            )
        if "{" in path:
            assert "404" in responses, (method, path)
        if "requestBody" in operation or any(
            p["in"] == "query" for p in operation.get("parameters", [])
        ):
            assert "400" in responses, (method, path)
        for code, response in responses.items():
            if code.startswith("4"):
                assert response["description"], (code, method, path)
                assert "application/json" in response["content"], (code, method, path)
        count += 1
    assert count > 100


def test_throttles_and_idempotency_keys_are_documented(document):
    # Every API view is throttled (REST_FRAMEWORK's default throttles): 429 everywhere.
    for path, method, operation in operations(document):
        assert operation["responses"]["429"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Detail"
        }, (method, path)
    create = document["paths"]["/api/v1/callbacks/{id}/claim"]["post"]
    (key,) = [p for p in create["parameters"] if p["name"] == "Idempotency-Key"]
    assert key["schema"]["pattern"] == "^[\\x20-\\x7e]{1,255}$"
    assert {"400", "422"} <= create["responses"].keys()


def test_times_of_day_carry_no_utc_offset(document):
    opens_at = document["components"]["schemas"]["OpeningHours"]["properties"]["opens_at"]
    assert "format" not in opens_at
    assert opens_at["pattern"] == r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$"
