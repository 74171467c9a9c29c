"""Demo knowledge base: categories, products and bilingual articles of a Chinese retail bank,
written by a branch advisor and approved by the head-office manager, published and indexed."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.utils import timezone

from bankservice.customers.models import Product
from consultation.models import Article, ArticleVersion, Category, VersionStatus

from .search import index_article

AUTHOR = "advisor.sh-lujiazui"
APPROVER = "hq_manager"

CATEGORIES = [
    ("accounts", "账户开立与管理", "Accounts", 10),
    ("cards", "银行卡", "Cards", 20),
    ("payments", "转账汇款", "Transfers and payments", 30),
    ("forex", "外汇业务", "Foreign exchange", 40),
    ("wealth", "理财投资", "Wealth management", 50),
    ("loans", "贷款", "Loans and mortgages", 60),
    ("digital", "手机银行", "Mobile and online banking", 70),
]

PRODUCTS = [
    ("savings-account", "deposit", "个人储蓄账户", "Personal savings account"),
    ("debit-card", "card", "借记卡", "Debit card"),
    ("credit-card", "card", "信用卡", "Credit card"),
    ("mobile-banking", "digital", "手机银行", "Mobile banking"),
    ("wealth-products", "wealth", "理财产品", "Wealth management products"),
    ("mortgage", "mortgage", "个人住房贷款", "Home mortgage"),
    ("fx-purchase", "forex", "个人购汇", "Personal foreign currency purchase"),
]

# (category, kind, products, tags, title_zh, body_zh, title_en, body_en)
ARTICLES = [
    (
        "accounts",
        "procedure",
        ["savings-account", "debit-card"],
        ["开户", "account"],
        "个人开户需要哪些材料",
        "客户本人持有效身份证件（居民身份证、港澳居民来往内地通行证或护照）到网点办理。"
        "柜员核验证件并进行联网核查，客户需提供本人手机号码用于短信验证，并填写开户申请。"
        "开立Ⅰ类账户须说明开户用途；同一客户在本行只能开立一个Ⅰ类账户。未成年人由监护人陪同，"
        "并提供户口簿或出生证明。",
        "Documents needed to open a personal account",
        "The customer comes in person with a valid ID (resident identity card, Home Return Permit "
        "or passport). The teller verifies the ID online, the customer gives their own mobile "
        "number for SMS verification and fills in the application. For a Class I account the "
        "customer states the purpose; one customer may hold only one Class I account at our bank. "
        "Minors come with a guardian and bring the household register or birth certificate.",
    ),
    (
        "cards",
        "procedure",
        ["debit-card"],
        ["挂失", "lost card"],
        "借记卡丢失如何挂失",
        "银行卡丢失或被盗后，请客户立即通过手机银行、客服热线95588或到任一网点办理口头挂失，"
        "口头挂失有效期为5天。正式挂失须本人持身份证到网点办理，挂失7天后可补办新卡，"
        "补卡工本费10元。挂失期间账户资金冻结，不影响利息计算。",
        "How to report a lost debit card",
        "When a card is lost or stolen, the customer should report it at once in mobile banking, "
        "on the hotline 95588 or at any branch (a verbal report holds for 5 days). The formal "
        "report is made in person at a branch with the ID card; a replacement card can be issued "
        "7 days later for a fee of CNY 10. Funds are frozen while the card is reported lost; "
        "interest is not affected.",
    ),
    (
        "cards",
        "qa",
        ["debit-card"],
        ["密码", "PIN"],
        "忘记银行卡密码怎么办",
        "客户忘记密码时，须本人持身份证和银行卡到网点办理密码重置。连续输错密码3次后卡片当日锁定，"
        "次日自动解锁；若需当日使用，可到柜台办理解锁。手机银行登录密码可在线通过人脸识别重置。",
        "Forgotten card PIN",
        "A customer who forgot the PIN resets it in person at a branch with the ID card and the "
        "card. After three wrong PIN entries the card is locked for the day and unlocks "
        "automatically the next day; a teller can unlock it the same day. The mobile banking "
        "login password can be reset online with face recognition.",
    ),
    (
        "payments",
        "qa",
        ["mobile-banking", "debit-card"],
        ["限额", "limit"],
        "手机银行转账限额是多少",
        "手机银行默认单笔转账限额为5万元，日累计限额20万元。使用U盾或动态令牌的客户，"
        "单笔可提高至50万元，日累计100万元。客户可在手机银行“安全中心”调低限额，"
        "调高限额需到网点办理并核验身份。",
        "Mobile banking transfer limits",
        "By default mobile banking allows CNY 50,000 per transfer and CNY 200,000 per day. With a "
        "USB key or token the limits rise to CNY 500,000 per transfer and CNY 1,000,000 per day. "
        "Customers can lower their limits in the security centre of the app; raising them needs a "
        "visit to a branch with ID.",
    ),
    (
        "payments",
        "qa",
        ["savings-account"],
        ["跨行", "transfer"],
        "跨行转账多久到账",
        "通过网上银行和手机银行发起的跨行转账，5万元（含）以下一般实时到账；"
        "超过5万元的大额转账在工作日营业时间内通过大额支付系统处理，通常2小时内到账。"
        "节假日大额转账将顺延至下一工作日。客户可选择“普通到账”或“次日到账”以便撤销。",
        "How long does a transfer to another bank take",
        "Transfers to other banks of up to CNY 50,000 made online or in the app usually arrive at "
        "once. Larger transfers go through the high-value payment system during business hours on "
        "working days and usually arrive within two hours; on holidays they wait for the next "
        "working day. Customers may choose delayed arrival so that a transfer can still be "
        "cancelled.",
    ),
    (
        "forex",
        "qa",
        ["fx-purchase"],
        ["购汇", "quota"],
        "个人购汇年度额度",
        "境内个人每人每年的便利化购汇额度为等值5万美元，按自然年计算，当年未用完的额度不能结转。"
        "购汇时客户须如实申报用途，不得用于境外买房、证券投资、购买人寿保险等资本项目。"
        "超过额度的经常项目购汇须提供真实性证明材料到柜台办理。",
        "Annual foreign currency purchase quota",
        "Each resident individual has an annual quota equivalent to USD 50,000 for buying foreign "
        "currency, counted per calendar year; unused quota does not carry over. The customer must "
        "declare the purpose truthfully; the quota may not be used for capital items such as "
        "property abroad, securities or life insurance. Purchases above the quota for current "
        "items need supporting documents at the counter.",
    ),
    (
        "forex",
        "procedure",
        ["fx-purchase"],
        ["汇款", "remittance"],
        "境外汇款办理流程",
        "客户持身份证到网点或通过手机银行办理境外汇款，需提供收款人姓名、账号、收款银行SWIFT代码及地址。"
        "汇款占用个人年度购汇额度（以外币现汇汇出的除外）。手续费按汇款金额的0.1%收取，"
        "最低50元，最高260元，另加电讯费。一般1至3个工作日到账。",
        "Sending money abroad",
        "The customer sends money abroad at a branch with ID or in mobile banking, giving the "
        "beneficiary's name, account number, the bank's SWIFT code and address. A remittance "
        "counts against the annual purchase quota unless it is sent from an existing foreign "
        "currency balance. The fee is 0.1% of the amount (minimum CNY 50, maximum CNY 260) plus a "
        "cable charge. It usually arrives in 1 to 3 working days.",
    ),
    (
        "wealth",
        "procedure",
        ["wealth-products"],
        ["风险评估", "risk rating"],
        "理财产品风险评估",
        "客户首次购买理财产品前须完成风险承受能力评估，评估结果分为C1保守型至C5激进型五级，"
        "有效期一年。客户只能购买风险等级不高于自身评级的产品。65岁以上客户购买高风险产品须双录（录音录像）。"
        "评估须由客户本人完成，员工不得代填。",
        "Risk assessment for wealth products",
        "Before the first purchase of a wealth management product the customer completes a risk "
        "tolerance assessment. Results range from C1 (conservative) to C5 (aggressive) and are "
        "valid for one year. Customers may only buy products whose risk rating does not exceed "
        "their own. Customers over 65 buying high-risk products are recorded on audio and video. "
        "The customer answers the questionnaire personally; staff must never fill it in.",
    ),
    (
        "wealth",
        "product",
        ["wealth-products"],
        ["理财", "redemption"],
        "开放式理财产品赎回到账时间",
        "每日开放型理财产品在交易日15:00前提交的赎回申请，资金T+1日到账；15:00后提交的视为下一交易日申请。"
        "定期开放型产品只能在开放期内赎回。产品净值每日公布，过往业绩不代表未来表现，理财非存款，"
        "产品有风险，投资须谨慎。",
        "When redeemed wealth products are paid out",
        "For daily open products, redemptions requested before 15:00 on a trading day are paid on "
        "the next day (T+1); later requests count as the next trading day's. Products with fixed "
        "opening periods can only be redeemed during those periods. Net values are published "
        "daily; past performance does not predict future returns. Wealth products are not "
        "deposits and carry risk.",
    ),
    (
        "loans",
        "procedure",
        ["mortgage"],
        ["提前还款", "prepayment"],
        "房贷提前还款怎么办理",
        "客户可通过手机银行或网点预约提前还款，须提前15个工作日申请。可选择部分提前还款或全部结清，"
        "部分提前还款后可选择缩短期限或减少月供。贷款发放满一年后提前还款免收违约金，"
        "不满一年的按提前还款本金的1%收取。结清后须到网点办理抵押注销材料。",
        "Repaying a mortgage early",
        "Customers book an early repayment in mobile banking or at a branch at least 15 working "
        "days ahead. They may repay part or all of the loan; after a partial prepayment they "
        "choose a shorter term or a lower monthly payment. There is no penalty once the loan is a "
        "year old; within the first year the fee is 1% of the principal repaid. After the final "
        "repayment the customer collects the documents to release the mortgage at the branch.",
    ),
    (
        "loans",
        "qa",
        ["mortgage"],
        ["利率", "LPR"],
        "房贷利率如何调整",
        "个人住房贷款利率以贷款市场报价利率（LPR）加点确定，加点数值在合同期内固定不变。"
        "重定价日一般为每年1月1日，按上一年12月的5年期以上LPR调整。客户可在手机银行查询当前执行利率。",
        "How the mortgage interest rate changes",
        "Home mortgage rates are the loan prime rate (LPR) plus a fixed spread set in the "
        "contract. The rate is usually reset on 1 January each year using the previous "
        "December's five-year LPR. Customers can see the current rate in mobile banking.",
    ),
    (
        "digital",
        "procedure",
        ["mobile-banking"],
        ["手机银行", "registration"],
        "开通手机银行",
        "客户下载本行官方App，使用本人Ⅰ类或Ⅱ类账户卡号、预留手机号和短信验证码注册，"
        "并完成人脸识别。首次登录须设置登录密码。更换手机号须到网点或通过人脸识别在线修改预留手机号。",
        "Signing up for mobile banking",
        "The customer downloads our official app and registers with their own Class I or II "
        "account card number, the mobile number on file and an SMS code, then completes face "
        "recognition and sets a login password. A new mobile number is updated at a branch or "
        "online with face recognition.",
    ),
    (
        "accounts",
        "qa",
        ["savings-account"],
        ["销户", "close account"],
        "如何注销银行账户",
        "客户本人持身份证和银行卡到开户网点或任一网点办理销户。账户内余额将以现金或转账方式支取，"
        "如有未结清的贷款、签约的代扣业务或理财产品，须先解约或结清。",
        "Closing a bank account",
        "The customer closes the account in person at any branch with ID and the card. The "
        "balance is paid out in cash or by transfer. Loans still owed, direct debits and wealth "
        "products linked to the account must be settled or cancelled first.",
    ),
    (
        "cards",
        "qa",
        ["credit-card"],
        ["信用卡", "annual fee"],
        "信用卡年费减免规则",
        "普卡和金卡首年免年费，当年刷卡消费满6次即可免次年年费。白金卡年费以产品说明为准，"
        "可用积分抵扣。未激活的卡片不收取年费。",
        "Credit card annual fee waivers",
        "Classic and gold cards have no fee in the first year; six purchases in a year waive the "
        "next year's fee. Platinum card fees follow the product terms and may be paid with "
        "points. Cards never activated are not charged.",
    ),
    (
        "accounts",
        "qa",
        ["savings-account"],
        ["存款保险", "deposit insurance"],
        "存款保险保障范围",
        "依据《存款保险条例》，同一存款人在同一家银行所有被保险存款账户的本金和利息合并计算，"
        "最高偿付限额为人民币50万元。理财产品、基金和保险不属于存款保险保障范围。",
        "What deposit insurance covers",
        "Under the Deposit Insurance Regulations, principal and interest of all insured accounts "
        "of one depositor at one bank are added up and covered up to CNY 500,000. Wealth "
        "products, funds and insurance are not deposits and are not covered.",
    ),
]


def seed_knowledge_base() -> dict[str, int]:
    """Categories, products and the published demo articles (once: skipped when any article
    exists)."""
    for code, zh, en, order in CATEGORIES:
        Category.objects.get_or_create(
            code=code, defaults={"name_zh": zh, "name_en": en, "sort_order": order}
        )
    for code, family, zh, en in PRODUCTS:
        Product.objects.get_or_create(
            code=code, defaults={"family": family, "name_zh": zh, "name_en": en}
        )
    users = get_user_model().objects.in_bulk([AUTHOR, APPROVER], field_name="username")
    if Article.objects.exists() or len(users) < 2:
        return {"knowledge articles": 0}
    author, approver = users[AUTHOR], users[APPROVER]
    categories = Category.objects.in_bulk(field_name="code")
    products = Product.objects.in_bulk(field_name="code")
    today, now = timezone.localdate(), timezone.now()
    for index, row in enumerate(ARTICLES):
        category, kind, product_codes, tags, title_zh, body_zh, title_en, body_en = row
        # Rows written directly, like the rest of the demo data: no events about people who do
        # not exist. The first article is overdue, to show its owner the "due for review" list.
        article = Article.objects.create(
            kind=kind,
            category=categories[category],
            tags=tags,
            owner=author,
            review_due=today + dt.timedelta(days=180 if index else -1),
        )
        article.products.set([products[code] for code in product_codes])
        article.published = ArticleVersion.objects.create(
            article=article,
            number=1,
            title_zh=title_zh,
            body_zh=body_zh,
            title_en=title_en,
            body_en=body_en,
            change_note="First version",
            status=VersionStatus.PUBLISHED,
            author=author,
            submitted_at=now,
            reviewer=approver,
            reviewed_at=now,
            published_at=now,
        )
        article.save(update_fields=["published"])
        index_article(article)
    return {"knowledge articles": len(ARTICLES)}
