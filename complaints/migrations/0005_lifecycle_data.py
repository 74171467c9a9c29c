"""The shipped packs' new fields, the shipped root causes, and who may do what with complaints.

Staff at the counter (greeter, teller, advisor, care agent) take complaints and follow them;
complaint officers handle them; branch managers assign and escalate; regional and head-office
managers also approve the extensions that need a higher level; managers and auditors report and
export; administrators configure categories and root causes.
"""

from django.db import migrations

from bankservice.branches.role_grants import grant_operation
from complaints.packs import update_shipped
from complaints.taxonomy import install_root_causes

READ = [
    "complaints.view_complaint",
    "complaints.view_category",
    "complaints.view_rootcause",
    "complaints.view_complaintattachment",
    "complaints.view_letter",
    "complaints.view_complaintextension",
    "complaints.view_correctiveaction",
]
INTAKE = [*READ, "complaints.add_complaint", "complaints.add_complaintattachment"]
HANDLE = [
    *INTAKE,
    "complaints.change_complaint",
    "complaints.handle_complaint",
    "complaints.add_letter",
    "complaints.add_complaintextension",
    "complaints.add_correctiveaction",
    "complaints.change_correctiveaction",
]
MANAGE = [*HANDLE, "complaints.assign_complaint", "complaints.export_complaint"]
HIGHER = [*MANAGE, "complaints.approve_extension"]
ADMINISTER = [
    *READ,
    "complaints.add_category",
    "complaints.change_category",
    "complaints.add_rootcause",
    "complaints.change_rootcause",
]


def install(apps, schema_editor):
    update_shipped(
        apps,
        fields=["recuse_role_chain"],
        clock_fields=["met_by", "is_window", "warn_fraction"],
    )
    install_root_causes(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0004_lifecycle"),
    ]

    operations = [
        migrations.RunPython(install, migrations.RunPython.noop),
        grant_operation(
            {
                "greeter": INTAKE,
                "teller": INTAKE,
                "advisor": INTAKE,
                "care_agent": INTAKE,
                "complaint_officer": HANDLE,
                "branch_manager": MANAGE,
                "regional_manager": HIGHER,
                "hq_manager": HIGHER,
                "auditor": [*READ, "complaints.export_complaint"],
                "admin": ADMINISTER,
            }
        ),
    ]
