"""The e-form engine: validation, the browser's attributes from the same schema, prefill, amounts,
approval levels, rendering."""

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

import pytest
from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils import translation

from bankservice.customers.models import Segment
from tests.factories import CustomerFactory
from transactions import eforms

from .eform_cases import AGREE, SERVER_ONLY, sink_version, valid_sink_data


def current(request_type):
    return request_type.versions.get(is_current=True)


def fields_of(sections):
    return {field.name: field for section in sections for field in section.fields}


# --- The browser, modelled on the HTML standard's constraint validation, for the attributes
# _eform.html renders. Written from the standard, not from eforms.py, so that it can disagree.

HTML_NUMBER = re.compile(r"-?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?")
HTML_EMAIL = re.compile(
    r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*"
)


def browser_accepts(field, value) -> bool:
    attrs = field.attrs
    if field.widget == "checkbox":
        return value is True or not attrs.get("required")
    if field.widget in ("select", "radio"):
        # Only an option can be chosen; a value that is not one cannot be entered at all.
        return value in [choice for choice, _ in field.choices]
    value = str(value)
    if value == "":
        return not attrs.get("required")
    if "maxlength" in attrs and len(value) > int(attrs["maxlength"]):
        return False  # typing stops at the limit: this value cannot be entered
    if "minlength" in attrs and len(value) < int(attrs["minlength"]):
        return False
    kind = attrs.get("type", "text")
    if kind == "number":
        if not HTML_NUMBER.fullmatch(value):
            return False  # sanitised to "": a required field is then missing
        number = Decimal(value)
        low = Decimal(attrs["min"]) if "min" in attrs else None
        if low is not None and number < low:
            return False
        if "max" in attrs and number > Decimal(attrs["max"]):
            return False
        return attrs["step"] == "any" or not (number - (low or 0)) % Decimal(attrs["step"])
    if kind == "email" and not HTML_EMAIL.fullmatch(value):
        return False
    if kind == "date":
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return False
        return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value))
    return "pattern" not in attrs or bool(re.fullmatch(attrs["pattern"], value, re.ASCII))


def server_errors(version, data):
    try:
        eforms.validate(version, data)
    except eforms.FormErrors as exc:
        return exc.errors
    return {}


def typed(name, value):
    return {"amount": value, "currency": "CNY"} if name == "price" else value


# --- The browser's attributes.


def test_the_sink_form_is_a_valid_definition():
    version = sink_version()
    eforms.definition_validate(
        form_schema=version.form_schema,
        ui_schema=version.ui_schema,
        documents=version.documents,
        approval_rules=version.approval_rules,
    )


def test_each_field_type_gets_the_attributes_of_its_schema():
    fields = fields_of(eforms.layout(sink_version()))
    attrs = {name: field.attrs for name, field in fields.items()}
    shown = {k: v for k, v in attrs.items() if v is not False}
    common = {"required": True, "readonly": False, "disabled": False}
    assert attrs["name"] == {**common, "type": "text", "minlength": "2", "maxlength": "10"}
    assert attrs["code"] == {**common, "type": "text", "pattern": r"[A-Z]{3}-\d{2}"}
    assert attrs["count"] == {
        **common,
        "type": "number",
        "inputmode": "numeric",
        "step": "1",
        "min": "1",
        "max": "10",
    }
    assert attrs["thousands"] | {} == {
        **common,
        "type": "number",
        "inputmode": "numeric",
        "step": "1000",
        "min": "1000",
        "max": "5000",
    }
    assert attrs["rate"] == {
        **common,
        "type": "number",
        "inputmode": "decimal",
        "step": "any",
        "min": "0",
        "max": "1.5",
    }
    assert attrs["price"] == {
        **common,
        "type": "number",
        "inputmode": "decimal",
        "step": "0.01",
        "min": "10",
        "max": "50000",
    }
    assert fields["price"].currencies == ["CNY", "USD"]
    assert attrs["day"] == {**common, "type": "date"}
    assert attrs["email"] == {**common, "type": "email", "maxlength": "40"}
    assert attrs["national_id"] == {
        **common,
        "type": "text",
        "pattern": "[0-9A-Za-z]{5,20}",
        "maxlength": "20",
    }
    assert attrs["phone"] == {
        **common,
        "type": "tel",
        "inputmode": "tel",
        "pattern": eforms.FORMATS["phone"].pattern,
        "maxlength": "21",
    }
    assert attrs["account"] == {
        **common,
        "type": "text",
        "inputmode": "numeric",
        "pattern": "[0-9]{12,19}",
        "maxlength": "19",
    }
    assert fields["kind"].widget == "select"
    assert fields["kind"].choices == [("a", "a"), ("b", "b")]
    assert attrs["agree"] == {**common, "type": "checkbox", "value": "true"}
    assert shown  # every field rendered


