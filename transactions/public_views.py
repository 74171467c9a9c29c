"""The customer's progress page of a service request: `/r/<public_token>/`.

Nobody signs in: the unguessable token in the link (SMS, receipt) is the key, an unknown one a
plain 404. The page names the request type, its reference and where it stands, never the
customer or the form's data. Views per client address are rate-limited (a flood costs a cached
counter, not a query), in both languages (`?lang=`), like reception's public pages.
"""

from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET

from bankservice.core.public_pages import (
    in_page_language,
    language_links,
    over_rate_limit,
    public_response,
)

from .models import OPEN_STATES, RequestStatus, ServiceRequest

# A customer looks a few times a day; a script trying tokens is stopped after this many.
PROGRESS_VIEWS_PER_WINDOW = 60
PROGRESS_WINDOW_SECONDS = 10 * 60

# The steps the page draws, in order, named for the customer; a returned, rejected, cancelled or
# failed request shows its reason as well.
STEPS = (
    (RequestStatus.SUBMITTED, pgettext_lazy("request progress", "Received")),
    (RequestStatus.APPROVED, pgettext_lazy("request progress", "Approved")),
    (RequestStatus.SENT, pgettext_lazy("request progress", "Being carried out")),
    (RequestStatus.EXECUTED, pgettext_lazy("request progress", "Completed")),
)


def _steps(request: ServiceRequest) -> list[dict]:
    reached = {
        RequestStatus.SUBMITTED: request.submitted_at,
        # decided_at is also the rejection's time.
        RequestStatus.APPROVED: None
        if request.status == RequestStatus.REJECTED
        else request.decided_at,
        RequestStatus.SENT: request.sent_at,
        RequestStatus.EXECUTED: request.finished_at
        if request.status == RequestStatus.EXECUTED
        else None,
    }
    return [
        {
            "status": step,
            "label": label,
            "at": reached[step],
            "done": reached[step] is not None,
        }
        for step, label in STEPS
    ]


@require_GET
@in_page_language
def progress(request, public_token: str):
    """Where the customer's request stands."""
    if over_rate_limit(
        request,
        scope="transactions-progress",
        limit=PROGRESS_VIEWS_PER_WINDOW,
        seconds=PROGRESS_WINDOW_SECONDS,
    ):
        response = render(
            request,
            "transactions/public/progress.html",
            {
                "limited": True,
                "message": _("Too many requests. Please try again in a few minutes."),
            },
            status=429,
        )
        return public_response(response)
    service_request = get_object_or_404(
        ServiceRequest.objects.select_related("branch", "request_type").exclude(
            status=RequestStatus.DRAFT
        ),
        public_token=public_token,
    )
    return public_response(
        render(
            request,
            "transactions/public/progress.html",
            {
                "branch": service_request.branch,
                "service_request": service_request,
                "steps": _steps(service_request),
                "is_open": service_request.status in OPEN_STATES,
                "languages": language_links(request),
            },
        )
    )
