"""Validation and normalisation of identity numbers and phone numbers."""

import datetime as dt
import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK = "10X98765432"
RESIDENT_ID_RE = re.compile(r"^\d{17}[\dX]$")
PASSPORT_RE = re.compile(r"^[A-Z0-9]{5,20}$")
DEFAULT_PHONE_REGION = "CN"


def resident_id_check_digit(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits of a resident id."""
    total = sum(int(d) * w for d, w in zip(first17, RESIDENT_ID_WEIGHTS, strict=True))
    return RESIDENT_ID_CHECK[total % 11]


def normalize_resident_id(value: str) -> str:
    """Validate a mainland China resident id (18 characters, birth date, check digit)."""
    value = (value or "").strip().upper().replace(" ", "")
    if not RESIDENT_ID_RE.match(value):
        raise ValidationError(
            _("A resident ID has 17 digits followed by a digit or X."), code="id_format"
        )
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValidationError(
            _("The birth date inside this resident ID is not a real date."), code="id_birth"
        ) from None
    if birth.year < 1900 or birth > dt.date.today():  # noqa: DTZ011 - a calendar date, no zone
        raise ValidationError(
            _("The birth date inside this resident ID is out of range."), code="id_birth"
        )
    if resident_id_check_digit(value[:17]) != value[17]:
        raise ValidationError(
            _("This resident ID's check digit is wrong; please check the number."),
            code="id_checksum",
        )
    return value


def birth_date_from_resident_id(value: str) -> dt.date:
    return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def normalize_passport(value: str) -> str:
    value = (value or "").strip().upper().replace(" ", "")
    if not PASSPORT_RE.match(value):
        raise ValidationError(
            _("A passport number has 5 to 20 letters and digits."), code="passport_format"
        )
    return value


def normalize_phone(value: str) -> str:
    """Parse a phone number (national Chinese numbers accepted) and return it in E.164."""
    value = (value or "").strip()
    try:
        number = phonenumbers.parse(value, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _("Enter a phone number, such as 138 0013 8000 or +44 20 7946 0958."),
            code="phone_format",
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("This is not a valid phone number for its country."), code="phone_invalid"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