def test_an_optional_checkbox_is_not_required_in_the_browser(mobile_banking_type):
    fields = fields_of(eforms.layout(current(mobile_banking_type)))
    assert fields["sms_alerts"].attrs["required"] is False
    assert fields["agree_terms"].attrs["required"] is True
    assert fields["email"].attrs["required"] is False


@pytest.mark.parametrize(("name", "value", "ok"), AGREE, ids=lambda v: str(v))
def test_browser_and_server_agree(name, value, ok):
    version = sink_version()
    field = fields_of(eforms.layout(version))[name]
    assert browser_accepts(field, value) is ok
    errors = server_errors(version, {**valid_sink_data(), name: typed(name, value)})
    if ok:
        assert errors == {}
    else:
        assert list(errors) == [name]
        assert errors[name]


@pytest.mark.parametrize(("name", "value"), SERVER_ONLY)
def test_what_only_the_server_can_check(name, value):
    version = sink_version()
    field = fields_of(eforms.layout(version))[name]
    assert browser_accepts(field, value)
    errors = server_errors(version, {**valid_sink_data(), name: value})
    assert list(errors) == [name]


@pytest.mark.parametrize("name", ["name", "count", "price", "day", "kind", "agree"])
def test_a_missing_required_field_is_refused_by_both(name):
    version = sink_version()
    field = fields_of(eforms.layout(version))[name]
    empty = False if name == "agree" else ""
    assert not browser_accepts(field, empty)
    data = valid_sink_data()
    if name == "agree":
        data[name] = False
        expected = "Tick this box to continue."
    else:
        data[name] = typed(name, "")
        expected = "This field is required."
    assert server_errors(version, data) == {name: [expected]}


# --- Validation.


def test_validate_coerces_normalises_and_drops_unknown_keys():
    version = sink_version()
    data = {
        **valid_sink_data(),
        "count": "7",
        "rate": "0.5",
        "price": {"amount": "12.5", "currency": "cny"},
        "phone": " 138 0013 8000 ",
        "national_id": "11010519491231002x",
        "agree": "on",
        "surprise": "dropped",
    }
    cleaned = eforms.validate(version, data)
    assert cleaned["count"] == 7
    assert cleaned["rate"] == 0.5
    assert cleaned["price"] == {"amount": "12.50", "currency": "CNY"}
    assert cleaned["phone"] == "+8613800138000"
    assert cleaned["national_id"] == "11010519491231002X"
    assert cleaned["agree"] is True
    assert "surprise" not in cleaned


def test_json_numbers_are_accepted_as_well_as_form_strings():
    version = sink_version()
    data = {**valid_sink_data(), "count": 3, "price": {"amount": 20, "currency": "USD"}}
    cleaned = eforms.validate(version, data)
    assert cleaned["count"] == 3
    assert cleaned["price"] == {"amount": "20.00", "currency": "USD"}


def test_wrong_types_and_bad_money_get_messages_per_field():
    version = sink_version()
    data = {
        **valid_sink_data(),
        "count": "seven",
        "price": {"amount": "25", "currency": "EUR"},
        "name": ["not", "text"],
    }
    errors = server_errors(version, data)
    assert errors == {
        "count": ["Enter a whole number."],
        "price": ["Choose a currency from the list."],
        "name": ["Enter text."],
    }
    errors = server_errors(
        version, {**valid_sink_data(), "price": {"amount": "1e999999", "currency": "CNY"}}
    )
    assert errors == {"price": ["Enter an amount above 0 with at most 2 decimals."]}


def test_data_that_is_not_an_object_is_refused():
    assert server_errors(sink_version(), ["count", 3]) == {
        "__all__": ["The form data is an object of field values."]
    }


def test_absurd_exponents_are_refused_without_building_huge_numbers():
    version = sink_version()
    errors = server_errors(version, {**valid_sink_data(), "count": "1e999999"})
    assert errors == {"count": ["Enter a whole number."]}
    with pytest.raises(InvalidOperation):  # what the cap protects against
        Decimal("1e999999").quantize(Decimal("0.01"))


