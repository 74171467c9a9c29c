"""Demo request types and the new-customer bundle: definitions as data, both languages.

The tests build their request types from these same definitions (tests/transactions/conftest.py),
so what the demo shows is what the tests prove. The form language is described in
transactions/eforms.py.
"""

# What the bank already holds about the customer: prefilled, shown read-only.
APPLICANT_PREFILL = {
    "full_name": "customer.full_name",
    "national_id": "customer.national_id",
    "phone": "customer.phone",
}
WITH_EMAIL_PREFILL = {**APPLICANT_PREFILL, "email": "customer.email"}

APPLICANT_FIELDS = {
    "full_name": {"type": "string", "minLength": 1, "maxLength": 120},
    "national_id": {"type": "string", "format": "national-id"},
    "phone": {"type": "string", "format": "phone"},
}
APPLICANT_UI = {
    "full_name": {"label": {"en": "Full name", "zh": "姓名"}},
    "national_id": {"label": {"en": "ID number", "zh": "证件号码"}},
    "phone": {"label": {"en": "Mobile phone", "zh": "手机号码"}},
}
APPLICANT_SECTION = {
    "key": "applicant",
    "title": {"en": "Customer", "zh": "客户信息"},
    "fields": ["full_name", "national_id", "phone"],
}
ID_COPY = {
    "code": "id_copy",
    "name_zh": "身份证件复印件",
    "name_en": "Copy of the ID document",
    "required": True,
}
AGREE_TERMS = {"type": "boolean", "const": True}
AGREE_TERMS_UI = {
    "label": {
        "en": "The customer has read and accepts the terms",
        "zh": "客户已阅读并同意相关条款",
    }
}

OPEN_ACCOUNT = {
    "code": "open_account",
    "name_zh": "开立个人账户",
    "name_en": "Open a personal account",
    "service_code": "accounts",
    "sla_policy": "transactions.1d",
    "form_schema": {
        "type": "object",
        "properties": {
            **APPLICANT_FIELDS,
            "email": {"type": "string", "format": "email", "maxLength": 254},
            "address": {"type": "string", "minLength": 5, "maxLength": 200},
            "occupation": {
                "type": "string",
                "enum": ["employed", "self_employed", "student", "retired", "other"],
            },
            "account_currency": {"type": "string", "enum": ["CNY", "USD"]},
            "purpose": {"type": "string", "enum": ["salary", "savings", "business", "other"]},
            "purpose_other": {"type": "string", "minLength": 2, "maxLength": 100},
            "initial_deposit": {
                "type": "object",
                "format": "money",
                "currencies": ["CNY", "USD"],
                "maxAmount": "1000000",
            },
            "agree_terms": AGREE_TERMS,
        },
        "required": [
            "full_name",
            "national_id",
            "phone",
            "address",
            "occupation",
            "account_currency",
            "purpose",
            "purpose_other",
            "agree_terms",
        ],
    },
    "ui_schema": {
        "sections": [
            {**APPLICANT_SECTION, "fields": [*APPLICANT_SECTION["fields"], "email", "address"]},
            {
                "key": "account",
                "title": {"en": "Account", "zh": "账户信息"},
                "fields": [
                    "occupation",
                    "account_currency",
                    "purpose",
                    "purpose_other",
                    "initial_deposit",
                    "agree_terms",
                ],
            },
        ],
        "fields": {
            **APPLICANT_UI,
            "email": {"label": {"en": "E-mail", "zh": "电子邮箱"}},
            "address": {
                "label": {"en": "Home address", "zh": "住址"},
                "widget": "textarea",
            },
            "occupation": {
                "label": {"en": "Occupation", "zh": "职业"},
                "choices": {
                    "employed": {"en": "Employed", "zh": "受雇"},
                    "self_employed": {"en": "Self-employed", "zh": "自雇"},
                    "student": {"en": "Student", "zh": "学生"},
                    "retired": {"en": "Retired", "zh": "退休"},
                    "other": {"en": "Other", "zh": "其他"},
                },
            },
            "account_currency": {
                "label": {"en": "Account currency", "zh": "账户币种"},
                "widget": "radio",
                "choices": {
                    "CNY": {"en": "Renminbi (CNY)", "zh": "人民币"},
                    "USD": {"en": "US dollar (USD)", "zh": "美元"},
                },
            },
            "purpose": {
                "label": {"en": "Purpose of the account", "zh": "开户用途"},
                "choices": {
                    "salary": {"en": "Salary", "zh": "代发工资"},
                    "savings": {"en": "Savings", "zh": "储蓄"},
                    "business": {"en": "Business", "zh": "经营"},
                    "other": {"en": "Other", "zh": "其他"},
                },
            },
            "purpose_other": {
                "label": {"en": "Other purpose", "zh": "其他用途"},
                "show_if": {"field": "purpose", "equals": "other"},
            },
            "initial_deposit": {
                "label": {"en": "Initial deposit", "zh": "首次存入金额"},
                "help": {"en": "Optional.", "zh": "选填。"},
            },
            "agree_terms": AGREE_TERMS_UI,
        },
        "prefill": WITH_EMAIL_PREFILL,
        "amount_field": "initial_deposit",
    },
    "documents": [ID_COPY],
    "approval_rules": [{"when": {"always": True}, "levels": ["approver"]}],
}

