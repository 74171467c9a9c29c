"""Who sees the dashboards: managers of every level and auditors see the KPIs of the branches in
their scope; managers alone see each member of staff's performance and set the live monitor's
alert rules, which auditors may read."""

from django.db import migrations

from bankservice.branches.role_grants import grant_operation

KPIS = ["dashboards.view_kpis", "dashboards.view_alertrule"]
MANAGE = [
    "dashboards.view_staff_performance",
    "dashboards.add_alertrule",
    "dashboards.change_alertrule",
    "dashboards.delete_alertrule",
]


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0001_initial"), ("branches", "0002_roles")]

    operations = [
        grant_operation(
            {
                "branch_manager": KPIS + MANAGE,
                "regional_manager": KPIS + MANAGE,
                "hq_manager": KPIS + MANAGE,
                "auditor": KPIS,
            }
        )
    ]
