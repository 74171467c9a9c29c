"""Advisor calendars: who sees and edits them, and whether the customer named the advisor.

Branch managers and administrators edit the weekly availability and time off of the advisors at
their branches; an advisor adds and removes their own time off (the service checks it is their
own) and sees the calendars; front-line roles that book see the calendars to pick an advisor.
"""

from django.db import migrations, models

from bankservice.branches.role_grants import grant_operation

VIEW = ["reception.view_advisoravailability", "reception.view_advisortimeoff"]
OWN_TIME_OFF = [
    *VIEW,
    "reception.add_advisortimeoff",
    "reception.change_advisortimeoff",
    "reception.delete_advisortimeoff",
]
EDIT = [
    *OWN_TIME_OFF,
    "reception.add_advisoravailability",
    "reception.change_advisoravailability",
    "reception.delete_advisoravailability",
]

ROLE_PERMISSIONS = {
    "greeter": VIEW,
    "teller": VIEW,
    "advisor": OWN_TIME_OFF,
    "branch_manager": EDIT,
    "regional_manager": VIEW,
    "hq_manager": VIEW,
    "auditor": VIEW,
    "admin": EDIT,
}


class Migration(migrations.Migration):
    dependencies = [("reception", "0006_advisor_appointments")]

    operations = [
        migrations.AddField(
            model_name="appointment",
            name="advisor_chosen",
            field=models.BooleanField(default=False, verbose_name="advisor chosen by name"),
        ),
        grant_operation(ROLE_PERMISSIONS),
    ]