ACTIVATE_CARD = {
    "code": "activate_card",
    "name_zh": "激活银行卡",
    "name_en": "Activate a card",
    "service_code": "accounts",
    "sla_policy": "transactions.4h",
    "form_schema": {
        "type": "object",
        "properties": {
            **APPLICANT_FIELDS,
            "card_number": {"type": "string", "format": "account-number"},
            "card_kind": {"type": "string", "enum": ["debit", "credit"]},
            "credit_limit": {
                "type": "integer",
                "minimum": 1000,
                "maximum": 200000,
                "multipleOf": 1000,
            },
        },
        "required": ["full_name", "national_id", "phone", "card_number", "card_kind"],
    },
    "ui_schema": {
        "sections": [
            APPLICANT_SECTION,
            {
                "key": "card",
                "title": {"en": "Card", "zh": "银行卡"},
                "fields": ["card_number", "card_kind", "credit_limit"],
            },
        ],
        "fields": {
            **APPLICANT_UI,
            "card_number": {
                "label": {"en": "Card number", "zh": "卡号"},
                "help": {"en": "12 to 19 digits, no spaces.", "zh": "12至19位数字，不含空格。"},
            },
            "card_kind": {
                "label": {"en": "Card kind", "zh": "卡片类型"},
                "widget": "radio",
                "choices": {
                    "debit": {"en": "Debit card", "zh": "借记卡"},
                    "credit": {"en": "Credit card", "zh": "信用卡"},
                },
            },
            "credit_limit": {
                "label": {"en": "Requested credit limit (CNY)", "zh": "申请信用额度（元）"},
                "help": {"en": "In thousands.", "zh": "以千元为单位。"},
                "show_if": {"field": "card_kind", "equals": "credit"},
            },
        },
        "prefill": APPLICANT_PREFILL,
    },
    "documents": [],
    "approval_rules": [],
}

MOBILE_BANKING = {
    "code": "mobile_banking",
    "name_zh": "开通手机银行",
    "name_en": "Enable mobile banking",
    "service_code": "accounts",
    "sla_policy": "transactions.4h",
    "form_schema": {
        "type": "object",
        "properties": {
            **APPLICANT_FIELDS,
            "email": {"type": "string", "format": "email", "maxLength": 254},
            "daily_limit": {"type": "integer", "minimum": 0, "maximum": 500000},
            "sms_alerts": {"type": "boolean"},
            "agree_terms": AGREE_TERMS,
        },
        "required": ["full_name", "national_id", "phone", "daily_limit", "agree_terms"],
    },
    "ui_schema": {
        "sections": [
            {**APPLICANT_SECTION, "fields": [*APPLICANT_SECTION["fields"], "email"]},
            {
                "key": "service",
                "title": {"en": "Mobile banking", "zh": "手机银行"},
                "fields": ["daily_limit", "sms_alerts", "agree_terms"],
            },
        ],
        "fields": {
            **APPLICANT_UI,
            "email": {"label": {"en": "E-mail", "zh": "电子邮箱"}},
            "daily_limit": {
                "label": {"en": "Daily transfer limit (CNY)", "zh": "日转账限额（元）"},
                "help": {"en": "0 to 500,000.", "zh": "0至500,000元。"},
            },
            "sms_alerts": {"label": {"en": "SMS alerts for transfers", "zh": "转账短信提醒"}},
            "agree_terms": AGREE_TERMS_UI,
        },
        "prefill": WITH_EMAIL_PREFILL,
    },
    "documents": [],
    "approval_rules": [],
}

