"""The e-form engine: one definition (JSON Schema plus UI hints) validates on the server and
renders the browser's form with the same rules.

A version's `form_schema` is a JSON Schema object whose properties are the form's fields. Each
field uses only keywords the browser can check too, so both sides agree (definition_validate
refuses the rest):

- string: minLength, maxLength, pattern (anchored ^…$), enum (a choice), format: date, email,
  national-id, phone, account-number;
- integer / number: minimum, maximum, multipleOf;
- boolean: a checkbox; `"const": true` when it must be ticked;
- money: `{"type": "object", "format": "money", "currencies": [...], "minAmount": "1000",
  "maxAmount": "5000000"}` holding `{"amount": "1234.50", "currency": "CNY"}`.

`required` lists the fields that must be filled when shown. The `ui_schema` holds the rest:

    {"sections": [{"key": "applicant", "title": {"en": .., "zh": ..}, "fields": [names]}],
     "fields": {name: {"label": {"en", "zh"}, "help": {"en", "zh"}, "widget": "radio"|"textarea",
                       "choices": {value: {"en", "zh"}},
                       "show_if": {"field": other, "equals": value} or {"field", "in": [values]}}},
     "prefill": {name: "customer.full_name"},   # the bank already holds these: shown read-only
     "amount_field": name}                      # the money field the approval rules look at

A field whose `show_if` does not hold is hidden: the browser disables it (static/js/eform.js),
the server drops it and does not require it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import jsonschema
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.utils import flatatt
from django.utils.translation import gettext, ngettext

from bankservice.branches.models import Role
from bankservice.core.errors import BadInput
from bankservice.core.language import in_language
from bankservice.core.masking import mask_identifier, mask_phone
from bankservice.customers.models import Segment
from bankservice.customers.validators import (
    normalize_passport,
    normalize_phone,
    normalize_resident_id,
)
from bankservice.events.services import record

from .models import RequestType, RequestTypeVersion
from .wiring import REQUEST_POLICIES

# Currencies a money field may offer (ISO 4217); a field narrows them with "currencies".
CURRENCIES = ("CNY", "USD", "EUR", "HKD", "GBP", "JPY")
# The attributes of the customer record a form may be prefilled from.
PREFILL_SOURCES = (
    "customer.full_name",
    "customer.national_id",
    "customer.phone",
    "customer.email",
    "customer.date_of_birth",
    "customer.core_banking_id",
)


class FormErrors(BadInput):
    """The form's data breaks its definition: messages per field, in the active language."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(gettext("Please correct the fields marked."))
        self.errors = errors

    def as_dict(self) -> dict:
        return dict(self.errors)


class DefinitionErrors(FormErrors):
    """A request-type definition an administrator wrote cannot be published; messages per part
    (form_schema, ui_schema, documents, approval_rules, sla_policy)."""


# --- Formats: what the browser checks (input type, pattern) and what the server adds to it.


def _text(value: str) -> str:
    return value.strip()


@dataclass(frozen=True)
class Format:
    """A custom string format. The server first checks the browser's `pattern` (with the same
    message), then `check` (check digits, real dates …), which returns the value normalised."""

    name: str
    input_type: str = "text"
    inputmode: str = ""
    pattern: str = ""
    maxlength: int | None = None
    pattern_message: Callable[[], str] = lambda: gettext("Enter a valid value.")
    check: Callable[[str], str] = _text

    def clean(self, value: str) -> str:
        if self.pattern and not re.fullmatch(self.pattern, value, re.ASCII):
            raise ValidationError(self.pattern_message())
        return self.check(value)


def _national_id(value: str) -> str:
    value = value.upper()
    # All digits (or 17 and an X) is a resident ID, anything else a passport number.
    if re.fullmatch(r"\d{15,}|\d{17}X", value):
        return normalize_resident_id(value)
    return normalize_passport(value)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char) * (2 if position % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def _account_number(value: str) -> str:
    if not _luhn_ok(value):
        raise ValidationError(gettext("This number's check digit is wrong; please check it."))
    return value


def _date(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValidationError(gettext("Enter a real date.")) from None


# The WHATWG definition of a valid e-mail address: exactly what <input type=email> accepts.
EMAIL_RE = (
    r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~\-]+@[a-zA-Z0-9](?:[a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?)*"
)

# Patterns are written for both engines: Python's re and the browser's (JavaScript "v" flag,
# which wants "-", "(" and ")" escaped inside brackets).
FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "national-id",
            pattern=r"[0-9A-Za-z]{5,20}",
            maxlength=20,
            pattern_message=lambda: gettext(
                "Enter the ID or passport number: 5 to 20 letters and digits, no spaces."
            ),
            check=_national_id,
        ),
        Format(
            "phone",
            input_type="tel",
            inputmode="tel",
            pattern=r"\+?[0-9 \(\)\-]{6,20}",
            maxlength=21,
            pattern_message=lambda: gettext(
                "Enter a phone number, such as 138 0013 8000 or +44 20 7946 0958."
            ),
            check=lambda value: normalize_phone(value),
        ),
        Format(
            "account-number",
            inputmode="numeric",
            pattern=r"[0-9]{12,19}",
            maxlength=19,
            pattern_message=lambda: gettext("Enter 12 to 19 digits, without spaces."),
            check=_account_number,
        ),
        Format(
            "date",
            input_type="date",
            pattern=r"\d{4}-\d{2}-\d{2}",
            pattern_message=lambda: gettext("Enter a date as YYYY-MM-DD."),
            check=_date,
        ),
        Format(
            "email",
            input_type="email",
            pattern=EMAIL_RE,
            pattern_message=lambda: gettext("Enter a valid e-mail address."),
        ),
    )
}
# The browser checks these formats by their input type: no pattern attribute for them.
TYPE_CHECKED_FORMATS = {"date", "email"}

