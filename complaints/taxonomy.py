"""The complaint categories we ship, and their installer (a data migration runs it).

Top-level categories follow the business categories the CBIRC (now NFRA) consumer-protection
statistics count bank complaints under (贷款、银行卡、存款、理财、支付结算、个人金融信息、收费、
服务态度与质量 …); ``regulator_code`` is the category a regulatory return counts the complaint
under. The codes are our own labels for those categories, not an official numbering. Sub-categories
are a practical starting set; administrators add, rename or deactivate categories in the admin.
"""

from django.apps import apps as global_apps

# (code, name_zh, name_en, regulator_code, [(sub code, name_zh, name_en), …])
CATEGORIES = [
    (
        "loan",
        "贷款",
        "Loans",
        "cbirc-loan",
        [
            ("loan-mortgage", "个人住房贷款", "Residential mortgage"),
            ("loan-consumer", "个人消费贷款", "Consumer loan"),
            ("loan-business", "个人经营性贷款", "Personal business loan"),
            ("loan-collection", "催收", "Debt collection"),
        ],
    ),
    (
        "card",
        "银行卡",
        "Bank cards",
        "cbirc-card",
        [
            ("card-credit", "信用卡", "Credit card"),
            ("card-debit", "借记卡", "Debit card"),
            ("card-fraud", "盗刷", "Unauthorised card use"),
        ],
    ),
    (
        "deposit",
        "存款",
        "Deposits",
        "cbirc-deposit",
        [
            ("deposit-account", "开户与销户", "Opening and closing accounts"),
            ("deposit-interest", "存款利息", "Deposit interest"),
        ],
    ),
    (
        "wealth",
        "理财",
        "Wealth management",
        "cbirc-wealth",
        [
            ("wealth-mis-selling", "销售适当性", "Suitability of the sale"),
            ("wealth-loss", "收益与亏损", "Returns and losses"),
        ],
    ),
    (
        "agency",
        "代理业务",
        "Agency products (insurance, funds)",
        "cbirc-agency",
        [],
    ),
    (
        "payment",
        "支付结算",
        "Payments and settlement",
        "cbirc-payment",
        [
            ("payment-transfer", "转账汇款", "Transfers"),
            ("payment-online", "网上与手机银行", "Online and mobile banking"),
        ],
    ),
    ("personal-info", "个人金融信息", "Personal financial information", "cbirc-personal-info", []),
    ("charges", "收费", "Fees and charges", "cbirc-charges", []),
    (
        "service",
        "服务态度与质量",
        "Service attitude and quality",
        "cbirc-service",
        [
            ("service-attitude", "服务态度", "Staff attitude"),
            ("service-waiting", "排队等候", "Waiting time"),
            ("service-facilities", "服务设施", "Facilities"),
        ],
    ),
    ("other", "其他", "Other", "cbirc-other", []),
]


def install_categories(apps=global_apps) -> list[str]:
    """Create the shipped categories that are missing; returns the codes created.

    Takes the migration's historical ``apps``; an existing category is left as an administrator
    may have changed it.
    """
    Category = apps.get_model("complaints", "Category")
    existing = set(Category.objects.values_list("code", flat=True))
    created = []
    for code, name_zh, name_en, regulator_code, children in CATEGORIES:
        if code in existing:
            parent = Category.objects.get(code=code)
        else:
            parent = Category.objects.create(
                code=code, name_zh=name_zh, name_en=name_en, regulator_code=regulator_code
            )
            created.append(code)
        for sub_code, sub_zh, sub_en in children:
            if sub_code not in existing:
                # A sub-category is counted under its parent's regulator category.
                Category.objects.create(
                    code=sub_code,
                    parent=parent,
                    name_zh=sub_zh,
                    name_en=sub_en,
                    regulator_code=regulator_code,
                )
                created.append(sub_code)
    return created


# (code, name_zh, name_en): why complaints happen, for the Pareto of root causes.
ROOT_CAUSES = [
    ("process", "流程设计缺陷", "Process design"),
    ("staff-error", "员工操作差错", "Staff error"),
    ("staff-conduct", "服务态度与行为", "Staff conduct"),
    ("system", "系统故障", "System failure"),
    ("product", "产品设计与定价", "Product design or pricing"),
    ("disclosure", "信息披露不充分", "Insufficient disclosure"),
    ("communication", "沟通解释不到位", "Poor communication"),
    ("waiting", "等候时间过长", "Waiting time"),
    ("third-party", "第三方原因", "Third party"),
    ("policy", "监管或行内政策要求", "Regulatory or bank policy"),
    ("customer", "客户误解", "Customer misunderstanding"),
    ("other", "其他", "Other"),
]


def install_root_causes(apps=global_apps) -> list[str]:
    """Create the shipped root causes that are missing; returns the codes created."""
    RootCause = apps.get_model("complaints", "RootCause")
    existing = set(RootCause.objects.values_list("code", flat=True))
    created = []
    for code, name_zh, name_en in ROOT_CAUSES:
        if code not in existing:
            RootCause.objects.create(code=code, name_zh=name_zh, name_en=name_en)
            created.append(code)
    return created