CHANGE_CONTACT = {
    "code": "change_contact",
    "name_zh": "变更联系方式",
    "name_en": "Change contact details",
    "service_code": "accounts",
    "sla_policy": "transactions.1d",
    "form_schema": {
        "type": "object",
        "properties": {
            "full_name": APPLICANT_FIELDS["full_name"],
            "national_id": APPLICANT_FIELDS["national_id"],
            "new_phone": {"type": "string", "format": "phone"},
            "new_email": {"type": "string", "format": "email", "maxLength": 254},
            "new_address": {"type": "string", "minLength": 5, "maxLength": 200},
            "effective_date": {"type": "string", "format": "date"},
        },
        "required": ["full_name", "national_id", "effective_date"],
    },
    "ui_schema": {
        "sections": [
            {**APPLICANT_SECTION, "fields": ["full_name", "national_id"]},
            {
                "key": "contact",
                "title": {"en": "New contact details", "zh": "新联系方式"},
                "fields": ["new_phone", "new_email", "new_address", "effective_date"],
            },
        ],
        "fields": {
            "full_name": APPLICANT_UI["full_name"],
            "national_id": APPLICANT_UI["national_id"],
            "new_phone": {"label": {"en": "New mobile phone", "zh": "新手机号码"}},
            "new_email": {"label": {"en": "New e-mail", "zh": "新电子邮箱"}},
            "new_address": {"label": {"en": "New address", "zh": "新地址"}, "widget": "textarea"},
            "effective_date": {"label": {"en": "Effective from", "zh": "生效日期"}},
        },
        "prefill": {k: APPLICANT_PREFILL[k] for k in ("full_name", "national_id")},
    },
    "documents": [ID_COPY],
    "approval_rules": [{"when": {"always": True}, "levels": ["approver"]}],
}

LARGE_WITHDRAWAL = {
    "code": "large_withdrawal",
    "name_zh": "大额取现",
    "name_en": "Large cash withdrawal",
    "service_code": "cash",
    "sla_policy": "transactions.4h",
    "form_schema": {
        "type": "object",
        "properties": {
            **APPLICANT_FIELDS,
            "account_number": {"type": "string", "format": "account-number"},
            "amount": {
                "type": "object",
                "format": "money",
                "currencies": ["CNY", "USD"],
                "maxAmount": "5000000",
            },
            "withdrawal_date": {"type": "string", "format": "date"},
            "purpose": {"type": "string", "maxLength": 200},
        },
        "required": [
            "full_name",
            "national_id",
            "phone",
            "account_number",
            "amount",
            "withdrawal_date",
        ],
    },
    "ui_schema": {
        "sections": [
            APPLICANT_SECTION,
            {
                "key": "withdrawal",
                "title": {"en": "Withdrawal", "zh": "取现信息"},
                "fields": ["account_number", "amount", "withdrawal_date", "purpose"],
            },
        ],
        "fields": {
            **APPLICANT_UI,
            "account_number": {"label": {"en": "Account number", "zh": "账号"}},
            "amount": {
                "label": {"en": "Amount", "zh": "金额"},
                "help": {
                    "en": "From 50,000 a branch manager approves as well.",
                    "zh": "50,000及以上需支行行长复核。",
                },
            },
            "withdrawal_date": {"label": {"en": "Withdrawal date", "zh": "取款日期"}},
            "purpose": {"label": {"en": "Purpose", "zh": "用途"}},
        },
        "prefill": APPLICANT_PREFILL,
        "amount_field": "amount",
    },
    "documents": [ID_COPY],
    # Amounts compare in the form's currency: the bank's thresholds are set in CNY and
    # foreign-currency withdrawals are rare enough to be reviewed at the same figure.
    "approval_rules": [
        {"when": {"amount_gte": "50000"}, "levels": ["approver", "branch_manager"]},
        {"when": {"always": True}, "levels": ["approver"]},
    ],
}

