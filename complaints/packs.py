"""The rule packs we ship: each regulator's complaint deadlines as data, and their installer.

One definition serves the data migration (installs them), the demo and the tests. How a clock
counts is explained in docs/complaint-clocks.md; each clock cites its rule in ``citation``.

Day counting ("whole_days"): regulators count days after the day of receipt and a period ends at
the end of its last day. China: 《民法典》 art. 201 (the first day is not counted), art. 203 (a
period whose last day is a statutory holiday ends on the day after the holiday; the last day ends
at 24:00). UK: DISP counts "after the day on which it received the complaint" / "by close of
business on the third business day following the day on which it is received"; a period ending on
a non-working day stays where it is. US: the CFPB counts calendar days and does not move them.
"""

from django.apps import apps as global_apps

CN_MEASURES = "《银行业保险业消费投诉处理管理办法》（银保监会令2020年第3号）"
CN_PERIOD = (
    "《民法典》第二百零一条、第二百零三条（期间计算；末日为法定休假日的顺延至休假日结束的次日）"
)

# Calendars the packs count on, created (empty) if missing: holidays and make-up working days are
# loaded by `manage.py import_calendar` or seed_demo from bankservice/branches/data/. The names
# match seed_demo's, which keeps an existing calendar's name.
CALENDARS = {
    "cn": ("中国大陆 Mainland China", [6, 7]),
    "gb-eaw": ("England and Wales", [6, 7]),
    "us": ("United States (federal)", [6, 7]),
}

CN_DAYS = {"unit": "calendar_days", "counting": "whole_days", "non_working_end": "next_working_day"}
UK_DAYS = {"unit": "calendar_days", "counting": "whole_days", "non_working_end": "stay"}
UK_BUSINESS_DAYS = {"unit": "business_days", "counting": "whole_days"}
US_DAYS = {"unit": "calendar_days", "counting": "whole_days", "non_working_end": "stay"}

PACKS = [
    {
        "code": "cn",
        "name_zh": "中国银保监会消费投诉时限",
        "name_en": "China (CBIRC consumer complaints)",
        "jurisdiction": "CN",
        "calendar": "cn",
        # The bank's rule: a complaint about a staff member is not handled by their managers.
        "recuse_role_chain": True,
        "clocks": [
            {
                "code": "decision",
                "name_zh": "作出处理决定并告知投诉人",
                "name_en": "Decision and notice",
                "duration": 15,
                **CN_DAYS,
                "citation": f"{CN_MEASURES}：自收到消费投诉之日起15日内作出处理决定并告知投诉人。"
                f"{CN_PERIOD}",
            },
            {
                "code": "extension",
                "name_zh": "情况复杂延长至30日",
                "name_en": "Complex case: extended to 30 days",
                "duration": 30,
                **CN_DAYS,
                "extends": "decision",
                "notify_complainant": True,
                "citation": f"{CN_MEASURES}：情况复杂的可以延长至30日（自收到投诉之日起）。"
                f"{CN_PERIOD}",
            },
            {
                "code": "further_extension",
                "name_zh": "情况特别复杂再延长30日",
                "name_en": "Particularly complex case: a further 30 days",
                "duration": 60,
                **CN_DAYS,
                "extends": "extension",
                "requires_approval": True,
                "notify_complainant": True,
                "citation": f"{CN_MEASURES}：情况特别复杂或者有其他特殊原因的，经其上级机构或者总行、"
                f"总公司高级管理人员审批并告知投诉人，可以再延长30日（自收到投诉之日起最长60日）。"
                f"{CN_PERIOD}",
            },
            {
                "code": "review_request_window",
                "name_zh": "申请核查期限",
                "name_en": "Window to request a review",
                "starts_on": "decision",
                "duration": 30,
                **CN_DAYS,
                "warn_fraction": None,
                "is_window": True,
                "met_by": "review_request",
                "citation": f"{CN_MEASURES}：投诉人对处理决定有异议的，可以自收到处理决定之日起30日内"
                f"申请核查。{CN_PERIOD}",
            },
            {
                "code": "review_decision",
                "name_zh": "作出核查决定",
                "name_en": "Review decision",
                "starts_on": "review_requested",
                "duration": 30,
                **CN_DAYS,
                "citation": f"{CN_MEASURES}：自收到核查申请之日起30日内作出核查决定并告知投诉人。"
                f"{CN_PERIOD}",
            },
        ],
    },
    {
        "code": "uk",
        "name_zh": "英国金融行为监管局投诉时限",
        "name_en": "United Kingdom (FCA DISP)",
        "jurisdiction": "UK",
        "calendar": "gb-eaw",
        "clocks": [
            {
                "code": "acknowledge",
                "name_zh": "及时书面确认收到投诉",
                "name_en": "Prompt acknowledgement",
                "duration": 5,
                **UK_BUSINESS_DAYS,
                "met_by": "acknowledgement",
                "citation": "FCA DISP 1.6.1R(1): a prompt written acknowledgement. Five business "
                "days is the bank's reading of 'prompt'.",
            },
            {
                "code": "summary_resolution",
                "name_zh": "第三个营业日结束前解决（简要解决函）",
                "name_en": "Resolved by close of the third business day (summary resolution)",
                "duration": 3,
                **UK_BUSINESS_DAYS,
                "warn_fraction": None,
                "is_window": True,
                "citation": "FCA DISP 1.5.1R, 1.5.4R: resolved by close of business on the third "
                "business day following the day on which it is received; summary resolution "
                "communication.",
            },
            {
                "code": "final_response",
                "name_zh": "八周内最终答复（或延迟函）",
                "name_en": "Final response (or delay letter) within 8 weeks",
                "duration": 56,
                **UK_DAYS,
                "applies_to": "not_payment_services",
                "letter_wording": "fos_referral",
                "citation": "FCA DISP 1.6.2R: by the end of eight weeks after receipt, a final "
                "response or a written response explaining the delay, with the Financial "
                "Ombudsman Service referral rights (DISP 1 Annex 3R).",
            },
            {
                "code": "psd_final_response",
                "name_zh": "支付服务投诉：15个营业日内最终答复",
                "name_en": "Payment services: final response within 15 business days",
                "duration": 15,
                **UK_BUSINESS_DAYS,
                "applies_to": "payment_services",
                "letter_wording": "fos_referral",
                "citation": "FCA DISP 1.6.2AR(1): a final response by the end of 15 business days "
                "after the day on which the complaint was received.",
            },
            {
                "code": "psd_extended_final_response",
                "name_zh": "支付服务投诉：发出延期答复后35个营业日内最终答复",
                "name_en": "Payment services: holding reply, then final response within 35 "
                "business days",
                "duration": 35,
                **UK_BUSINESS_DAYS,
                "applies_to": "payment_services",
                "extends": "psd_final_response",
                "notify_complainant": True,
                "letter_wording": "fos_referral",
                "citation": "FCA DISP 1.6.2AR(2): in exceptional situations a holding reply "
                "(within the 15 business days) giving the reasons and the date of the final "
                "response, which must come by the end of 35 business days after the day of "
                "receipt.",
            },
        ],
    },
    {
        "code": "us",
        "name_zh": "美国消费者金融保护局投诉时限",
        "name_en": "United States (CFPB complaint process)",
        "jurisdiction": "US",
        "calendar": "us",
        "clocks": [
            {
                "code": "cfpb_response",
                "name_zh": "15个自然日内答复",
                "name_en": "Response within 15 calendar days",
                "duration": 15,
                **US_DAYS,
                "citation": "CFPB company complaint process: respond within 15 calendar days.",
            },
            {
                "code": "cfpb_final_response",
                "name_zh": "答复“处理中”后60日内最终答复",
                "name_en": "'In progress', then final response within 60 days",
                "duration": 60,
                **US_DAYS,
                "extends": "cfpb_response",
                "notify_complainant": True,
                "citation": "CFPB company complaint process: a complaint not closed in 15 days is "
                "marked 'in progress'; the final response comes within 60 days.",
            },
        ],
    },
]

