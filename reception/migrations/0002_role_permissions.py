"""Reception permissions for the staff roles."""

from django.db import migrations

from bankservice.branches.role_grants import grant_operation

VIEW = [
    "reception.view_ticket",
    "reception.view_counter",
    "reception.view_servicetype",
    "reception.view_visit",
]
ISSUE = ["reception.add_ticket"]
SERVE = ["reception.change_ticket"]
CONFIGURE = [
    f"reception.{verb}_{model}"
    for model in ("servicetype", "counter", "counterservice", "priorityrule", "device")
    for verb in ("add", "change", "delete", "view")
]

ROLE_PERMISSIONS = {
    "greeter": VIEW + ISSUE,
    "teller": VIEW + ISSUE + SERVE,
    "advisor": VIEW + ISSUE + SERVE,
    "processor": VIEW,
    "complaint_officer": VIEW,
    "care_agent": VIEW,
    "branch_manager": VIEW + ISSUE + SERVE,
    "regional_manager": VIEW,
    "hq_manager": VIEW,
    "auditor": VIEW,
    "admin": VIEW + CONFIGURE,
}


class Migration(migrations.Migration):
    dependencies = [("reception", "0001_initial"), ("branches", "0002_roles")]

    operations = [grant_operation(ROLE_PERMISSIONS)]