# An HTML "valid floating-point number": what <input type=number> submits.
NUMBER_RE = re.compile(r"-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?")
CENT = Decimal("0.01")
MAX_DIGITS = 30


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, str) and NUMBER_RE.fullmatch(value.strip()):
        number = Decimal(value.strip())
        # "1e999999" is a valid number to the browser, and a megabyte integer to Python.
        return number if abs(number.adjusted()) <= MAX_DIGITS else None
    return None


def _money(value: Any) -> tuple[Decimal, str]:
    """The amount and currency of a money value; ValidationError with the reason otherwise."""
    if not isinstance(value, Mapping) or set(value) != {"amount", "currency"}:
        raise ValidationError(gettext("Enter an amount and a currency."))
    amount = _decimal(value["amount"])
    try:
        valid = amount is not None and amount > 0 and amount == amount.quantize(CENT)
    except InvalidOperation:  # too many digits to hold
        valid = False
    if not valid:
        raise ValidationError(gettext("Enter an amount above 0 with at most 2 decimals."))
    if value["currency"] not in CURRENCIES:
        raise ValidationError(gettext("Choose a currency from the list."))
    return amount, value["currency"]


def _check_format(name: str) -> Callable[[Any], bool]:
    def check(instance: Any) -> bool:
        if name == "money":
            _money(instance)
        elif isinstance(instance, str):  # other types are the "type" keyword's business
            FORMATS[name].clean(instance)
        return True

    return check


FORMAT_CHECKER = jsonschema.FormatChecker(formats=())
for _name in [*FORMATS, "money"]:
    FORMAT_CHECKER.checks(_name, raises=ValidationError)(_check_format(_name))


def _money_keyword(compare: Callable[[Decimal, str, Any], str | None]):
    def keyword(validator, limit, instance, schema):
        try:
            amount, currency = _money(instance)
        except ValidationError:
            return  # "format" reports it
        message = compare(amount, currency, limit)
        if message:
            yield jsonschema.ValidationError(message)

    return keyword


def _currency_allowed(amount, currency, allowed):
    if currency not in allowed:
        return gettext("Choose a currency from the list.")
    return None


def _at_least(amount, currency, limit):
    if amount < Decimal(limit):
        return gettext("Enter at least %(limit)s.") % {"limit": limit}
    return None


def _at_most(amount, currency, limit):
    if amount > Decimal(limit):
        return gettext("Enter at most %(limit)s.") % {"limit": limit}
    return None


def _ascii_pattern(validator, pattern, instance, schema):
    # The browser's \d and \w are ASCII only; Python's would take "１２" for digits.
    if isinstance(instance, str) and not re.search(pattern, instance, re.ASCII):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


FormValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    {
        "currencies": _money_keyword(_currency_allowed),
        "minAmount": _money_keyword(_at_least),
        "maxAmount": _money_keyword(_at_most),
        "pattern": _ascii_pattern,
    },
)


# --- Reading a definition.


def _kind(prop: dict) -> str:
    """A field's kind: money, choice, or its JSON type."""
    if prop.get("format") == "money":
        return "money"
    if "enum" in prop:
        return "choice"
    return prop.get("type", "string")


def _localized(texts: Mapping | None) -> str:
    if not texts:
        return ""
    return in_language(texts.get("zh", ""), texts.get("en", ""))


def document_label(doc: Mapping) -> str:
    """A required document's name in the active language (its code when it has none)."""
    return in_language(doc.get("name_zh", ""), doc.get("name_en", "")) or doc["code"]


def _condition_values(condition: Mapping) -> list:
    return list(condition["in"]) if "in" in condition else [condition["equals"]]


def visible_fields(version: RequestTypeVersion, data: Mapping) -> set[str]:
    """The fields shown for this data: those without a condition, and those whose condition
    holds (a condition looks at an unconditional field)."""
    ui_fields = version.ui_schema.get("fields", {})
    shown = set()
    for name in version.form_schema["properties"]:
        condition = ui_fields.get(name, {}).get("show_if")
        if condition is None or data.get(condition["field"]) in _condition_values(condition):
            shown.add(name)
    return shown