CARD_LOSS = {
    "code": "card_loss",
    "name_zh": "银行卡挂失",
    "name_en": "Report a lost card",
    "service_code": "accounts",
    "sla_policy": "transactions.4h",
    "form_schema": {
        "type": "object",
        "properties": {
            **APPLICANT_FIELDS,
            "card_number": {"type": "string", "format": "account-number"},
            "lost_on": {"type": "string", "format": "date"},
            "circumstances": {"type": "string", "enum": ["lost", "stolen"]},
            "police_report": {"type": "string", "pattern": r"^[A-Z0-9\-]{4,30}$"},
            "replace_card": {"type": "boolean"},
        },
        "required": [
            "full_name",
            "national_id",
            "phone",
            "card_number",
            "lost_on",
            "circumstances",
            "police_report",
        ],
    },
    "ui_schema": {
        "sections": [
            APPLICANT_SECTION,
            {
                "key": "loss",
                "title": {"en": "The lost card", "zh": "挂失卡片"},
                "fields": [
                    "card_number",
                    "lost_on",
                    "circumstances",
                    "police_report",
                    "replace_card",
                ],
            },
        ],
        "fields": {
            **APPLICANT_UI,
            "card_number": {"label": {"en": "Card number", "zh": "卡号"}},
            "lost_on": {"label": {"en": "Lost on", "zh": "丢失日期"}},
            "circumstances": {
                "label": {"en": "What happened", "zh": "丢失情形"},
                "widget": "radio",
                "choices": {
                    "lost": {"en": "Lost", "zh": "遗失"},
                    "stolen": {"en": "Stolen", "zh": "被盗"},
                },
            },
            "police_report": {
                "label": {"en": "Police report number", "zh": "报案回执编号"},
                "help": {
                    "en": "Capital letters, digits and dashes.",
                    "zh": "大写字母、数字和连字符。",
                },
                "show_if": {"field": "circumstances", "equals": "stolen"},
            },
            "replace_card": {"label": {"en": "Issue a new card", "zh": "补办新卡"}},
        },
        "prefill": APPLICANT_PREFILL,
    },
    "documents": [],
    "approval_rules": [],
}

PERSONAL_LOAN = {
    "code": "personal_loan",
    "name_zh": "个人贷款申请",
    "name_en": "Personal loan application",
    "service_code": "loans",
    "sla_policy": "transactions.5d",
    "form_schema": {
        "type": "object",
        "properties": {
            **APPLICANT_FIELDS,
            "amount": {
                "type": "object",
                "format": "money",
                "currencies": ["CNY"],
                "minAmount": "1000",
                "maxAmount": "5000000",
            },
            "term_months": {"type": "integer", "minimum": 6, "maximum": 360},
            "loan_purpose": {
                "type": "string",
                "enum": ["home_improvement", "education", "car", "consumption"],
            },
            "employer": {"type": "string", "maxLength": 120},
            "monthly_income": {"type": "object", "format": "money", "currencies": ["CNY"]},
        },
        "required": [
            "full_name",
            "national_id",
            "phone",
            "amount",
            "term_months",
            "loan_purpose",
            "monthly_income",
        ],
    },
    "ui_schema": {
        "sections": [
            APPLICANT_SECTION,
            {
                "key": "loan",
                "title": {"en": "Loan", "zh": "贷款信息"},
                "fields": ["amount", "term_months", "loan_purpose"],
            },
            {
                "key": "income",
                "title": {"en": "Income", "zh": "收入情况"},
                "fields": ["employer", "monthly_income"],
            },
        ],
        "fields": {
            **APPLICANT_UI,
            "amount": {"label": {"en": "Loan amount", "zh": "贷款金额"}},
            "term_months": {"label": {"en": "Term (months)", "zh": "期限（月）"}},
            "loan_purpose": {
                "label": {"en": "Purpose", "zh": "贷款用途"},
                "choices": {
                    "home_improvement": {"en": "Home improvement", "zh": "住房装修"},
                    "education": {"en": "Education", "zh": "教育"},
                    "car": {"en": "Car", "zh": "购车"},
                    "consumption": {"en": "Other consumption", "zh": "其他消费"},
                },
            },
            "employer": {"label": {"en": "Employer", "zh": "工作单位"}},
            "monthly_income": {"label": {"en": "Monthly income", "zh": "月收入"}},
        },
        "prefill": APPLICANT_PREFILL,
        "amount_field": "amount",
    },
    "documents": [
        ID_COPY,
        {
            "code": "income_proof",
            "name_zh": "收入证明",
            "name_en": "Proof of income",
            "required": True,
        },
    ],
    # Priority and private-banking customers are known to the bank: one credit officer decides.
    "approval_rules": [
        {"when": {"segment_in": ["priority", "private"]}, "levels": ["approver"]},
        {"when": {"always": True}, "levels": ["approver", "branch_manager"]},
    ],
}

