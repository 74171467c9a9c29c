"""Create one group per staff role and give it the kernel's permissions.

Later stage apps grant their own permissions to these groups in their own data migrations.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

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


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; these are needed now.
    for label in ("auth", "branches", "customers", "core", "events"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("branches", "0001_initial"),
        ("core", "0001_initial"),
        ("customers", "0001_initial"),
        ("events", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
