"""Demo complaints: a dozen complaints in varied states, made through the services.

Called by `manage.py seed_demo` through ComplaintsConfig.seed_demo; idempotent (a demo
complaint whose description is already at its branch is not made again). The complainants are
contacts, not the demo customers: those bypass the services on purpose and have no history (the
consultation demo does the same), so merging repeats of one customer is left out. The complaints
are received days ago so that their clocks are part-way, and one is past its decision deadline:
the next deadline sweep (Celery beat, every minute) escalates it to the branch manager.
"""

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from .corrective import action_create
from .models import Category, Complaint, PackAssignment, PackClock, RootCause, RulePack
from .services import (
    complaint_accept,
    complaint_acknowledge,
    complaint_assign,
    complaint_create,
    complaint_decide,
    complaint_investigate,
    complaint_propose,
    complaint_request_review,
    complaint_set_root_cause,
    complaint_wait_on_customer,
    complaint_withdraw,
    extension_request,
    pack_assign,
)

CN_BRANCH = "sh-lujiazui"
UK_BRANCH = "uk-london"

# (days ago, channel, category, description, steps), each from a contact of CONTACTS.
CN_DEMO = [
    (0, "counter", "service", "排队等候超过一小时，叫号系统多次跳号。", []),
    (1, "phone", "card", "借记卡在ATM被吞，网点未按约定回电。", ["acknowledge"]),
    (3, "counter", "charges", "账户管理费扣收前未收到任何通知。", ["acknowledge", "investigate"]),
    (
        5,
        "email",
        "payment",
        "跨行转账显示成功但对方账户未到账。",
        ["acknowledge", "investigate", "wait"],
    ),
    (6, "counter", "deposit", "定期存款提前支取利息计算有误。", ["investigate", "propose"]),
    (8, "phone", "card", "信用卡年费已承诺减免却仍被扣收。", ["investigate", "propose", "accept"]),
    (
        10,
        "letter",
        "card",
        "信用卡被盗刷五笔，挂失后仍有一笔扣款。",
        ["acknowledge", "investigate", "uphold", "root_cause", "action"],
    ),
    (
        12,
        "online_form",
        "wealth",
        "理财产品风险等级与本人风险承受能力不符。",
        ["investigate", "reject", "review"],
    ),
    (
        14,
        "counter",
        "loan",
        "提前还款违约金收取标准与合同不一致。",
        ["acknowledge", "investigate", "extend"],
    ),
    (
        20,
        "social_media",
        "personal-info",
        "未经同意向本人发送营销短信。",
        ["acknowledge", "investigate"],
    ),
    (4, "phone", "service", "柜员办理业务时态度恶劣。", ["withdraw"]),
    (
        9,
        "counter",
        "loan",
        "房贷利率调整未按合同约定时间执行。",
        ["acknowledge", "investigate", "partly"],
    ),
]
# Name, phone, e-mail (example.* domains: a demo message can never reach a real person).
CONTACTS = [
    ("王先生", "", "wang@example.cn"),
    ("李女士", "+8613800138001", ""),
    ("张先生", "", "zhang@example.cn"),
    ("刘女士", "", "liu@example.cn"),
    ("陈先生", "+8613800138002", "chen@example.cn"),
    ("杨女士", "", "yang@example.cn"),
    ("赵先生", "", "zhao@example.cn"),
    ("黄女士", "", "huang@example.cn"),
    ("周先生", "+8613800138003", ""),
    ("吴女士", "", "wu@example.cn"),
    ("徐先生", "", "xu@example.cn"),
    ("孙女士", "", "sun@example.cn"),
]
UK_CONTACTS = [("Alice Smith", "", "alice@example.co.uk"), ("Tom Jones", "", "tom@example.co.uk")]
UK_DEMO = [
    (
        1,
        "online_form",
        "card",
        "My card was declined abroad although I had told the bank.",
        ["acknowledge"],
    ),
    (2, "email", "charges", "An overdraft fee was charged twice this month.", ["uphold"]),
]


def seed_demo(*, branches) -> dict[str, int]:
    """The English branches count on the UK pack (the rest on the bank's CN default); then the
    demo complaints, if the demo's staff are there."""
    assigned = _assign_uk_pack(branches)
    by_code = {branch.code: branch for branch in branches}
    created = 0
    users = _demo_users()
    if CN_BRANCH in by_code and {"officer", "manager", "teller"} <= users.keys():
        created += _seed_branch(by_code[CN_BRANCH], CN_DEMO, CONTACTS, users, language="zh-hans")
    if UK_BRANCH in by_code and "hq" in users:
        uk_users = {"officer": users["hq"], "manager": users["hq"], "teller": None}
        created += _seed_branch(by_code[UK_BRANCH], UK_DEMO, UK_CONTACTS, uk_users, language="en")
    return {"rule pack assignments": assigned, "complaints": created}