REQUEST_TYPES = [
    OPEN_ACCOUNT,
    ACTIVATE_CARD,
    MOBILE_BANKING,
    CHANGE_CONTACT,
    LARGE_WITHDRAWAL,
    CARD_LOSS,
    PERSONAL_LOAN,
]

NEW_CUSTOMER_BUNDLE = {
    "code": "new_customer",
    "name_zh": "新客户开户套餐：开户＋激活银行卡＋开通手机银行",
    "name_en": "New customer: open account, activate card, mobile banking",
    "request_types": ["open_account", "activate_card", "mobile_banking"],
    "shared_fields": ["full_name", "national_id", "phone", "email"],
}


def request_type_install(definition: dict, *, actor=None):
    """Create (or update) a request type from a definition and publish it as the current
    version unless the current version already says the same."""
    from .eforms import request_type_version_publish
    from .models import RequestType

    request_type, _ = RequestType.objects.update_or_create(
        code=definition["code"],
        defaults={
            "name_zh": definition["name_zh"],
            "name_en": definition["name_en"],
            "service_code": definition["service_code"],
            "sort_order": REQUEST_TYPES.index(definition) if definition in REQUEST_TYPES else 0,
        },
    )
    current = request_type.versions.filter(is_current=True).first()
    spec = {
        key: definition[key]
        for key in ("form_schema", "ui_schema", "documents", "approval_rules", "sla_policy")
    }
    if current is None or any(getattr(current, key) != value for key, value in spec.items()):
        request_type_version_publish(actor=actor, request_type=request_type, **spec)
    return request_type


def bundle_install(definition: dict):
    """Create (or update) a bundle over installed request types."""
    from .models import Bundle, BundleItem, RequestType

    bundle, _ = Bundle.objects.update_or_create(
        code=definition["code"],
        defaults={
            "name_zh": definition["name_zh"],
            "name_en": definition["name_en"],
            "shared_fields": definition["shared_fields"],
        },
    )
    types = RequestType.objects.in_bulk(definition["request_types"], field_name="code")
    for position, code in enumerate(definition["request_types"]):
        BundleItem.objects.update_or_create(
            bundle=bundle, request_type=types[code], defaults={"position": position}
        )
    return bundle


def seed_demo(*, branches) -> dict[str, int]:
    """The demo request types and the new-customer bundle (idempotent: an unchanged definition
    publishes no new version). No demo requests: they would tie events and notifications to
    demo customers, who may be deleted and re-created (the kernel's seed keeps them event-free)."""
    from .models import RequestTypeVersion

    before = RequestTypeVersion.objects.count()
    for definition in REQUEST_TYPES:
        request_type_install(definition)
    bundle_install(NEW_CUSTOMER_BUNDLE)
    return {"request type versions": RequestTypeVersion.objects.count() - before}


def demo_links(*, base_url: str) -> list[str]:
    return [
        f"\nService requests (staff): {base_url}/transactions/",
        f"Request types (administration): {base_url}/admin/transactions/requesttype/",
    ]
