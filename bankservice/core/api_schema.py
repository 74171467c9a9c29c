"""OpenAPI postprocessing: every operation documents the errors the API may answer with.

drf-spectacular describes what a view says about itself; the refusals every view shares (bad
input, no or a wrong key, no permission or another branch, an unknown id or page, a throttle, a
reused idempotency key) come from DRF and bankservice.core, so they are added here, each with
its body. Two corrections make the schema say what the API sends and accepts: times of day
carry no UTC offset (JSON Schema's `time` format demands one), and an `Idempotency-Key` is 1 to
255 printable ASCII characters.
"""

from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .idempotency import KEY_PATTERN

DETAIL = {"$ref": "#/components/schemas/Detail"}
ERRORS = {"$ref": "#/components/schemas/ErrorMessages"}

COMPONENTS = {
    "Detail": {
        "type": "object",
        "description": "A refused request: one message.",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    "ErrorMessages": {
        "type": "object",
        "description": (
            "Bad input or a conflict: messages by field (a list of messages, or nested by field "
            "or index), `non_field_errors`, or `detail`."
        ),
        "additionalProperties": {},
    },
}

DESCRIPTIONS = {
    "400": "Bad input: messages by field.",
    "401": "No credentials, or a malformed, unknown or revoked API key.",
    "403": "Not allowed: a missing scope or role, or a branch outside yours.",
    "404": "No such object (or one in a branch outside yours), or no such page.",
    "409": "The current state does not allow this.",
    "422": "This Idempotency-Key was already used for a different request.",
    "429": "Too many requests; retry after the `Retry-After` header.",
}
# Field-keyed bodies: a validation error, or a domain rule refusing one field (409).
FIELD_KEYED = {"400", "409"}
# DRF renders a time of day as HH:MM[:ss[.uuuuuu]], without an offset.
TIME_PATTERN = r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$"


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _add(responses: dict, code: str, schema: dict) -> None:
    responses.setdefault(code, {"description": DESCRIPTIONS[code], "content": _json(schema)})


def _complete(code: str, response: dict) -> None:
    """A refusal a view documented without its body or description gets the shared ones; a
    field-keyed one may also answer any field's messages."""
    if not response.get("description"):
        response["description"] = DESCRIPTIONS.get(code, "")
    content = response.setdefault("content", _json(ERRORS if code in FIELD_KEYED else DETAIL))
    if code in FIELD_KEYED and "application/json" in content:
        schema = content["application/json"]["schema"]
        if schema == DETAIL:
            content["application/json"]["schema"] = ERRORS
        elif schema != ERRORS:
            content["application/json"]["schema"] = {"anyOf": [schema, ERRORS]}


def _throttled_operations(generator) -> set[tuple[str, str]]:
    throttled = set()
    for path, _regex, method, view in generator._get_paths_and_endpoints():
        if view.get_throttles():
            throttled.add((path, method.lower()))
    return throttled


def _fix_times(node) -> None:
    if isinstance(node, dict):
        if node.get("format") == "time" and node.get("type") == "string":
            del node["format"]
            node["pattern"] = TIME_PATTERN
        for value in node.values():
            _fix_times(value)
    elif isinstance(node, list):
        for value in node:
            _fix_times(value)


def add_error_responses(result, generator, request, public):
    """POSTPROCESSING_HOOKS entry: 400/401/403/404/409/422/429 with their bodies on every
    operation that can answer them."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in COMPONENTS.items():
        schemas.setdefault(name, schema)
    _fix_times(result)
    throttled = _throttled_operations(generator)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            parameters = operation.get("parameters", [])
            located = {(p["in"], p["name"]) for p in parameters}
            idempotent = ("header", IDEMPOTENCY_HEADER) in located
            if "requestBody" in operation or any(where != "path" for where, _n in located):
                _add(responses, "400", ERRORS)
            _add(responses, "401", DETAIL)
            _add(responses, "403", DETAIL)
            if (
                any(where == "path" for where, _n in located)
                or {
                    ("query", "page"),
                    ("query", "cursor"),
                }
                & located
            ):
                _add(responses, "404", DETAIL)
            if idempotent:
                _add(responses, "422", DETAIL)
            if (path, method) in throttled:
                _add(responses, "429", DETAIL)
            for code, response in responses.items():
                if code.startswith("4"):
                    _complete(code, response)
            for parameter in parameters:
                if (parameter["in"], parameter["name"]) == ("header", IDEMPOTENCY_HEADER):
                    parameter["schema"] = {
                        **parameter["schema"],
                        "pattern": f"^{KEY_PATTERN.pattern}$",
                    }
    return result
