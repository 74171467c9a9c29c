"""A few shipped follow-up rules (administrators adjust them), and the generator's cursor.

The cursor starts after the events recorded before care was installed: installing it must not
call back every customer served in the years before.
"""

from django.db import migrations
from django.db.models import Max

RULES = [
    {
        "code": "complaint-satisfaction",
        "name_zh": "投诉处理满意度回访",
        "name_en": "Satisfaction with a decided complaint",
        "trigger": "complaint_decided",
        "delay": 3,
        "delay_unit": "business_days",
        "priority": 1,
        "reason_code": "complaint-satisfaction",
        "script": (
            "1. 问候客户，说明来电是就其投诉的处理结果进行回访。\n"
            "2. 确认客户已收到处理结果，询问是否理解、是否满意（1-5分）。\n"
            "3. 如不满意，记录原因，告知复核渠道，必要时协助重新提出投诉。\n\n"
            "1. Greet the customer; say you are calling about the decision on their complaint.\n"
            "2. Check they received the decision, understood it and how satisfied they are "
            "(1-5).\n"
            "3. If not satisfied, note why, explain how to ask for a review, and help them "
            "raise it again if needed."
        ),
        "is_active": True,
    },
    {
        "code": "request-executed",
        "name_zh": "业务办理后回访",
        "name_en": "Follow-up after a request was executed",
        "trigger": "request_executed",
        "delay": 2,
        "delay_unit": "business_days",
        "priority": 2,
        "reason_code": "request-follow-up",
        "script": (
            "1. 问候客户，确认其办理的业务已生效、使用正常。\n"
            "2. 询问对办理过程的满意度（1-5分）及改进建议。\n\n"
            "1. Greet the customer; check the service they asked for works as expected.\n"
            "2. Ask how satisfied they are with how it was handled (1-5) and what to improve."
        ),
        "is_active": True,
    },
    {
        "code": "service-completed",
        "name_zh": "柜面服务后回访",
        "name_en": "Follow-up after a counter service",
        "trigger": "service_completed",
        "delay": 1,
        "delay_unit": "business_days",
        "priority": 3,
        "reason_code": "service-follow-up",
        "script": (
            "1. 问候客户，感谢其到访网点。\n"
            "2. 询问对等候时间和柜员服务的满意度（1-5分）。\n\n"
            "1. Greet the customer and thank them for visiting the branch.\n"
            "2. Ask how satisfied they are with the wait and the service at the counter (1-5)."
        ),
        # Every visit would be called back: a branch turns it on for the services it chooses.
        "is_active": False,
    },
    {
        "code": "consultation-follow-up",
        "name_zh": "咨询后续跟进",
        "name_en": "Follow-up of a consultation",
        "trigger": "consultation_follow_up",
        "delay": 1,
        "delay_unit": "business_days",
        "priority": 2,
        "reason_code": "consultation-follow-up",
        "script": (
            "1. 问候客户，说明是就其咨询的问题进行跟进。\n"
            "2. 提供顾问承诺的信息或答复，确认问题已解决。\n\n"
            "1. Greet the customer; say you are following up on their consultation.\n"
            "2. Give the information the advisor promised and check the question is answered."
        ),
        "is_active": True,
    },
]


def install(apps, schema_editor):
    FollowUpRule = apps.get_model("care", "FollowUpRule")
    CareCursor = apps.get_model("care", "CareCursor")
    Event = apps.get_model("events", "Event")
    for rule in RULES:
        FollowUpRule.objects.update_or_create(code=rule["code"], defaults=rule)
    # As bankservice.events.stream.stream_position: on PostgreSQL the sequence, so ids of
    # transactions open or rolled back meanwhile are not waited for as gaps.
    last = Event.objects.aggregate(last=Max("id"))["last"] or 0
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_sequence_last_value(pg_get_serial_sequence(%s, 'id'))",
                [Event._meta.db_table],
            )
            row = cursor.fetchone()
        last = max(last, row[0] or 0) if row else last
    CareCursor.objects.get_or_create(name="callbacks", defaults={"last_event_id": last})


class Migration(migrations.Migration):
    dependencies = [
        ("care", "0002_roles_and_rules"),
        ("events", "0004_webhook_roles"),
    ]

    operations = [
        migrations.RunPython(install, migrations.RunPython.noop),
    ]
