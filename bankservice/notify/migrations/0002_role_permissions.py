"""Give the staff roles (created by branches.0002_roles) the notification permissions.

Notifications are records written by services: roles get to view them; administrators may also
retry or cancel them and set each branch's quiet hours.
"""

from django.db import migrations

from bankservice.branches.role_grants import grant_operation

VIEW = ["notify.view_notification", "notify.view_notificationattempt"]
QUIET_HOURS = [
    "notify.view_branchquiethours",
    "notify.add_branchquiethours",
    "notify.change_branchquiethours",
    "notify.delete_branchquiethours",
]
ROLE_PERMISSIONS = {
    "care_agent": VIEW,
    "complaint_officer": VIEW,
    "branch_manager": VIEW,
    "regional_manager": VIEW,
    "hq_manager": VIEW,
    "auditor": VIEW,
    "admin": VIEW + QUIET_HOURS + ["notify.manage_notification"],
}


class Migration(migrations.Migration):
    dependencies = [
        ("notify", "0001_initial"),
        ("branches", "0002_roles"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [grant_operation(ROLE_PERMISSIONS)]