# --- Validation.

BOOLEAN_STRINGS = {"true": True, "on": True, "1": True, "false": False, "off": False, "0": False}


def _coerce(prop: dict, value: Any) -> Any:
    """The value in the field's type when it can be read as one (form posts are strings);
    otherwise unchanged, for the schema to refuse with its message. None means not given."""
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return None
    kind = _kind(prop)
    if kind in ("integer", "number") and isinstance(value, str):
        number = _decimal(value)
        if number is not None:
            if number == number.to_integral_value():
                return int(number)
            return float(number) if kind == "number" else value
    if kind == "boolean" and isinstance(value, str):
        return BOOLEAN_STRINGS.get(value.lower(), value)
    if kind == "money" and isinstance(value, Mapping):
        amount, currency = value.get("amount"), value.get("currency")
        if amount is None or (isinstance(amount, str) and not amount.strip()):
            return None  # the currency select always has a value: no amount, no money
        if isinstance(amount, int | float | Decimal) and not isinstance(amount, bool):
            amount = str(amount)
        if isinstance(amount, str):
            amount = amount.strip()
        if isinstance(currency, str):
            currency = currency.strip().upper()
        return {"amount": amount, "currency": currency}
    return value


def _normalized(prop: dict, value: Any) -> Any:
    """A valid value in its stored form (E.164 phone, upper-case ID, "1234.50" amount …)."""
    fmt = prop.get("format")
    if fmt == "money":
        amount, currency = _money(value)
        return {"amount": str(amount.quantize(CENT)), "currency": currency}
    if fmt in FORMATS:
        return FORMATS[fmt].clean(value)
    return value


def _message(error: jsonschema.ValidationError) -> str:
    keyword, limit = error.validator, error.validator_value
    if keyword == "format":
        cause = error.cause
        if isinstance(cause, ValidationError):
            return cause.messages[0]
        return gettext("Enter a valid value.")
    if keyword == "type":
        return {
            "integer": gettext("Enter a whole number."),
            "number": gettext("Enter a number."),
            "boolean": gettext("Answer yes or no."),
            "object": gettext("Enter an amount and a currency."),
        }.get(limit, gettext("Enter text."))
    if keyword == "minLength":
        return ngettext(
            "Enter at least %(limit)d character.", "Enter at least %(limit)d characters.", limit
        ) % {"limit": limit}
    if keyword == "maxLength":
        return ngettext(
            "Enter at most %(limit)d character.", "Enter at most %(limit)d characters.", limit
        ) % {"limit": limit}
    if keyword == "minimum":
        return gettext("Enter %(limit)s or more.") % {"limit": limit}
    if keyword == "maximum":
        return gettext("Enter %(limit)s or less.") % {"limit": limit}
    if keyword == "multipleOf":
        return gettext("Enter a multiple of %(step)s.") % {"step": limit}
    if keyword == "enum":
        return gettext("Choose one of the options.")
    if keyword == "const":
        return gettext("Tick this box to continue.")
    if keyword == "pattern":
        return gettext("Enter the value in the format asked for.")
    # Our own keywords (currencies, minAmount, maxAmount) word their message themselves.
    return error.message


def validate(version: RequestTypeVersion, data: Mapping, *, partial: bool = False) -> dict:
    """The cleaned form data: values in their types and stored forms, unknown keys and hidden
    fields dropped. Raises FormErrors with messages per field. `partial` (a draft) checks the
    values given but requires none."""
    if not isinstance(data, Mapping):
        raise FormErrors({"__all__": [gettext("The form data is an object of field values.")]})
    schema = version.form_schema
    props = schema["properties"]
    given = {}
    for name, prop in props.items():
        if name in data:
            value = _coerce(prop, data[name])
            if value is not None:
                given[name] = value
    shown = visible_fields(version, given)
    given = {name: value for name, value in given.items() if name in shown}
    errors: dict[str, list[str]] = {}
    if not partial:
        for name in schema.get("required", ()):
            if name in shown and name not in given:
                errors[name] = [gettext("This field is required.")]
    # "required" is checked above, for the shown fields only.
    checked = {key: value for key, value in schema.items() if key != "required"}
    for error in FormValidator(checked, format_checker=FORMAT_CHECKER).iter_errors(given):
        name = error.absolute_path[0] if error.absolute_path else "__all__"
        messages = errors.setdefault(str(name), [])
        message = _message(error)
        if message not in messages:
            messages.append(message)
    if errors:
        raise FormErrors(errors)
    return {name: _normalized(props[name], value) for name, value in given.items()}


