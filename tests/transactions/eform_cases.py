"""One form with every field type, and values each side must judge alike: the server
(transactions.eforms.validate) and the browser (the attributes _eform.html renders). Used by
tests/transactions/test_eforms.py (a model of the browser's rules) and by
tests/e2e/test_eform_browser.py (headless Chromium itself)."""

from transactions.models import RequestTypeVersion

FIELDS = {
    "name": {"type": "string", "minLength": 2, "maxLength": 10},
    "code": {"type": "string", "pattern": r"^[A-Z]{3}-\d{2}$"},
    "ref": {"type": "string", "pattern": r"^[A-Z0-9\-]{4,8}$"},
    "note": {"type": "string", "maxLength": 20},
    "count": {"type": "integer", "minimum": 1, "maximum": 10},
    "thousands": {"type": "integer", "minimum": 1000, "maximum": 5000, "multipleOf": 1000},
    "rate": {"type": "number", "minimum": 0, "maximum": 1.5},
    "price": {
        "type": "object",
        "format": "money",
        "currencies": ["CNY", "USD"],
        "minAmount": "10",
        "maxAmount": "50000",
    },
    "day": {"type": "string", "format": "date"},
    "email": {"type": "string", "format": "email", "maxLength": 40},
    "national_id": {"type": "string", "format": "national-id"},
    "phone": {"type": "string", "format": "phone"},
    "account": {"type": "string", "format": "account-number"},
    "kind": {"type": "string", "enum": ["a", "b"]},
    "agree": {"type": "boolean", "const": True},
}


def _ui(name):
    return {"label": {"en": name.title(), "zh": f"字段{name}"}}


SINK = {
    "form_schema": {"type": "object", "properties": FIELDS, "required": list(FIELDS)},
    "ui_schema": {
        "sections": [{"key": "all", "title": {"en": "All", "zh": "全部"}, "fields": list(FIELDS)}],
        "fields": {
            **{name: _ui(name) for name in FIELDS},
            "kind": {**_ui("kind"), "choices": {v: {"en": v, "zh": v} for v in ("a", "b")}},
        },
    },
    "documents": [],
    "approval_rules": [],
}


def sink_version() -> RequestTypeVersion:
    """The form as an unsaved version (validate and layout need no database)."""
    return RequestTypeVersion(number=1, sla_policy="transactions.1d", **SINK)


VALID_ID = "11010519491231002X"
# Card numbers: a valid Luhn check digit, and the same with it wrong.
LUHN_OK = "6222020200112233446"
LUHN_BAD = "6222020200112233445"

# (field, value typed, both accept it). Money values are typed into the amount input (CNY).
AGREE = [
    ("name", "Li", True),
    ("name", "L", False),  # minlength
    ("name", "Wang Xiaoming", False),  # maxlength (the browser stops typing at 10)
    ("code", "ABC-12", True),
    ("code", "abc-12", False),
    ("code", "ABC-123", False),  # the pattern is anchored on both sides
    ("code", "ABC-１２", False),  # \d is an ASCII digit to both
    ("note", "Cash for a deposit", True),
    ("note", "二十个汉字二十个汉字二十个汉字二十个汉字", True),  # characters, not bytes
    ("note", "二十一个汉字二十一个汉字二十一个汉字二十一", False),
    ("ref", "AB-12", True),
    ("ref", "ab-12", False),
    ("ref", "AB_12", False),
    ("count", "1", True),
    ("count", "10", True),
    ("count", "0", False),
    ("count", "11", False),
    ("count", "2.5", False),  # step 1
    ("count", "1e1", True),  # a valid number to both: 10
    ("count", "ten", False),
    ("thousands", "3000", True),
    ("thousands", "2500", False),  # step 1000 from 1000
    ("thousands", "6000", False),
    ("rate", "0.75", True),
    ("rate", "0", True),
    ("rate", "1.6", False),
    ("rate", "-0.1", False),
    ("price", "10", True),
    ("price", "49999.99", True),
    ("price", "9.99", False),  # minAmount
    ("price", "50000.01", False),  # maxAmount
    ("price", "100.005", False),  # cents only
    ("price", "-20", False),
    ("day", "2026-02-28", True),
    ("day", "2026-02-30", False),
    ("day", "28/02/2026", False),
    ("email", "li.wei@example.cn", True),
    ("email", "li.wei@", False),
    ("email", "li wei@example.cn", False),
    ("national_id", VALID_ID, True),
    ("national_id", "E12345678", True),  # a passport
    ("national_id", "1101 0519", False),  # spaces
    ("national_id", "E1", False),
    ("phone", "13800138000", True),
    ("phone", "+44 20 7946 0958", True),
    ("phone", "138-0013-8000", True),
    ("phone", "call me", False),
    ("phone", "12", False),
    ("account", LUHN_OK, True),
    ("account", "62220202", False),  # too short
    ("account", "6222 0202 0011 2233", False),  # spaces
    ("kind", "a", True),
    ("kind", "c", False),
    ("agree", True, True),
    ("agree", False, False),
]

# What only the server can know: check digits, a birth date inside an ID, a real phone number.
SERVER_ONLY = [
    ("national_id", "110105194912310021"),  # wrong check digit
    ("national_id", "110105199913310024"),  # month 13
    ("account", LUHN_BAD),
    ("phone", "+86 100"),  # no such number
]


def valid_sink_data() -> dict:
    """Valid data for every field of the form, as a browser posts it."""
    return {name: value for name, value, ok in reversed(AGREE) if ok} | {
        "price": {"amount": "10", "currency": "CNY"}
    }
