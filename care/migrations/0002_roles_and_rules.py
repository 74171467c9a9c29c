"""Who works callbacks and who reads them; administrators configure the follow-up rules."""

from django.db import migrations

from bankservice.branches.role_grants import grant_operation

READ = ["care.view_callback", "care.view_callbackattempt", "care.view_followuprule"]
WORK = [*READ, "care.work_callback", "care.change_callback", "care.add_callbackattempt"]
ADMINISTER = [*READ, "care.add_followuprule", "care.change_followuprule"]


class Migration(migrations.Migration):
    dependencies = [
        ("branches", "0002_roles"),
        ("care", "0001_initial"),
    ]

    operations = [
        grant_operation(
            {
                # Agents dial the customer: they reveal the number (each reveal is audited).
                "care_agent": [*WORK, "customers.reveal_pii"],
                "branch_manager": WORK,
                "regional_manager": READ,
                "hq_manager": READ,
                "auditor": READ,
                "admin": ADMINISTER,
            }
        ),
    ]