def data_from_post(version: RequestTypeVersion, post: Mapping, *, prefix: str = "") -> dict:
    """The form data of a browser post of `_eform.html` (before validation): an unticked
    checkbox is False, a money field comes as `<name>.amount` and `<name>.currency`."""
    data = {}
    for name, prop in version.form_schema["properties"].items():
        key = prefix + name
        kind = _kind(prop)
        if kind == "money":
            if f"{key}.amount" in post:
                data[name] = {
                    "amount": post.get(f"{key}.amount"),
                    "currency": post.get(f"{key}.currency", ""),
                }
        elif kind == "boolean":
            data[name] = post.get(key, "false")
        elif key in post:
            data[name] = post.get(key)
    return data


# --- Prefill, amount, approval levels, documents.


def _resolve(source: str, customer) -> Any:
    value = customer
    for attr in source.split(".")[1:]:
        value = getattr(value, attr, None)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# Formats that hold personal identifiers, masked for a role without customers.reveal_pii.
MASKS: dict[str, Callable[[str], str]] = {
    "national-id": mask_identifier,
    "account-number": lambda value: mask_identifier(value, head=4, tail=4),
    "phone": mask_phone,
}


def masked(version: RequestTypeVersion, data: Mapping) -> dict:
    """The form data with its personal identifiers (ID, phone and account numbers) masked: one
    rule for the staff page, the API and the receipt."""
    props = version.form_schema.get("properties", {})
    shown = {}
    for name, value in data.items():
        mask = MASKS.get(props.get(name, {}).get("format", ""))
        shown[name] = mask(str(value)) if mask is not None and value else value
    return shown


def personal_fields(version: RequestTypeVersion, data: Mapping) -> list[str]:
    """The fields of the form data that `masked` would mask: shown in full, they are audited."""
    props = version.form_schema.get("properties", {})
    return [
        name for name, value in data.items() if value and props.get(name, {}).get("format") in MASKS
    ]


def prefill(version: RequestTypeVersion, customer) -> dict:
    """The values the customer record already holds for this form (ui_schema "prefill")."""
    values = {}
    for name, source in version.ui_schema.get("prefill", {}).items():
        value = _resolve(source, customer) if customer is not None else None
        if value not in (None, ""):
            values[name] = value
    return values


def amount_of(version: RequestTypeVersion, data: Mapping) -> tuple[Decimal | None, str]:
    """The amount and currency of the form's amount field (None, "" when it has none)."""
    value = data.get(version.ui_schema.get("amount_field", ""))
    try:
        return _money(value)
    except ValidationError:
        return None, ""


def _rule_holds(when: Mapping, *, customer, amount: Decimal | None) -> bool:
    checks = {
        "always": lambda flag: bool(flag),
        "amount_gte": lambda limit: amount is not None and amount >= Decimal(limit),
        "amount_lt": lambda limit: amount is not None and amount < Decimal(limit),
        "segment_in": lambda segments: getattr(customer, "segment", None) in segments,
    }
    return all(checks[condition](value) for condition, value in when.items())


def approval_levels(
    version: RequestTypeVersion, *, data: Mapping, customer, amount: Decimal | None
) -> list[str]:
    """The role deciding each approval level, from the first rule whose conditions all hold
    (no rule holds: no approval needed)."""
    for rule in version.approval_rules:
        if _rule_holds(rule["when"], customer=customer, amount=amount):
            return list(rule["levels"])
    return []


def documents_required(version: RequestTypeVersion, data: Mapping) -> list[dict]:
    """The documents this request must carry: required ones whose `when` (a show_if-style
    condition on the data) holds or that have none."""
    return [
        doc
        for doc in version.documents
        if doc.get("required")
        and ("when" not in doc or data.get(doc["when"]["field"]) in _condition_values(doc["when"]))
    ]


# --- Layout: what _eform.html renders.


@dataclass
class Field:
    """One field as the template renders it; `attrs` are the input's HTML attributes, derived
    from the schema so that the browser checks what the server checks."""

    name: str
    html_name: str
    id: str
    label: str
    help: str
    widget: str  # text, textarea, select, radio, checkbox, money
    attrs: dict
    value: Any = None
    errors: list[str] = field(default_factory=list)
    choices: list[tuple[str, str]] = field(default_factory=list)
    currencies: list[str] = field(default_factory=list)
    show_if: str = ""  # the controlling field's html name
    show_values: str = ""  # JSON list of the values (as strings) that show this field
    hidden: bool = False
    readonly: bool = False

    @property
    def attrs_html(self) -> str:
        return flatatt(self.attrs)

    @property
    def required(self) -> bool:
        return bool(self.attrs.get("required"))


@dataclass
class Section:
    key: str
    title: str
    fields: list[Field]