def test_hidden_conditional_field_is_dropped_and_not_required(open_account_type, valid_data):
    version = current(open_account_type)
    customer = CustomerFactory.build()
    data = valid_data(open_account_type, customer, purpose="salary", purpose_other="ignored")
    cleaned = eforms.validate(version, data)
    assert "purpose_other" not in cleaned

    errors = server_errors(version, {**data, "purpose": "other", "purpose_other": ""})
    assert errors == {"purpose_other": ["This field is required."]}
    cleaned = eforms.validate(version, {**data, "purpose": "other", "purpose_other": "Rent"})
    assert cleaned["purpose_other"] == "Rent"


def test_partial_validation_checks_given_values_only(withdrawal_type):
    version = current(withdrawal_type)
    assert eforms.validate(version, {"purpose": "school fees"}, partial=True) == {
        "purpose": "school fees"
    }
    with pytest.raises(eforms.FormErrors) as caught:
        eforms.validate(version, {"account_number": "123"}, partial=True)
    assert caught.value.errors == {"account_number": ["Enter 12 to 19 digits, without spaces."]}
    with pytest.raises(eforms.FormErrors) as caught:
        eforms.validate(version, {"purpose": "school fees"})
    assert set(caught.value.errors) == {
        "full_name",
        "national_id",
        "phone",
        "account_number",
        "amount",
        "withdrawal_date",
    }


def test_form_errors_are_a_400_with_messages_per_field():
    version = sink_version()
    with pytest.raises(eforms.FormErrors) as caught:
        eforms.validate(version, {**valid_sink_data(), "count": "99"})
    error = caught.value
    assert error.status_code == 400
    assert error.as_dict() == {"count": ["Enter 10 or less."]}


def test_format_messages_name_the_problem():
    version = sink_version()
    data = valid_sink_data()
    cases = {
        "national_id": (
            "110105194912310021",
            "This resident ID's check digit is wrong; please check the number.",
        ),
        "account": ("6222020200112233445", "This number's check digit is wrong; please check it."),
        "day": ("2026-02-30", "Enter a real date."),
        "phone": ("+86 100", "This is not a valid phone number for its country."),
        "email": ("someone@", "Enter a valid e-mail address."),
    }
    for name, (value, message) in cases.items():
        assert server_errors(version, {**data, name: value}) == {name: [message]}


# --- Posts from the browser.


def test_data_from_post_reads_money_checkboxes_and_prefixes():
    version = sink_version()
    post = QueryDict(mutable=True)
    post.update(
        {"x-count": "4", "x-price.amount": "99.90", "x-price.currency": "USD", "x-kind": "b"}
    )
    data = eforms.data_from_post(version, post, prefix="x-")
    assert data == {
        "count": "4",
        "price": {"amount": "99.90", "currency": "USD"},
        "kind": "b",
        "agree": "false",  # an unticked box is not posted
    }
    post["x-agree"] = "true"
    assert eforms.data_from_post(version, post, prefix="x-")["agree"] == "true"


# --- Prefill, amounts, approval levels, documents.


def test_prefill_takes_what_the_customer_record_holds(open_account_type):
    customer = CustomerFactory.build(full_name="王芳", phone="+8613900000001", email="")
    values = eforms.prefill(current(open_account_type), customer)
    assert values == {
        "full_name": "王芳",
        "national_id": customer.national_id,
        "phone": "+8613900000001",
    }


def test_prefilled_fields_are_read_only_with_the_banks_values(open_account_type):
    customer = CustomerFactory.build(full_name="王芳", email="")
    sections = eforms.layout(
        current(open_account_type), {"full_name": "Someone else"}, customer=customer
    )
    fields = fields_of(sections)
    assert fields["full_name"].readonly
    assert fields["full_name"].value == "王芳"
    assert fields["full_name"].attrs["readonly"] is True
    assert not fields["email"].readonly  # the bank does not hold it: the customer gives it


def test_amount_of_reads_the_amount_field(withdrawal_type, activate_card_type):
    version = current(withdrawal_type)
    amount = {"amount": "60000.00", "currency": "CNY"}
    assert eforms.amount_of(version, {"amount": amount}) == (Decimal("60000.00"), "CNY")
    assert eforms.amount_of(version, {}) == (None, "")
    assert eforms.amount_of(current(activate_card_type), {"amount": amount}) == (None, "")


@pytest.mark.parametrize(
    ("amount", "levels"),
    [
        ("49999.99", ["approver"]),
        ("50000", ["approver", "branch_manager"]),
        ("250000", ["approver", "branch_manager"]),
    ],
)
def test_withdrawal_levels_follow_the_amount(withdrawal_type, amount, levels):
    version = current(withdrawal_type)
    data = {"amount": {"amount": amount, "currency": "CNY"}}
    money, _ = eforms.amount_of(version, data)
    customer = CustomerFactory.build()
    assert eforms.approval_levels(version, data=data, customer=customer, amount=money) == levels