def _assign_uk_pack(branches) -> int:
    uk = RulePack.objects.get(code="uk")
    regions = {b.region for b in branches if b.calendar.code == "gb-eaw"}
    assigned = 0
    for region in regions:
        if not PackAssignment.objects.filter(region=region).exists():
            pack_assign(pack=uk, region=region, actor=None)
            assigned += 1
    return assigned


def _demo_users() -> dict:
    usernames = {
        "officer": f"complaint_officer.{CN_BRANCH}",
        "manager": f"branch_manager.{CN_BRANCH}",
        "teller": f"teller.{CN_BRANCH}",
        "hq": "hq_manager",
    }
    found = get_user_model().objects.in_bulk(usernames.values(), field_name="username")
    return {role: found[name] for role, name in usernames.items() if name in found}


def _seed_branch(branch, specs, contacts, users, *, language: str) -> int:
    existing = set(Complaint.objects.filter(branch=branch).values_list("description", flat=True))
    now = timezone.now()
    created = 0
    for (days, channel, category, description, steps), contact in zip(specs, contacts, strict=True):
        if description in existing:
            continue
        name, phone, email = contact
        complaint = complaint_create(
            actor=users["teller"],
            branch=branch,
            channel=channel,
            category=Category.objects.get(code=category),
            description=description,
            received_at=now - dt.timedelta(days=days, hours=2),
            contact_name=name,
            contact_phone=phone,
            contact_email=email,
            language=language,
        )
        _walk(complaint, steps, users)
        created += 1
    return created


def _walk(complaint, steps, users):
    officer, manager = users["officer"], users["manager"]
    if steps and steps[0] != "withdraw" and officer != manager:
        complaint = complaint_assign(actor=manager, complaint=complaint, officer=officer)
    for step in steps:
        if step == "acknowledge":
            complaint = complaint_acknowledge(actor=officer, complaint=complaint)
        elif step == "investigate":
            complaint = complaint_investigate(actor=officer, complaint=complaint)
        elif step == "wait":
            complaint = complaint_wait_on_customer(
                actor=officer, complaint=complaint, note="Asked for the transfer receipt."
            )
        elif step == "propose":
            complaint = complaint_propose(
                actor=officer, complaint=complaint, proposal="退还多收的利息差额并致歉。"
            )
        elif step == "accept":
            complaint = complaint_accept(actor=None, complaint=complaint)
        elif step == "uphold":
            complaint = complaint_decide(
                actor=officer,
                complaint=complaint,
                outcome="upheld",
                reasons=_reasons(complaint),
                redress_amount=Decimal("500.00"),
            )
        elif step == "partly":
            complaint = complaint_decide(
                actor=officer,
                complaint=complaint,
                outcome="partially_upheld",
                reasons="利率调整晚于合同约定一个月，多收利息予以退还；调整幅度符合合同。",
                redress_amount=Decimal("1280.50"),
            )
        elif step == "reject":
            complaint = complaint_decide(
                actor=officer,
                complaint=complaint,
                outcome="rejected",
                reasons="销售时已完成风险评估并由客户签字确认。",
            )
        elif step == "review":
            complaint_request_review(
                actor=None, complaint=complaint, reason="风险评估问卷由客户经理代填，申请核查。"
            )
        elif step == "extend":
            extension_request(
                actor=officer,
                complaint=complaint,
                clock=PackClock.objects.get(pack=complaint.pack, code="extension"),
                reason="需要调取合同原件并向总行法律部门征询意见。",
            )
        elif step == "root_cause":
            complaint = complaint_set_root_cause(
                actor=manager,
                complaint=complaint,
                root_cause=RootCause.objects.get(code="system"),
                note="挂失指令未实时同步到发卡系统。",
            )
        elif step == "action":
            action_create(
                actor=manager,
                complaint=complaint,
                root_cause=complaint.root_cause,
                description="挂失指令改为实时同步，并复核近三个月的挂失后交易。",
                owner=officer,
                due_date=timezone.localdate() + dt.timedelta(days=30),
            )
        elif step == "withdraw":
            complaint = complaint_withdraw(actor=manager, complaint=complaint)
    return complaint


def _reasons(complaint) -> str:
    if complaint.language == "en":
        return "The fee was charged twice by mistake; we refund it and waive next month's fee."
    return "经核查，盗刷交易发生在挂失之后，责任在我行。"