def _number_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def html_attrs(prop: dict, *, required: bool) -> dict:
    """The HTML attributes of a field's input (the amount input for money)."""
    kind = _kind(prop)
    attrs: dict[str, Any] = {}
    if kind == "money":
        attrs.update(
            type="number",
            inputmode="decimal",
            step="0.01",
            min=prop.get("minAmount", "0.01"),
        )
        if "maxAmount" in prop:
            attrs["max"] = prop["maxAmount"]
    elif kind in ("integer", "number"):
        attrs["type"] = "number"
        attrs["inputmode"] = "numeric" if kind == "integer" else "decimal"
        attrs["step"] = prop.get("multipleOf", 1 if kind == "integer" else "any")
        for keyword, attr in (("minimum", "min"), ("maximum", "max")):
            if keyword in prop:
                attrs[attr] = prop[keyword]
    elif kind == "boolean":
        attrs.update(type="checkbox", value="true")
        required = prop.get("const") is True
    elif kind == "string":
        fmt = FORMATS.get(prop.get("format", ""))
        attrs["type"] = fmt.input_type if fmt else "text"
        if fmt and fmt.inputmode:
            attrs["inputmode"] = fmt.inputmode
        if fmt and fmt.pattern and fmt.name not in TYPE_CHECKED_FORMATS:
            attrs["pattern"] = fmt.pattern
        elif "pattern" in prop:
            attrs["pattern"] = prop["pattern"].removeprefix("^").removesuffix("$")
        if "minLength" in prop:
            attrs["minlength"] = prop["minLength"]
        maxlength = min(
            [n for n in (prop.get("maxLength"), fmt.maxlength if fmt else None) if n],
            default=None,
        )
        if maxlength:
            attrs["maxlength"] = maxlength
    attrs["required"] = required
    return {
        key: _number_text(value) if key != "required" else value for key, value in attrs.items()
    }


def _widget(prop: dict, ui: Mapping) -> str:
    kind = _kind(prop)
    if kind == "choice":
        return "radio" if ui.get("widget") == "radio" else "select"
    if kind == "string":
        return "textarea" if ui.get("widget") == "textarea" else "text"
    return {"boolean": "checkbox", "money": "money"}.get(kind, "text")


def _field(name: str, prop: dict, ui: Mapping, **state) -> Field:
    html_name = state["prefix"] + name
    widget = _widget(prop, ui)
    attrs = html_attrs(prop, required=state["required"])
    if widget == "textarea":
        del attrs["type"]
    errors = list(state["errors"])
    described = [
        f"ef-{html_name}-{part}" for part, on in (("help", ui.get("help")), ("error", errors)) if on
    ]
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if errors:
        attrs["aria-invalid"] = "true"
    attrs["readonly"] = state["readonly"]
    attrs["disabled"] = state["hidden"]
    condition = ui.get("show_if")
    labels = ui.get("choices", {})
    return Field(
        name=name,
        html_name=html_name,
        id=f"ef-{html_name}",
        label=_localized(ui.get("label")) or name,
        help=_localized(ui.get("help")),
        widget=widget,
        attrs=attrs,
        value=state["value"],
        errors=errors,
        choices=[(v, _localized(labels.get(v)) or v) for v in prop.get("enum", ())],
        currencies=list(prop.get("currencies", CURRENCIES)),
        show_if=state["prefix"] + condition["field"] if condition else "",
        show_values=json.dumps([_number_text(v) for v in _condition_values(condition)])
        if condition
        else "",
        hidden=state["hidden"],
        readonly=state["readonly"],
    )


def layout(
    version: RequestTypeVersion,
    data: Mapping | None = None,
    errors: Mapping | None = None,
    *,
    customer=None,
    prefix: str = "",
) -> list[Section]:
    """The form's sections and fields in the active language, with values and errors. With the
    customer, the fields the bank already holds are shown read-only, with its values. `prefix`
    keeps the names of several forms on one page apart (data_from_post takes the same)."""
    errors = errors or {}
    held = prefill(version, customer) if customer is not None else {}
    data = {**(data or {}), **held}
    schema, ui_fields = version.form_schema, version.ui_schema.get("fields", {})
    props, required = schema["properties"], set(schema.get("required", ()))
    shown = visible_fields(
        version, {name: _coerce(props[name], v) for name, v in data.items() if name in props}
    )
    return [
        Section(
            key=section["key"],
            title=_localized(section.get("title")),
            fields=[
                _field(
                    name,
                    props[name],
                    ui_fields.get(name, {}),
                    prefix=prefix,
                    required=name in required,
                    value=data.get(name),
                    errors=errors.get(name, ()),
                    readonly=name in held,
                    hidden=name not in shown,
                )
                for name in section["fields"]
            ],
        )
        for section in version.ui_schema.get("sections", ())
    ]


# --- Definitions written by administrators.

COMMON_KEYWORDS = {"type", "title", "description"}
KEYWORDS = {
    "string": {"minLength", "maxLength", "pattern", "format"},
    "choice": {"enum"},
    "integer": {"minimum", "maximum", "multipleOf"},
    "number": {"minimum", "maximum", "multipleOf"},
    "boolean": {"const"},
    "money": {"format", "currencies", "minAmount", "maxAmount"},
}
CONDITIONS = {"always", "amount_gte", "amount_lt", "segment_in"}
AMOUNT_RE = re.compile(r"\d+(?:\.\d{1,2})?")


