"""Pattern matching, URL validation and back-off: the rules without a database."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from bankservice.events.webhooks import (
    event_type_matches,
    retry_delay,
    validate_event_patterns,
    validate_webhook_url,
    webhook_secret_generate,
)


@pytest.mark.parametrize(
    ("event_type", "patterns", "matches"),
    [
        ("customer.created", ["*"], True),
        ("customer.created", ["customer.*"], True),
        ("customer.pii_revealed", ["customer.*"], True),
        ("customer.merge.undone", ["customer.*"], True),
        ("customer.created", ["customer.created"], True),
        ("customer.updated", ["customer.created"], False),
        ("customers.created", ["customer.*"], False),
        ("customer", ["customer.*"], False),
        ("complaint.opened", ["customer.*", "complaint.opened"], True),
        ("complaint.closed", ["customer.*", "complaint.opened"], False),
        ("customer.created", ["customer.c*"], False),
    ],
)
def test_event_type_matching(event_type, patterns, matches):
    assert event_type_matches(event_type, patterns) is matches


@pytest.mark.parametrize(
    "patterns", [["*"], ["customer.*"], ["customer.created", "complaint.*"], ["a.b_c.d"]]
)
def test_good_patterns(patterns):
    validate_event_patterns(patterns)


@pytest.mark.parametrize(
    "patterns",
    [[], "customer.*", ["customer.**"], ["customer*"], ["*.created"], ["Customer.x"], [""], [1]],
)
def test_bad_patterns(patterns):
    with pytest.raises(ValidationError):
        validate_event_patterns(patterns)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.partner.example/bank",
        "https://10.1.2.3:8443/in?token=x",
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]:9000/hook",
    ],
)
def test_good_urls(url):
    validate_webhook_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.partner.example/bank",  # plain HTTP off the machine
        "http://10.1.2.3/hook",
        "ftp://hooks.partner.example/",
        "https://user:secret@hooks.partner.example/",
        "https://hooks.partner.example/#frag",
        "not a url",
    ],
)
def test_bad_urls(url):
    with pytest.raises(ValidationError):
        validate_webhook_url(url)


def test_secrets_are_long_random_and_prefixed():
    one, two = webhook_secret_generate(), webhook_secret_generate()
    assert one != two and one.startswith("whsec_") and len(one) >= 40


def test_backoff_grows_exponentially_with_jitter_and_a_cap(settings):
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 10
    settings.WEBHOOK_BACKOFF_CAP_SECONDS = 100
    for attempts, full in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (12, 100)]:
        delays = {retry_delay(attempts) for _ in range(50)}
        assert all(
            dt.timedelta(seconds=full / 2) <= d <= dt.timedelta(seconds=full) for d in delays
        )
        assert len(delays) > 1  # jittered
