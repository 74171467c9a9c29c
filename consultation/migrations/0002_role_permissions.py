"""Consultation and knowledge-base permissions for the staff roles.

Everyone who serves customers records consultations and reads the knowledge base. Advisors,
branch and head-office managers write articles; managers review and publish them (never their own
version: the services check that). Administrators also run the assistant's training.
"""

from django.db import migrations

from bankservice.branches.role_grants import grant_operation

READ_KB = [
    "consultation.view_article",
    "consultation.view_articleversion",
    "consultation.view_category",
    "customers.view_product",
]
VIEW = [*READ_KB, "consultation.view_consultation"]
SERVE = [*VIEW, "consultation.add_consultation", "consultation.change_consultation"]
WRITE_KB = [
    "consultation.add_article",
    "consultation.change_article",
    "consultation.add_articleversion",
    "consultation.change_articleversion",
    "consultation.view_searchlog",
]
APPROVE_KB = [*WRITE_KB, "consultation.approve_articleversion"]

ROLE_PERMISSIONS = {
    "greeter": SERVE,
    "teller": SERVE,
    "advisor": [*SERVE, *WRITE_KB],
    "processor": VIEW,
    "approver": VIEW,
    "complaint_officer": VIEW,
    "care_agent": SERVE,
    "branch_manager": [*SERVE, *APPROVE_KB],
    "regional_manager": VIEW,
    "hq_manager": [*VIEW, *APPROVE_KB],
    "auditor": VIEW,
    "admin": [
        *SERVE,
        *APPROVE_KB,
        "consultation.add_category",
        "consultation.change_category",
        "consultation.view_intent",
        "consultation.add_intent",
        "consultation.change_intent",
        "consultation.view_trainingexample",
        "consultation.add_trainingexample",
        "consultation.view_assistantmodel",
        "consultation.add_assistantmodel",
        "customers.add_product",
        "customers.change_product",
    ],
}


class Migration(migrations.Migration):
    dependencies = [
        ("consultation", "0001_initial"),
        ("customers", "0004_products"),
        ("branches", "0002_roles"),
    ]

    operations = [grant_operation(ROLE_PERMISSIONS)]