# What a browser's pattern (a JavaScript regular expression with the "v" flag) refuses and
# Python's re accepts: escaping a character that needs none, and inside brackets, ( ) { } / |
# unescaped or a "-" that is not a range.
JS_SYNTAX = set("^$\\.*+?()[]{}|/")
JS_ESCAPES = set("dDwWsSbBtnrfv0123456789")
JS_CLASS_RESERVED = set("(){}/|")


def _browser_can_read(pattern: str) -> bool:
    in_class, position = False, 0
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            escaped = pattern[position + 1 : position + 2]
            allowed = JS_SYNTAX | JS_ESCAPES | ({"-"} if in_class else set())
            if escaped not in allowed:
                return False
            position += 2
            continue
        if in_class:
            if char in JS_CLASS_RESERVED:
                return False
            if char == "-" and (
                pattern[position - 1] == "[" or pattern[position + 1 : position + 2] == "]"
            ):
                return False
            in_class = char != "]"
        elif char == "[":
            in_class = True
        position += 1
    return True


def _field_problems(name: str, prop: Any) -> list[str]:
    if not isinstance(prop, dict):
        return [gettext("Field %(name)s: give an object.") % {"name": name}]
    kind = _kind(prop)
    expected = {"money": "object", "choice": "string"}.get(kind, kind)
    if kind not in KEYWORDS or prop.get("type") != expected:
        return [
            gettext("Field %(name)s: the type must be string, integer, number, boolean or money.")
            % {"name": name}
        ]
    problems = []
    unknown = set(prop) - COMMON_KEYWORDS - KEYWORDS[kind]
    if unknown:
        problems.append(
            gettext("Field %(name)s: the browser cannot check %(keywords)s.")
            % {"name": name, "keywords": ", ".join(sorted(unknown))}
        )
    if kind == "string" and "format" in prop and prop["format"] not in FORMATS:
        problems.append(
            gettext("Field %(name)s: unknown format %(format)s.")
            % {"name": name, "format": prop["format"]}
        )
    if kind == "string" and "pattern" in prop:
        pattern = str(prop["pattern"])
        if not (pattern.startswith("^") and pattern.endswith("$")):
            problems.append(
                gettext("Field %(name)s: a pattern must be anchored with ^ and $.") % {"name": name}
            )
        elif not _browser_can_read(pattern):
            problems.append(
                gettext(
                    "Field %(name)s: the browser cannot read this pattern; escape only "
                    "^$\\.*+?()[]{}|/ and, inside brackets, -."
                )
                % {"name": name}
            )
    if kind == "choice" and not all(isinstance(v, str) for v in prop["enum"]):
        problems.append(gettext("Field %(name)s: choices are text values.") % {"name": name})
    if kind == "boolean" and prop.get("const", True) is not True:
        problems.append(
            gettext("Field %(name)s: a checkbox can only be required to be ticked (true).")
            % {"name": name}
        )
    if kind in ("integer", "number") and "multipleOf" in prop:
        # The browser counts steps from the minimum: it must itself be a step.
        step, low = prop["multipleOf"], prop.get("minimum", 0)
        if not isinstance(step, int | float) or step <= 0 or Decimal(str(low)) % Decimal(str(step)):
            problems.append(
                gettext("Field %(name)s: the minimum must be a multiple of multipleOf.")
                % {"name": name}
            )
    if kind == "money":
        if not set(prop.get("currencies", CURRENCIES)) <= set(CURRENCIES) or not prop.get(
            "currencies", CURRENCIES
        ):
            problems.append(
                gettext("Field %(name)s: currencies must be among %(allowed)s.")
                % {"name": name, "allowed": ", ".join(CURRENCIES)}
            )
        for keyword in ("minAmount", "maxAmount"):
            if keyword in prop and not AMOUNT_RE.fullmatch(str(prop[keyword])):
                problems.append(
                    gettext("Field %(name)s: %(keyword)s is an amount such as 1000.00.")
                    % {"name": name, "keyword": keyword}
                )
    return problems


def _schema_problems(form_schema: Any) -> list[str]:
    if not isinstance(form_schema, dict) or form_schema.get("type") != "object":
        return [gettext('The form schema is an object with "type": "object" and "properties".')]
    try:
        jsonschema.Draft202012Validator.check_schema(form_schema)
    except jsonschema.SchemaError as exc:
        return [gettext("Not a valid JSON Schema: %(reason)s") % {"reason": exc.message}]
    props = form_schema.get("properties")
    if not isinstance(props, dict) or not props:
        return [gettext("The form needs at least one field.")]
    problems = [p for name, prop in props.items() for p in _field_problems(name, prop)]
    extra = set(form_schema) - {"type", "properties", "required", "title", "description", "$schema"}
    if extra:
        problems.append(
            gettext("Unsupported keywords: %(keywords)s.") % {"keywords": ", ".join(sorted(extra))}
        )
    unknown = set(form_schema.get("required", ())) - set(props)
    if unknown:
        problems.append(
            gettext("Required fields that do not exist: %(names)s.")
            % {"names": ", ".join(sorted(unknown))}
        )
    return problems


