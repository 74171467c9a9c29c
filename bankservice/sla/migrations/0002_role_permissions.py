"""Let managers, auditors and administrators see deadlines (read only: services change them)."""

from django.db import migrations

from bankservice.branches.role_grants import grant_operation

VIEW = ["sla.view_deadline", "sla.view_deadlineextension"]
ROLES = ["branch_manager", "regional_manager", "hq_manager", "auditor", "admin"]


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial"), ("branches", "0002_roles")]

    operations = [grant_operation(dict.fromkeys(ROLES, VIEW))]
