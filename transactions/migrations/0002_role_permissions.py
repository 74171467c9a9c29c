"""Service-request permissions for the staff roles.

Front-line staff (tellers, advisors, branch managers) fill and submit requests (the maker);
back-office processors and approvers decide the approval levels their role is named for (the
rules say which role each level needs; nobody decides their own request or two levels of one
round). Everyone else reads them. Administrators configure request types and bundles.
"""

from django.db import migrations

from bankservice.branches.role_grants import grant_operation

VIEW = [
    "transactions.view_servicerequest",
    "transactions.view_requesttype",
    "transactions.view_bundle",
]
MAKE = [*VIEW, "transactions.add_servicerequest", "transactions.change_servicerequest"]
DECIDE = [*VIEW, "transactions.approve_servicerequest"]
PROCESS = [*DECIDE, "transactions.process_servicerequest"]
CONFIGURE = [
    "transactions.add_requesttype",
    "transactions.change_requesttype",
    "transactions.view_requesttypeversion",
    "transactions.add_requesttypeversion",
    "transactions.change_requesttypeversion",
    "transactions.add_bundle",
    "transactions.change_bundle",
]

ROLE_PERMISSIONS = {
    "greeter": VIEW,
    "teller": MAKE,
    "advisor": MAKE,
    "processor": PROCESS,
    "approver": DECIDE,
    "complaint_officer": VIEW,
    "care_agent": VIEW,
    "branch_manager": [*MAKE, "transactions.approve_servicerequest"],
    "regional_manager": VIEW,
    "hq_manager": VIEW,
    "auditor": VIEW,
    "admin": [*MAKE, *PROCESS, *CONFIGURE],
}


class Migration(migrations.Migration):
    dependencies = [("transactions", "0001_initial"), ("branches", "0002_roles")]

    operations = [grant_operation(ROLE_PERMISSIONS)]