@pytest.mark.parametrize(
    ("segment", "levels"),
    [
        (Segment.STANDARD, ["approver", "branch_manager"]),
        (Segment.PRIORITY, ["approver"]),
        (Segment.PRIVATE, ["approver"]),
    ],
)
def test_loan_levels_follow_the_segment(loan_type, segment, levels):
    customer = CustomerFactory.build(segment=segment)
    version = current(loan_type)
    assert eforms.approval_levels(version, data={}, customer=customer, amount=None) == levels


def test_no_rule_means_no_approval(activate_card_type):
    version = current(activate_card_type)
    customer = CustomerFactory.build()
    assert eforms.approval_levels(version, data={}, customer=customer, amount=None) == []


def test_amount_rules_do_not_hold_without_an_amount(withdrawal_type):
    version = current(withdrawal_type)
    # No amount: only the catch-all rule holds.
    customer = CustomerFactory.build()
    assert eforms.approval_levels(version, data={}, customer=customer, amount=None) == ["approver"]


def test_documents_required_follow_their_condition(loan_type):
    version = current(loan_type)
    assert [d["code"] for d in eforms.documents_required(version, {})] == [
        "id_copy",
        "income_proof",
    ]
    version.documents = [
        {
            "code": "police",
            "name_zh": "报案",
            "name_en": "Police",
            "required": True,
            "when": {"field": "loan_purpose", "equals": "car"},
        },
        {"code": "extra", "name_zh": "其他", "name_en": "Other", "required": False},
    ]
    assert eforms.documents_required(version, {"loan_purpose": "education"}) == []
    assert [d["code"] for d in eforms.documents_required(version, {"loan_purpose": "car"})] == [
        "police"
    ]


# --- Rendering.


def tag(html, name):
    """The opening tag of the input (or textarea, select) named `name`."""
    return re.search(rf'<(input|textarea|select) name="{re.escape(name)}"[^>]*>', html).group(0)


def test_template_renders_the_attributes_and_hides_conditional_fields(open_account_type):
    version = current(open_account_type)
    html = render_to_string(
        "transactions/_eform.html",
        {"sections": eforms.layout(version, {"purpose": "salary"}, prefix="oa-")},
    )
    assert "<script" not in html  # CSP: behaviour lives in static/js/eform.js
    address = tag(html, "oa-address")
    assert address.startswith("<textarea")
    assert {"required", 'minlength="5"', 'maxlength="200"'} <= set(address[:-1].split())
    assert (
        'data-field="oa-purpose_other" data-show-if="oa-purpose" '
        'data-show-values="[&quot;other&quot;]" hidden' in html
    )
    assert " disabled " in tag(html, "oa-purpose_other")
    deposit = set(tag(html, "oa-initial_deposit.amount")[:-1].split())
    assert {'type="number"', 'step="0.01"', 'min="0.01"', 'max="1000000"'} <= deposit
    assert "required" not in deposit
    assert 'type="radio" name="oa-account_currency"' in html
    html = render_to_string(
        "transactions/_eform.html",
        {"sections": eforms.layout(version, {"purpose": "other"}, prefix="oa-")},
    )
    assert "disabled" not in tag(html, "oa-purpose_other")


def test_errors_are_shown_at_their_field(withdrawal_type):
    version = current(withdrawal_type)
    errors = server_errors(version, {"account_number": "1"})
    html = render_to_string(
        "transactions/_eform.html", {"sections": eforms.layout(version, {}, errors)}
    )
    assert 'aria-invalid="true"' in html
    assert (
        '<p class="error" role="alert" id="ef-account_number-error">Enter 12 to 19 digits' in html
    )


def test_labels_and_choices_in_chinese(open_account_type):
    with translation.override("zh-hans"):
        fields = fields_of(eforms.layout(current(open_account_type)))
    assert fields["full_name"].label == "姓名"
    assert dict(fields["purpose"].choices)["salary"] == "代发工资"
    with translation.override("en"):
        fields = fields_of(eforms.layout(current(open_account_type)))
    assert fields["full_name"].label == "Full name"


def test_the_engine_reads_nothing_from_the_database(
    open_account_type, valid_data, django_assert_num_queries
):
    # Pages and API calls count their queries: the engine adds none of its own.
    version = current(open_account_type)
    customer = CustomerFactory.build()
    with django_assert_num_queries(0):
        data = eforms.validate(version, valid_data(open_account_type, customer))
        eforms.layout(version, data, customer=customer)
        eforms.approval_levels(version, data=data, customer=customer, amount=None)
