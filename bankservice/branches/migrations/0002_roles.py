"""Create one group per staff role and give it the kernel's permissions.

Later stage apps grant their own permissions to these groups in their own data migrations.
"""

from django.db import migrations

from bankservice.branches.role_grants import grant_operation

VIEW_ALL = ["branches.view_branch", "customers.view_customer"]
EDIT_CUSTOMERS = ["customers.add_customer", "customers.change_customer"]
REVEAL = ["customers.reveal_pii"]
AUDIT = ["events.view_event"]

ROLE_PERMISSIONS = {
    "greeter": VIEW_ALL + EDIT_CUSTOMERS,
    "teller": VIEW_ALL + EDIT_CUSTOMERS + REVEAL,
    "advisor": VIEW_ALL + EDIT_CUSTOMERS + REVEAL,
    "processor": VIEW_ALL + EDIT_CUSTOMERS + REVEAL,
    "approver": VIEW_ALL + REVEAL,
    "complaint_officer": VIEW_ALL + EDIT_CUSTOMERS + REVEAL,
    "care_agent": VIEW_ALL + ["customers.change_customer"],
    "branch_manager": VIEW_ALL + EDIT_CUSTOMERS + REVEAL + AUDIT,
    "regional_manager": VIEW_ALL + AUDIT,
    "hq_manager": VIEW_ALL + AUDIT,
    "auditor": VIEW_ALL + REVEAL + AUDIT,
    "admin": VIEW_ALL
    + [
        "branches.add_branch",
        "branches.change_branch",
        "branches.add_region",
        "branches.change_region",
        "branches.view_region",
        "branches.add_businesscalendar",
        "branches.change_businesscalendar",
        "branches.view_businesscalendar",
        "branches.add_calendarday",
        "branches.change_calendarday",
        "branches.delete_calendarday",
        "branches.view_calendarday",
        "branches.add_openinghours",
        "branches.change_openinghours",
        "branches.delete_openinghours",
        "branches.view_openinghours",
        "branches.add_staffmembership",
        "branches.change_staffmembership",
        "branches.delete_staffmembership",
        "branches.view_staffmembership",
        "core.add_apiclient",
        "core.change_apiclient",
        "core.view_apiclient",
        "core.view_heartbeat",
        "auth.add_user",
        "auth.change_user",
        "auth.view_user",
        "auth.view_group",
    ],
}


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("branches", "0001_initial"),
        ("core", "0001_initial"),
        ("customers", "0001_initial"),
        ("events", "0001_initial"),
    ]

    operations = [grant_operation(ROLE_PERMISSIONS)]
