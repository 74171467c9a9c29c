"""The complainant's pages at the site root, without login, in both languages (`?lang=`):

- `/complaint/`: the complaint form (branch, name, a phone and/or an e-mail, what it is about,
  the complaint, what would put it right, a few files). The complaint and its files are kept in
  one transaction; then a confirmation page gives the link to the progress page.
- `/c/<public_token>/`: the progress page. The unguessable token is the key (an unknown one is a
  plain 404). It shows the reference, the status in plain words, the date the decision is due
  (the regulator's clock), the letters sent; the complainant accepts a proposed resolution there,
  or asks for a review while the window is open. It names nothing the complainant did not give.

Submissions and page views per client address are rate-limited, like reception's public pages.
"""

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bankservice.core.errors import DomainError
from bankservice.core.public_pages import (
    in_page_language,
    language_links,
    over_rate_limit,
    public_response,
    with_lang,
)

from . import services
from .deadlines import KIND_PREFIX
from .forms import NOTE_MAX, PublicComplaintForm
from .models import (
    DECIDED_STATUSES,
    OPEN_STATUSES,
    Channel,
    ClockMetBy,
    ClockNature,
    Complaint,
    ComplaintStatus,
    PackClock,
)
from .selectors import complaint_clocks

# A complainant sends one or two; a script filling the queue is stopped after this many.
SUBMISSIONS_PER_WINDOW = 5
SUBMISSION_WINDOW_SECONDS = 60 * 60
# A complainant looks a few times a day; a script trying tokens is stopped after this many.
PROGRESS_VIEWS_PER_WINDOW = 60
PROGRESS_WINDOW_SECONDS = 10 * 60

# The status in the complainant's words.
PLAIN_STATUS = {
    ComplaintStatus.RECEIVED: pgettext_lazy(
        "complaint progress", "We have received your complaint."
    ),
    ComplaintStatus.ACKNOWLEDGED: pgettext_lazy(
        "complaint progress", "We have received your complaint and will look into it."
    ),
    ComplaintStatus.INVESTIGATING: pgettext_lazy(
        "complaint progress", "We are looking into your complaint."
    ),
    ComplaintStatus.WAITING_ON_CUSTOMER: pgettext_lazy(
        "complaint progress", "We need information from you; we have contacted you."
    ),
    ComplaintStatus.RESOLUTION_PROPOSED: pgettext_lazy(
        "complaint progress", "We have proposed a resolution: please tell us if you accept it."
    ),
    ComplaintStatus.RESOLVED: pgettext_lazy(
        "complaint progress", "Resolved: you accepted our proposed resolution."
    ),
    ComplaintStatus.UPHELD: pgettext_lazy(
        "complaint progress", "Decided: we agree with your complaint."
    ),
    ComplaintStatus.PARTIALLY_UPHELD: pgettext_lazy(
        "complaint progress", "Decided: we agree with part of your complaint."
    ),
    ComplaintStatus.REJECTED: pgettext_lazy(
        "complaint progress", "Decided: we do not agree with your complaint."
    ),
    ComplaintStatus.WITHDRAWN: pgettext_lazy("complaint progress", "You withdrew this complaint."),
    ComplaintStatus.MERGED: pgettext_lazy(
        "complaint progress", "We are handling this together with your earlier complaint."
    ),
}


def _limited(request, template: str):
    response = render(
        request,
        template,
        {"limited": True, "message": _("Too many requests. Please try again in a few minutes.")},
        status=429,
    )
    return public_response(response)


def _progress_url(request, complaint) -> str:
    url = reverse("complaints_public:progress", args=[complaint.public_token])
    return with_lang(url, request.page_lang)


# --- The complaint form ------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@in_page_language
def complaint_form(request):
    """A customer's complaint, with its files, in one transaction."""
    form = PublicComplaintForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            if over_rate_limit(
                request,
                scope="complaint-form",
                limit=SUBMISSIONS_PER_WINDOW,
                seconds=SUBMISSION_WINDOW_SECONDS,
            ):
                form.add_error(
                    None,
                    _(
                        "Too many complaints were sent from this connection. Please try again "
                        "later or call us."
                    ),
                )
                status = 429
            else:
                data = form.cleaned_data
                try:
                    with transaction.atomic():
                        complaint = services.complaint_create(
                            actor=None,
                            branch=data["branch"],
                            channel=Channel.ONLINE_FORM,
                            category=data["category"],
                            description=data["description"],
                            desired_outcome=data["desired_outcome"],
                            contact_name=data["name"],
                            contact_phone=data["phone"],
                            contact_email=data["email"],
                            language=translation.get_language(),
                        )
                        for upload in data["files"]:
                            services.attachment_add(
                                actor=None, complaint=complaint, uploaded_file=upload
                            )
                except DomainError as exc:
                    field = {
                        "file": "files",
                        "contact_name": "name",
                        "contact_phone": "phone",
                        "contact_email": "email",
                    }.get(exc.field, exc.field)
                    form.add_error(field if field in form.fields else None, exc.message)
                else:
                    url = reverse("complaints_public:received", args=[complaint.public_token])
                    return public_response(redirect(with_lang(url, request.page_lang)))
    response = render(
        request,
        "complaints/public/form.html",
        {
            "form": form,
            "max_files": settings.COMPLAINTS_PUBLIC_MAX_FILES,
            "page_lang": request.page_lang,
            "languages": language_links(request),
        },
        status=status,
    )
    return public_response(response)


