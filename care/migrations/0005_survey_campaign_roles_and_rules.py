"""Who reads surveys and campaigns and who runs them; the care team lead; shipped survey rules
and the service-recovery rule that turns a low score into a callback within one business day."""

from django.db import migrations

from bankservice.branches.role_grants import grant_operation

READ = [
    "care.view_survey",
    "care.view_surveyrule",
    "care.view_campaign",
    "care.view_campaigntarget",
]
LEAD = [
    "care.cancel_callback",
    "care.manage_campaign",
    "care.add_campaign",
    "care.change_campaign",
]
WORK = [
    "care.view_callback",
    "care.view_callbackattempt",
    "care.view_followuprule",
    "care.work_callback",
    "care.change_callback",
    "care.add_callbackattempt",
]

SURVEY_RULES = [
    {
        "code": "after-service",
        "name_zh": "柜面服务满意度调查",
        "name_en": "Survey after a counter service",
        "trigger": "service_completed",
        "sample_percent": 20,
    },
    {
        "code": "after-request",
        "name_zh": "业务办理满意度调查",
        "name_en": "Survey after a request was executed",
        "trigger": "request_executed",
        "sample_percent": 50,
    },
    {
        "code": "after-consultation",
        "name_zh": "咨询服务满意度调查",
        "name_en": "Survey after a consultation",
        "trigger": "consultation_closed",
        "sample_percent": 30,
    },
    {
        "code": "after-complaint",
        "name_zh": "投诉处理满意度调查",
        "name_en": "Survey after a decided complaint",
        "trigger": "complaint_decided",
        "sample_percent": 100,
        "expiry_days": 14,
    },
]

RECOVERY_RULE = {
    "code": "service-recovery",
    "name_zh": "低分服务补救回访",
    "name_en": "Service recovery after a low survey score",
    "trigger": "survey_low_score",
    "delay": 1,
    "delay_unit": "business_days",
    "priority": 1,
    "reason_code": "service-recovery",
    "script": (
        "1. 问候客户，感谢其填写满意度调查，说明来电是为了解不满意的原因。\n"
        "2. 倾听并记录问题；能当场解决的当场解决，不能的告知处理方式和时限。\n"
        "3. 如客户希望投诉，协助登记投诉。\n\n"
        "1. Greet the customer, thank them for answering the survey and say you are calling "
        "to hear what went wrong.\n"
        "2. Listen and note the problem; solve it now if you can, otherwise say who will and "
        "by when.\n"
        "3. If the customer wants to complain, open the complaint for them."
    ),
    "is_active": True,
}


def lead_inherits_agent(apps, schema_editor):
    """The team lead can do whatever an agent can (every stage's grant to care_agent so far:
    customers, the queue, consultations and complaints opened from a callback ...)."""
    Group = apps.get_model("auth", "Group")
    agent = Group.objects.get(name="care_agent")
    lead, _created = Group.objects.get_or_create(name="care_lead")
    lead.permissions.add(*agent.permissions.all())


def install(apps, schema_editor):
    SurveyRule = apps.get_model("care", "SurveyRule")
    FollowUpRule = apps.get_model("care", "FollowUpRule")
    for rule in SURVEY_RULES:
        SurveyRule.objects.update_or_create(code=rule["code"], defaults=rule)
    FollowUpRule.objects.update_or_create(code=RECOVERY_RULE["code"], defaults=RECOVERY_RULE)


class Migration(migrations.Migration):
    dependencies = [
        ("care", "0004_surveys_campaigns"),
        # Every migration that grants care_agent something, for lead_inherits_agent.
        ("branches", "0002_roles"),
        ("complaints", "0005_lifecycle_data"),
        ("consultation", "0002_role_permissions"),
        ("notify", "0002_role_permissions"),
        ("reception", "0005_appointment_permissions"),
        ("transactions", "0002_role_permissions"),
    ]

    operations = [
        grant_operation(
            {
                "care_agent": READ,
                # The team lead works callbacks too, cancels them, runs campaigns and hears of
                # overdue callbacks first (care/deadlines.py).
                "care_lead": [*WORK, *READ, *LEAD, "customers.reveal_pii"],
                "branch_manager": [*READ, *LEAD],
                "regional_manager": [*READ, *LEAD],
                "hq_manager": [*READ, *LEAD],
                "auditor": READ,
                "admin": [*READ, "care.add_surveyrule", "care.change_surveyrule"],
            }
        ),
        migrations.RunPython(lead_inherits_agent, migrations.RunPython.noop),
        migrations.RunPython(install, migrations.RunPython.noop),
    ]