# The bank's default pack (a branch or region without its own uses it).
BANK_DEFAULT_PACK = "cn"


def install_packs(apps=global_apps) -> list[str]:
    """Create the shipped packs that are missing (and their calendars); returns the codes created.

    Takes the migration's historical ``apps``; a pack that exists is left as an administrator
    may have changed it. The bank default is set only if there is none. Fields that the
    historical models do not have yet are left to the migration that adds them
    (``update_shipped``).
    """
    BusinessCalendar = apps.get_model("branches", "BusinessCalendar")
    RulePack = apps.get_model("complaints", "RulePack")
    PackClock = apps.get_model("complaints", "PackClock")
    PackAssignment = apps.get_model("complaints", "PackAssignment")
    created = []
    for definition in PACKS:
        if RulePack.objects.filter(code=definition["code"]).exists():
            continue
        name, weekend = CALENDARS[definition["calendar"]]
        calendar, _new = BusinessCalendar.objects.get_or_create(
            code=definition["calendar"], defaults={"name": name, "weekend_days": weekend}
        )
        pack = RulePack.objects.create(**_known(RulePack, definition), calendar=calendar)
        clocks = {}
        for clock in definition["clocks"]:
            extends = clocks.get(clock.get("extends"))
            values = _known(PackClock, clock)
            clocks[clock["code"]] = PackClock.objects.create(pack=pack, extends=extends, **values)
        created.append(pack.code)
    if not PackAssignment.objects.filter(branch=None, region=None).exists():
        PackAssignment.objects.create(pack=RulePack.objects.get(code=BANK_DEFAULT_PACK))
    return created


def update_shipped(apps=global_apps, fields=(), clock_fields=()) -> None:
    """Give the shipped packs that exist the shipped values of newly added fields."""
    RulePack = apps.get_model("complaints", "RulePack")
    PackClock = apps.get_model("complaints", "PackClock")
    for definition in PACKS:
        values = {f: definition[f] for f in fields if f in definition}
        if values:
            RulePack.objects.filter(code=definition["code"]).update(**values)
        for clock in definition["clocks"]:
            values = {f: clock[f] for f in clock_fields if f in clock}
            if values:
                PackClock.objects.filter(pack__code=definition["code"], code=clock["code"]).update(
                    **values
                )


def _known(model, definition: dict) -> dict:
    """The definition's values for the fields the (historical) model has."""
    names = {field.name for field in model._meta.fields} - {"calendar", "extends", "pack"}
    return {k: v for k, v in definition.items() if k in names}
