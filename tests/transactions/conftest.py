"""Request types and the new-customer bundle, built from the demo definitions (transactions/demo.py)
so that the tests and the demo share one definition.

- `open_account_type`: one approval level ("approver"), requires the `id_copy` document;
  `purpose_other` is shown (and required) only when `purpose` is "other".
- `withdrawal_type` (large cash withdrawal): amount < 50,000 → ["approver"];
  ≥ 50,000 → ["approver", "branch_manager"]; `amount` is {"amount": "60000.00", "currency": "CNY"}.
- `activate_card_type`: no approval (approved straight away); `credit_limit` only for credit cards.
- `mobile_banking_type`, `loan_type` (segment rule: priority/private one level, else two).
- `new_customer_bundle`: open account + activate card + mobile banking, shared fields
  full_name, national_id, phone, email.
- `valid_data(request_type, customer)`: complete valid form data for any of these types.
- `customer`: at branch A, English, consents to SMS.
- `maker` (teller), `approver`, `approver_2` (approvers), `manager` (branch manager with an
  e-mail address), all at branch A.
"""

import copy

import pytest

from bankservice.branches.models import Role
from tests.factories import CustomerFactory
from transactions import demo


def install(definition):
    # A deep copy: a test may change its definition without touching the module's.
    return demo.request_type_install(copy.deepcopy(definition))


@pytest.fixture
def open_account_type(db):
    return install(demo.OPEN_ACCOUNT)


@pytest.fixture
def withdrawal_type(db):
    return install(demo.LARGE_WITHDRAWAL)


@pytest.fixture
def activate_card_type(db):
    return install(demo.ACTIVATE_CARD)


@pytest.fixture
def mobile_banking_type(db):
    return install(demo.MOBILE_BANKING)


@pytest.fixture
def loan_type(db):
    return install(demo.PERSONAL_LOAN)


@pytest.fixture
def new_customer_bundle(open_account_type, activate_card_type, mobile_banking_type):
    return demo.bundle_install(copy.deepcopy(demo.NEW_CUSTOMER_BUNDLE))


# A card/account number with a valid Luhn check digit.
VALID_ACCOUNT = "6222020200112233446"

VALID_DATA = {
    "open_account": {
        "address": "1 Nanjing Road, Shanghai",
        "occupation": "employed",
        "account_currency": "CNY",
        "purpose": "salary",
        "agree_terms": True,
    },
    "activate_card": {"card_number": VALID_ACCOUNT, "card_kind": "debit"},
    "mobile_banking": {"daily_limit": 20000, "sms_alerts": True, "agree_terms": True},
    "large_withdrawal": {
        "account_number": VALID_ACCOUNT,
        "amount": {"amount": "20000.00", "currency": "CNY"},
        "withdrawal_date": "2026-12-01",
    },
    "personal_loan": {
        "amount": {"amount": "80000.00", "currency": "CNY"},
        "term_months": 24,
        "loan_purpose": "car",
        "monthly_income": {"amount": "15000.00", "currency": "CNY"},
    },
}


@pytest.fixture
def valid_data():
    """valid_data(request_type, customer, **overrides) -> complete, valid form data."""

    def make(request_type, customer, **overrides):
        data = {
            "full_name": customer.full_name,
            "national_id": customer.national_id,
            "phone": customer.phone,
            **copy.deepcopy(VALID_DATA[request_type.code]),
        }
        data.update(overrides)
        return data

    return make


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def customer(branch_a):
    return CustomerFactory(
        home_branch=branch_a,
        preferred_language="en",
        consent_sms=True,
        full_name="Wang Fang",
    )


@pytest.fixture
def maker(make_staff, branch_a):
    return make_staff(Role.TELLER, branch=branch_a, username="maker")


@pytest.fixture
def approver(make_staff, branch_a):
    return make_staff(Role.APPROVER, branch=branch_a, username="approver")


@pytest.fixture
def approver_2(make_staff, branch_a):
    return make_staff(Role.APPROVER, branch=branch_a, username="approver-2")


@pytest.fixture
def manager(make_staff, branch_a):
    user = make_staff(Role.BRANCH_MANAGER, branch=branch_a, username="manager")
    user.email = "manager@bank.example"
    user.save(update_fields=["email"])
    return user
