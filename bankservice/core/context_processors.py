"""Navigation shown to a user: only the entries their roles may open."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from bankservice.branches.scope import has_bankwide_perm, has_perm

from .security import PENDING_SESSION_KEY

# (label, url name, permission needed). Stage issues add their entries here.
NAVIGATION = [
    (_("Customers"), "customers:list", "customers.view_customer"),
    (_("Branches"), "branches:list", "branches.view_branch"),
    (_("Audit trail"), "events:audit", "events.view_event"),
    (_("Reception"), "reception:floor", "reception.view_ticket"),
    (_("Counter"), "reception:console", "reception.change_ticket"),
    (_("Advisor calendars"), "reception:advisors", "reception.view_advisoravailability"),
    (_("Consultations"), "consultation:list", "consultation.view_consultation"),
    (_("Knowledge base"), "consultation:kb-home", "consultation.view_article"),
    (_("Requests"), "transactions:worklist", "transactions.view_servicerequest"),
    (_("Complaints"), "complaints:list", "complaints.view_complaint"),
    (_("Care"), "care:worklist", "care.view_callback"),
    (_("Surveys"), "care:surveys", "care.view_survey"),
    (_("Campaigns"), "care:campaigns", "care.view_campaign"),
    (_("Dashboards"), "dashboards:overview", "dashboards.view_kpis"),
]
# Settings that span every branch: shown only to whoever holds the permission bank-wide.
BANKWIDE_NAVIGATION = [
    (_("API clients"), "apiclients:list", "core.change_apiclient"),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or request.session.get(PENDING_SESSION_KEY):
        # Signed in by password but the second factor is still due: nowhere to go yet.
        return {"nav_items": []}
    entries = [entry for entry in NAVIGATION if has_perm(user, entry[2])] + [
        entry for entry in BANKWIDE_NAVIGATION if has_bankwide_perm(user, entry[2])
    ]
    items = [
        {"label": label, "url": reverse(name), "active": request.path.startswith(reverse(name))}
        for label, name, _perm in entries
    ]
    return {"nav_items": items}
