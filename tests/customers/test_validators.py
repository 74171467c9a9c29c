"""Resident IDs, passports and phone numbers: what is accepted, normalised or refused."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from bankservice.core.masking import mask_identifier, mask_phone
from bankservice.customers.validators import (
    normalize_passport,
    normalize_phone,
    normalize_resident_id,
    resident_id_check_digit,
)

# GB 11643-1999: the standard's example (check character X) and two others.
VALID_IDS = ["11010519491231002X", "440524198001010013", "310101200506301232"]


@pytest.mark.parametrize("value", VALID_IDS)
def test_valid_resident_ids_pass(value):
    assert normalize_resident_id(value) == value


def test_lowercase_x_and_spaces_are_normalised():
    assert normalize_resident_id(" 11010519491231002x ") == "11010519491231002X"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("110105194912310021", "id_checksum"),  # last digit changed
        ("11010519491231002", "id_format"),  # 17 characters
        ("1101051949123100XX", "id_format"),
        ("110105194902300028", "id_birth"),  # 30 February
        ("110105220001010010", "id_birth"),  # born in 2200
    ],
)
def test_bad_resident_ids_are_refused_with_a_reason(value, code):
    with pytest.raises(ValidationError) as excinfo:
        normalize_resident_id(value)
    assert excinfo.value.code == code


def test_check_digit_matches_the_standard():
    assert resident_id_check_digit("11010519491231002") == "X"
    assert resident_id_check_digit("44052419800101001") == "3"


def test_passport():
    assert normalize_passport(" e1234 5678 ") == "E12345678"
    with pytest.raises(ValidationError):
        normalize_passport("E1-2345")


@pytest.mark.parametrize(
    ("value", "e164"),
    [
        ("138 0013 8000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("010 6552 9988", "+861065529988"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phones_become_e164(value, e164):
    assert normalize_phone(value) == e164


@pytest.mark.parametrize("value", ["12345", "138 0013 800", "phone", "+86 100 0000 0000"])
def test_bad_phones_are_refused(value):
    with pytest.raises(ValidationError):
        normalize_phone(value)


def test_masks_keep_only_the_edges():
    assert mask_identifier("11010519491231002X") == "110***********002X"
    assert mask_phone("+8613800138000") == "+86138****8000"
    assert mask_phone("+442079460958") == "+442*****0958"
    assert mask_identifier("") == ""
    assert mask_identifier("AB12") == "****"


def test_birth_date_comes_from_the_resident_id(db, branch_a):
    from bankservice.customers.models import Customer

    customer = Customer(full_name="张三", national_id="11010519491231002X", home_branch=branch_a)
    customer.full_clean(validate_constraints=False)
    assert customer.date_of_birth == dt.date(1949, 12, 31)
    customer.date_of_birth = dt.date(1950, 1, 1)
    with pytest.raises(ValidationError) as excinfo:
        customer.full_clean(validate_constraints=False)
    assert "date_of_birth" in excinfo.value.message_dict
