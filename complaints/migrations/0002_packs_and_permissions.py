"""Install the shipped rule packs (complaints/packs.py) and let the roles see them.

Complaint officers, branch, regional and head-office managers and auditors read the packs (a
complaint's deadlines come from them); administrators add and change them (copy and adjust).
"""

from django.db import migrations

from bankservice.branches.role_grants import grant_operation
from complaints.packs import install_packs

VIEW = [
    "complaints.view_rulepack",
    "complaints.view_packclock",
    "complaints.view_packassignment",
]
ADMINISTER = [
    *VIEW,
    "complaints.add_rulepack",
    "complaints.change_rulepack",
    "complaints.add_packclock",
    "complaints.change_packclock",
    "complaints.delete_packclock",
    "complaints.add_packassignment",
    "complaints.change_packassignment",
    "complaints.delete_packassignment",
]


def install(apps, schema_editor):
    install_packs(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("branches", "0002_roles"),
        ("complaints", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(install, migrations.RunPython.noop),
        grant_operation(
            {
                "complaint_officer": VIEW,
                "branch_manager": VIEW,
                "regional_manager": VIEW,
                "hq_manager": VIEW,
                "auditor": VIEW,
                "admin": ADMINISTER,
            }
        ),
    ]