def _texts_problem(texts: Any, what: str) -> list[str]:
    if not isinstance(texts, dict) or not texts.get("en") or not texts.get("zh"):
        return [gettext("%(what)s needs English and Chinese (en, zh).") % {"what": what}]
    return []


def _condition_problems(condition: Any, props: dict, ui_fields: dict, what: str) -> list[str]:
    if (
        not isinstance(condition, dict)
        or condition.get("field") not in props
        or len(set(condition) & {"equals", "in"}) != 1
    ):
        return [
            gettext('%(what)s: a condition is {"field": name, "equals": value} or "in": [values].')
            % {"what": what}
        ]
    if "show_if" in ui_fields.get(condition["field"], {}):
        return [
            gettext("%(what)s: the field a condition looks at cannot be conditional itself.")
            % {"what": what}
        ]
    return []


def _ui_problems(ui_schema: Any, props: dict) -> list[str]:
    if not isinstance(ui_schema, dict):
        return [gettext("The form layout is an object.")]
    problems = []
    ui_fields = ui_schema.get("fields", {})
    placed = [
        name for section in ui_schema.get("sections", ()) for name in section.get("fields", ())
    ]
    for section in ui_schema.get("sections", ()):
        problems += _texts_problem(
            section.get("title"), gettext("Section %(key)s") % {"key": section.get("key")}
        )
    missing = set(props) - set(placed)
    unknown = set(placed) - set(props) | set(ui_fields) - set(props)
    if missing:
        problems.append(
            gettext("Fields in no section: %(names)s.") % {"names": ", ".join(sorted(missing))}
        )
    if unknown:
        problems.append(
            gettext("The layout names fields the schema does not have: %(names)s.")
            % {"names": ", ".join(sorted(unknown))}
        )
    if len(placed) != len(set(placed)):
        problems.append(gettext("A field is placed twice."))
    for name, prop in props.items():
        field_ui = ui_fields.get(name, {})
        what = gettext("Field %(name)s") % {"name": name}
        problems += _texts_problem(field_ui.get("label"), what)
        if "help" in field_ui:
            problems += _texts_problem(field_ui["help"], what)
        for value in prop.get("enum", ()):
            problems += _texts_problem(field_ui.get("choices", {}).get(value), f"{what}: {value}")
        if "show_if" in field_ui:
            problems += _condition_problems(field_ui["show_if"], props, ui_fields, what)
        widget = field_ui.get("widget")
        allowed = {"choice": {"radio", "select"}, "string": {"textarea", "text"}}.get(
            _kind(prop), set()
        )
        if widget is not None and (
            widget not in allowed or (widget == "textarea" and "pattern" in prop)
        ):
            problems.append(
                gettext("%(what)s: this widget does not suit the field.") % {"what": what}
            )
    for name, source in ui_schema.get("prefill", {}).items():
        if name not in props or _kind(props[name]) != "string" or source not in PREFILL_SOURCES:
            problems.append(
                gettext("Prefill %(name)s: a text field, from one of %(sources)s.")
                % {"name": name, "sources": ", ".join(PREFILL_SOURCES)}
            )
    amount_field = ui_schema.get("amount_field")
    if amount_field is not None and _kind(props.get(amount_field, {})) != "money":
        problems.append(gettext("The amount field must be a money field."))
    return problems


def _documents_problems(documents: Any, props: dict) -> list[str]:
    if not isinstance(documents, list):
        return [gettext("The documents are a list.")]
    problems = []
    codes = [doc.get("code") for doc in documents if isinstance(doc, dict)]
    for doc in documents:
        if (
            not isinstance(doc, dict)
            or not re.fullmatch(r"[a-z0-9_\-]{1,40}", str(doc.get("code", "")))
            or not doc.get("name_zh")
            or not doc.get("name_en")
            or not isinstance(doc.get("required", False), bool)
            or set(doc) - {"code", "name_zh", "name_en", "required", "when"}
        ):
            problems.append(
                gettext(
                    'A document is {"code", "name_zh", "name_en", "required"} with an optional '
                    '"when".'
                )
            )
        elif "when" in doc:
            problems += _condition_problems(doc["when"], props, {}, doc["code"])
    if len(codes) != len(set(codes)):
        problems.append(gettext("Two documents have the same code."))
    return problems


