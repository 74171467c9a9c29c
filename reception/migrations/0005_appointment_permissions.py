"""Appointment permissions for the staff roles.

Front-line roles book, move, cancel and check in appointments at their branches; the others see
them (a complaint or a care call may be about one). Administrators may also delete a mistaken one
in the admin.
"""

from django.db import migrations

from bankservice.branches.role_grants import grant_operation

VIEW = ["reception.view_appointment"]
BOOK = [*VIEW, "reception.add_appointment", "reception.change_appointment"]

ROLE_PERMISSIONS = {
    "greeter": BOOK,
    "teller": BOOK,
    "advisor": BOOK,
    "branch_manager": BOOK,
    "processor": VIEW,
    "complaint_officer": VIEW,
    "care_agent": VIEW,
    "regional_manager": VIEW,
    "hq_manager": VIEW,
    "auditor": VIEW,
    "admin": [*BOOK, "reception.delete_appointment"],
}


class Migration(migrations.Migration):
    dependencies = [("reception", "0004_appointments_ratios_remote")]

    operations = [grant_operation(ROLE_PERMISSIONS)]
