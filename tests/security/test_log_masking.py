"""Personal data never reaches the log output: the filter on settings.LOGGING's handlers masks
national IDs, phone numbers, e-mail addresses and card/account numbers in messages, their
arguments and exception text."""

import io
import logging

import pytest

from bankservice.core.logging import mask_pii

NATIONAL_ID = "11010119900307123X"
MOBILE = "+8613912345678"
EMAIL = "chen.yi@example.cn"
CARD = "6222 0212 3456 7890"


@pytest.fixture
def console_output():
    """The configured console handler (settings.LOGGING), writing into a buffer."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    buffer = io.StringIO()
    old_stream = handler.setStream(buffer)
    yield buffer
    handler.setStream(old_stream)


def test_message_and_arguments_are_masked(console_output):
    logging.getLogger("complaints.intake").warning(
        "Complaint from %s, phone %s, mail %s, card %s", NATIONAL_ID, MOBILE, EMAIL, CARD
    )
    line = console_output.getvalue()
    for secret in (NATIONAL_ID, MOBILE, "13912345678", EMAIL, "6222021234567890", CARD):
        assert secret not in line
    assert "110***********123X" in line
    assert "+86139****5678" in line
    assert "c******@example.cn" in line
    assert "6222********7890" in line
    assert "Complaint from" in line


def test_dict_arguments_and_mainland_mobile_without_country_code(console_output):
    logging.getLogger("care").info("Calling %(phone)s", {"phone": "13800138000"})
    line = console_output.getvalue()
    assert "13800138000" not in line
    assert "1380***8000" in line


def test_exception_text_is_masked(console_output):
    try:
        raise ValueError(f"no customer with id {NATIONAL_ID}")
    except ValueError:
        logging.getLogger("bankservice.customers").exception("Lookup failed")
    output = console_output.getvalue()
    assert "Traceback" in output
    assert NATIONAL_ID not in output
    assert "110***********123X" in output


def test_django_loggers_are_masked_too(console_output):
    logging.getLogger("django.request").error("Bad request from %s", EMAIL)
    output = console_output.getvalue()
    assert EMAIL not in output
    assert "c******@example.cn" in output


def test_ordinary_numbers_are_left_alone():
    # References, amounts, times and ids carry no personal data and stay readable in logs.
    text = "CP261129000042 took 1234 ms at 2026-03-04 10:00; ticket 42; amount 50000.00"
    assert mask_pii(text) == text