def _rules_problems(rules: Any, ui_schema: dict) -> list[str]:
    if not isinstance(rules, list):
        return [gettext("The approval rules are a list.")]
    problems = []
    for number, rule in enumerate(rules, start=1):
        what = gettext("Rule %(number)d") % {"number": number}
        when = rule.get("when") if isinstance(rule, dict) else None
        levels = rule.get("levels") if isinstance(rule, dict) else None
        if not isinstance(when, dict) or not when or set(when) - CONDITIONS:
            problems.append(
                gettext("%(what)s: conditions are among %(conditions)s.")
                % {"what": what, "conditions": ", ".join(sorted(CONDITIONS))}
            )
            continue
        for key in ("amount_gte", "amount_lt"):
            if key in when and not AMOUNT_RE.fullmatch(str(when[key])):
                problems.append(
                    gettext("%(what)s: %(key)s is an amount.") % {"what": what, "key": key}
                )
        if set(when) & {"amount_gte", "amount_lt"} and not ui_schema.get("amount_field"):
            problems.append(
                gettext("%(what)s: amount conditions need an amount field in the layout.")
                % {"what": what}
            )
        if "segment_in" in when and not set(when["segment_in"]) <= set(Segment.values):
            problems.append(
                gettext("%(what)s: segments are among %(segments)s.")
                % {"what": what, "segments": ", ".join(Segment.values)}
            )
        if not isinstance(levels, list) or not levels or not set(levels) <= set(Role.values):
            problems.append(
                gettext("%(what)s: levels are a list of roles (%(roles)s).")
                % {"what": what, "roles": ", ".join(Role.values)}
            )
    return problems


# The parts of a definition that definition_validate checks (with sla_policy: a version).
DEFINITION_PARTS = ("form_schema", "ui_schema", "documents", "approval_rules")


def definition_validate(*, form_schema, ui_schema, documents, approval_rules) -> None:
    """Check a definition before it is published: a JSON Schema the browser can check too,
    known formats, a layout naming every field with labels in both languages, documents and
    approval rules whose conditions and roles exist. Raises DefinitionErrors."""
    errors = {}
    schema_problems = _schema_problems(form_schema)
    if schema_problems:
        errors["form_schema"] = schema_problems
    else:
        props = form_schema["properties"]
        for part, problems in (
            ("ui_schema", _ui_problems(ui_schema, props)),
            ("documents", _documents_problems(documents, props)),
            (
                "approval_rules",
                _rules_problems(approval_rules, ui_schema if isinstance(ui_schema, dict) else {}),
            ),
        ):
            if problems:
                errors[part] = problems
    if errors:
        raise DefinitionErrors(errors)


def shared_fields_validate(*, request_types, shared_fields) -> None:
    """A bundle's shared fields are entered once for all its forms: each must be a field of one
    of its request types at least, the same field (same schema) wherever it appears."""
    if not isinstance(shared_fields, list) or not all(isinstance(n, str) for n in shared_fields):
        raise DefinitionErrors({"shared_fields": [gettext("Shared fields are a list of names.")]})
    versions = RequestTypeVersion.objects.filter(request_type__in=request_types, is_current=True)
    forms = [version.form_schema["properties"] for version in versions]
    problems = []
    for name in shared_fields:
        schemas = [props[name] for props in forms if name in props]
        if not schemas:
            problems.append(
                gettext("%(name)s is a field of none of the bundle's request types.")
                % {"name": name}
            )
        elif any(schema != schemas[0] for schema in schemas):
            problems.append(
                gettext("%(name)s is not the same field in every request type that has it.")
                % {"name": name}
            )
    if problems:
        raise DefinitionErrors({"shared_fields": problems})


def request_type_version_publish(
    *,
    actor,
    request_type: RequestType,
    form_schema: dict,
    ui_schema: dict,
    documents: list,
    approval_rules: list,
    sla_policy: str,
) -> RequestTypeVersion:
    """Publish a new current version of a request type; the previous versions stay, unchanged,
    for the requests filled with them."""
    definition_validate(
        form_schema=form_schema,
        ui_schema=ui_schema,
        documents=documents,
        approval_rules=approval_rules,
    )
    if sla_policy not in REQUEST_POLICIES:
        raise DefinitionErrors(
            {"sla_policy": [gettext("Choose one of the request deadline policies.")]}
        )
    with transaction.atomic():
        # Two administrators publishing at once would both take the same next number.
        locked = RequestType.objects.select_for_update().get(pk=request_type.pk)
        last = locked.versions.order_by("-number").values_list("number", flat=True).first()
        locked.versions.filter(is_current=True).update(is_current=False)
        version = RequestTypeVersion.objects.create(
            request_type=locked,
            number=(last or 0) + 1,
            form_schema=form_schema,
            ui_schema=ui_schema,
            documents=documents,
            approval_rules=approval_rules,
            sla_policy=sla_policy,
            is_current=True,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        record(
            type="transactions.request_type_published",
            actor=actor,
            subject=version,
            payload={"code": locked.code, "version": version.number},
        )
    return version