@require_GET
@in_page_language
def complaint_received(request, public_token: str):
    """The confirmation: the reference and the link to keep."""
    complaint = get_object_or_404(
        Complaint.objects.select_related("branch"), public_token=public_token
    )
    progress = _progress_url(request, complaint)
    return public_response(
        render(
            request,
            "complaints/public/received.html",
            {
                "branch": complaint.branch,
                "complaint": complaint,
                "progress_url": progress,
                "progress_link": request.build_absolute_uri(progress),
                "languages": language_links(request),
            },
        )
    )


# --- The progress page -------------------------------------------------------------------------


def _decision_due(complaint, deadlines, pack_clocks):
    """When the regulator's clock says the decision is due: the open obligation met by a
    decision that falls due first (extended when an extension applied)."""
    by_code = {clock.code: clock for clock in pack_clocks}
    due = [
        deadline.due_at
        for deadline in deadlines
        if deadline.state == "open"
        and (clock := by_code.get(deadline.kind.removeprefix(KIND_PREFIX))) is not None
        and clock.met_by == ClockMetBy.DECISION
        and clock.nature == ClockNature.REGULATORY
        and not clock.is_window
    ]
    return min(due) if due else None


def _review_window(deadlines, pack_clocks, now):
    """The open window to ask for a review of the decision, or None."""
    by_code = {clock.code: clock for clock in pack_clocks}
    for deadline in deadlines:
        clock = by_code.get(deadline.kind.removeprefix(KIND_PREFIX))
        if (
            clock is not None
            and clock.met_by == ClockMetBy.REVIEW_REQUEST
            and deadline.state == "open"
            and deadline.due_at > now
        ):
            return deadline
    return None


def _complaint_or_404(public_token: str):
    return get_object_or_404(
        Complaint.objects.select_related("branch", "category", "merged_into"),
        public_token=public_token,
    )


@require_GET
@in_page_language
def progress(request, public_token: str):
    """Where the complaint stands, the letters sent, and what the complainant may do now."""
    if over_rate_limit(
        request,
        scope="complaints-progress",
        limit=PROGRESS_VIEWS_PER_WINDOW,
        seconds=PROGRESS_WINDOW_SECONDS,
    ):
        return _limited(request, "complaints/public/progress.html")
    complaint = _complaint_or_404(public_token)
    now = timezone.now()
    deadlines = list(complaint_clocks(complaint))
    pack_clocks = list(PackClock.objects.filter(pack_id=complaint.pack_id)) if deadlines else []
    window = None
    if complaint.status in DECIDED_STATUSES and complaint.review_of_id is None:
        window = _review_window(deadlines, pack_clocks, now)
    return public_response(
        render(
            request,
            "complaints/public/progress.html",
            {
                "branch": complaint.branch,
                "complaint": complaint,
                "plain_status": PLAIN_STATUS[complaint.status],
                "is_open": complaint.status in OPEN_STATUSES,
                "decision_due": _decision_due(complaint, deadlines, pack_clocks)
                if complaint.status in OPEN_STATUSES
                else None,
                "review_window": window,
                "letters": list(complaint.letters.order_by("created_at", "id")),
                "merged_url": _progress_url(request, complaint.merged_into)
                if complaint.merged_into_id
                else None,
                "page_lang": request.page_lang,
                "reason_max": NOTE_MAX,
                "languages": language_links(request),
            },
        )
    )


def _post_limited(request) -> bool:
    return over_rate_limit(
        request,
        scope="complaints-progress",
        limit=PROGRESS_VIEWS_PER_WINDOW,
        seconds=PROGRESS_WINDOW_SECONDS,
    )


@require_POST
@in_page_language
def accept(request, public_token: str):
    """The complainant accepts the proposed resolution."""
    if _post_limited(request):
        return _limited(request, "complaints/public/progress.html")
    complaint = _complaint_or_404(public_token)
    try:
        services.complaint_accept(actor=None, complaint=complaint)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Thank you: you accepted the resolution."))
    return public_response(redirect(_progress_url(request, complaint)))


@require_POST
@in_page_language
def review(request, public_token: str):
    """The complainant asks for a review of the decision (a new, linked complaint)."""
    if _post_limited(request):
        return _limited(request, "complaints/public/progress.html")
    complaint = _complaint_or_404(public_token)
    reason = request.POST.get("reason", "")[:NOTE_MAX]
    if not reason.strip():
        messages.error(request, _("Please tell us why you ask for a review."))
        return public_response(redirect(_progress_url(request, complaint)))
    try:
        opened = services.complaint_request_review(actor=None, complaint=complaint, reason=reason)
    except DomainError as exc:
        messages.error(request, exc.message)
        return public_response(redirect(_progress_url(request, complaint)))
    messages.success(request, _("We have received your request for a review."))
    return public_response(redirect(_progress_url(request, opened)))
