"""X-Signature: HMAC-SHA256 over "<t>.<body>", verified in constant time with a tolerance."""

import json
import time

import pytest
import time_machine

from bankservice.events.signing import compute_signature, signature_header, verify_signature
from bankservice.events.webhooks import event_body

SECRET = "whsec_test-secret"
BODY = b'{"id":1,"type":"customer.created"}'


def test_a_header_made_by_signature_header_verifies():
    header = signature_header(SECRET, BODY)
    assert verify_signature(SECRET, header, BODY)
    assert verify_signature(SECRET, header, BODY.decode())  # str bodies are UTF-8 encoded


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert compute_signature(SECRET, 1700000000, BODY) == expected
    assert signature_header(SECRET, BODY, 1700000000) == f"t=1700000000,v1={expected}"


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        "t=abc,v1=00",
        "v1=" + "0" * 64,  # no timestamp
        "t=1700000000",  # no signature
    ],
)
def test_malformed_headers_fail(header):
    assert not verify_signature(SECRET, header, BODY, now=1700000000)


def test_tampered_body_wrong_secret_and_old_or_future_timestamps_fail():
    t = int(time.time())
    header = signature_header(SECRET, BODY, t)
    assert not verify_signature(SECRET, header, BODY + b" ")
    assert not verify_signature(SECRET, header, BODY.replace(b"1", b"2"))
    assert not verify_signature("whsec_another", header, BODY)
    assert verify_signature(SECRET, header, BODY, now=t + 300)
    assert not verify_signature(SECRET, header, BODY, now=t + 301)
    assert not verify_signature(SECRET, header, BODY, now=t - 301)
    assert verify_signature(SECRET, header, BODY, tolerance=3600, now=t + 3000)


def test_a_replayed_request_fails_once_the_tolerance_has_passed():
    header = signature_header(SECRET, BODY)
    with time_machine.travel(time.time() + 600):
        assert not verify_signature(SECRET, header, BODY)


def test_any_of_several_v1_signatures_may_match():
    t = int(time.time())
    good = compute_signature(SECRET, t, BODY)
    assert verify_signature(SECRET, f"t={t},v1={'0' * 64},v1={good}", BODY)
    assert not verify_signature(SECRET, f"t={t},v1={'0' * 64},v1=é", BODY)


@pytest.mark.django_db
def test_the_body_is_compact_sorted_utf8_json(emit, customer, branch_a):
    event = emit("customer.updated", customer=customer, payload={"名": "陈", "a": 1})
    body = event_body(event)
    assert body == event_body(event)  # the same bytes on every attempt
    assert "陈".encode() in body and b", " not in body
    assert json.loads(body) == {
        "id": event.pk,
        "type": "customer.updated",
        "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "branch": "a01",
        "customer": customer.pk,
        "subject": {"type": "customers.customer", "id": str(customer.pk)},
        "payload": {"名": "陈", "a": 1},
    }
