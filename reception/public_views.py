"""Public reception pages: the kiosk, remote check-in from the customer's phone, the display
board and its feed, the ticket status page.

Nobody signs in here. A kiosk or a board proves itself with its Device token, a customer with
the ticket's public token; an unknown, inactive or wrong-kind token is a plain 404. The remote
check-in page of an active branch is open to anyone while the branch is open, so it is guarded
by a rate limit per client address and one open ticket per browser. Nothing on these pages
names a customer.

Language: `?lang=en` or `?lang=zh-hans` picks the language of one page view (links and forms
carry it on). A kiosk is shared, so the next customer starts in the default language again
(LocaleMiddleware: cookie, Accept-Language, then settings.LANGUAGE_CODE).
"""

import datetime as dt
import hashlib
import math

import segno
from django import forms
from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpResponseNotModified, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from bankservice.branches.models import Branch
from bankservice.core.errors import DomainError
from bankservice.core.public_pages import (
    in_page_language,
    language_links,
    over_rate_limit,
    public_response,
    with_lang,
)
from bankservice.customers.validators import normalize_phone

from .models import (
    AT_COUNTER_STATES,
    OPEN_STATES,
    Device,
    DeviceKind,
    ServiceType,
    Ticket,
    TicketStatus,
    VisitSource,
)
from .selectors import board_feed, board_version, ticket_position
from .services import BranchClosed, branch_is_open, ticket_issue

# An idle board polls every ~1.5 s; its device lookup is cached this long, so a deactivated
# display goes dark within half a minute while an idle poll costs no database query.
DEVICE_CACHE_SECONDS = 30
# The kiosk shows the ticket this long, then returns to the service list.
KIOSK_TICKET_SECONDS = 20
# The service list reloads when nobody touches it: back to the default language, fresh services.
KIOSK_IDLE_SECONDS = 300
# The "closed" page looks again this often, so the kiosk opens by itself at opening time.
KIOSK_CLOSED_SECONDS = 60
# The customer's status page refreshes itself this often while the ticket is open.
STATUS_REFRESH_SECONDS = 10
# How often board.js polls the feed (milliseconds).
BOARD_POLL_MS = 1500
# Remote check-in: tickets per client address per window, against a script filling the queue.
REMOTE_TICKETS_PER_WINDOW = 3
REMOTE_WINDOW_SECONDS = 30 * 60
# The signed cookie naming the browser's open remote ticket (one at a time); a business day.
REMOTE_COOKIE = "reception_remote_ticket"
REMOTE_COOKIE_SECONDS = 12 * 60 * 60


def _other_language() -> str:
    current = translation.get_language()
    return next((code for code, _n in settings.LANGUAGES if code != current), current)


# --- Devices ------------------------------------------------------------------------------------


def _device_or_404(token: str, kind: str) -> Device:
    return get_object_or_404(
        Device.objects.select_related("branch"),
        token=token,
        kind=kind,
        is_active=True,
        branch__is_active=True,
    )


def _display_branch_id(token: str) -> int:
    """The branch of an active display, from the cache when it can (no query for an idle poll).

    Only active displays are cached: a stream of made-up tokens costs an indexed 404 each but
    cannot fill the cache (nor push the boards' versions out of it). The key holds a digest,
    never the token itself.
    """
    key = "reception:device:display:" + hashlib.sha256(token.encode()).hexdigest()
    branch_id = cache.get(key)
    if branch_id is None:
        branch_id = (
            Device.objects.filter(
                token=token, kind=DeviceKind.DISPLAY, is_active=True, branch__is_active=True
            )
            .values_list("branch_id", flat=True)
            .first()
        )
        if branch_id is None:
            raise Http404
        cache.set(key, branch_id, timeout=DEVICE_CACHE_SECONDS)
    return branch_id


# --- Kiosk --------------------------------------------------------------------------------------


class KioskIssueForm(forms.Form):
    service = forms.ModelChoiceField(queryset=ServiceType.objects.none())

    def __init__(self, *args, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services


def _kiosk_services(branch):
    return ServiceType.objects.filter(branch=branch, is_active=True).select_related("branch")


def _closed_page(request, branch: Branch, refresh_url: str):
    """Opening hours in both languages; it looks again every minute, so it opens by itself."""
    hours = list(branch.opening_hours.all())
    response = render(
        request,
        "reception/public/closed.html",
        {
            "branch": branch,
            "hours": hours,
            "languages_both": [code for code, _n in settings.LANGUAGES],
            "refresh_url": refresh_url,
            "refresh_seconds": KIOSK_CLOSED_SECONDS,
        },
    )
    return public_response(response)


@require_http_methods(["GET", "POST"])
@in_page_language
def kiosk(request, token: str):
    """The service list; a touch on a service issues a ticket (then shows it, PRG)."""
    device = _device_or_404(token, DeviceKind.KIOSK)
    services = _kiosk_services(device.branch)
    error = None
    status = 200
    if request.method == "POST":
        form = KioskIssueForm(request.POST, services=services)
        if form.is_valid():
            try:
                ticket = ticket_issue(
                    actor=None, service_type=form.cleaned_data["service"], source=VisitSource.KIOSK
                )
            except BranchClosed:
                return _closed_page(request, device.branch, request.path)
            except DomainError as refused:  # the service was withdrawn meanwhile
                error, status = refused.message, 409
            else:
                url = reverse("reception_public:kiosk-ticket", args=[token, ticket.public_token])
                return redirect(with_lang(url, request.page_lang))
        else:
            error, status = _("Please choose one of the services shown."), 400
    if not branch_is_open(device.branch, timezone.now()):
        return _closed_page(request, device.branch, request.path)
    response = render(
        request,
        "reception/public/kiosk.html",
        {
            "branch": device.branch,
            "services": services,
            "error": error,
            "page_lang": request.page_lang,
            "languages": language_links(request),
            "refresh_url": reverse("reception_public:kiosk", args=[token]),
            "refresh_seconds": KIOSK_IDLE_SECONDS,
        },
        status=status,
    )
    return public_response(response)


def _qr_svg(url: str) -> str:
    # segno draws with presentation attributes only (no style attribute, no script): inline
    # <svg> passes CSP's style-src 'self'. omitsize leaves the size to the stylesheet.
    code = segno.make(url, error="m")
    return mark_safe(  # noqa: S308 - segno's own markup around our own URL
        code.svg_inline(
            scale=1, omitsize=True, dark="#0b1f3a", svgclass="qr", lineclass=None, title=url
        )
    )


def status_url(request, ticket: Ticket) -> str:
    """The absolute address of the ticket's status page (what its QR code says).

    RECEPTION_PUBLIC_BASE_URL (e.g. https://queue.bank.example) when kiosks reach the site by
    an address a phone cannot (an internal host name); otherwise the address of this request.
    """
    path = reverse("reception_public:status", args=[ticket.public_token])
    base = getattr(settings, "RECEPTION_PUBLIC_BASE_URL", "")
    return base.rstrip("/") + path if base else request.build_absolute_uri(path)


def _minutes(wait) -> int:
    return math.ceil(wait.total_seconds() / 60)


@require_GET
@in_page_language
def kiosk_ticket(request, token: str, public_token: str):
    """The ticket just issued: number, service, place in the queue, QR code to the status page."""
    device = _device_or_404(token, DeviceKind.KIOSK)
    ticket = get_object_or_404(
        Ticket.objects.select_related("service_type"),
        public_token=public_token,
        branch_id=device.branch_id,
    )
    position = ticket_position(ticket)
    link = status_url(request, ticket)
    return public_response(
        render(
            request,
            "reception/public/ticket.html",
            {
                "branch": device.branch,
                "ticket": ticket,
                "position": position,
                "wait_minutes": _minutes(position.estimated_wait) if position else None,
                "qr": _qr_svg(link),
                "status_link": link,
                "return_url": reverse("reception_public:kiosk", args=[token]),
                "refresh_url": reverse("reception_public:kiosk", args=[token]),
                "refresh_seconds": KIOSK_TICKET_SECONDS,
            },
        )
    )


# --- Display board ------------------------------------------------------------------------------


@require_GET
@in_page_language
def board(request, token: str):
    """The TV page; board.js keeps it current from the feed."""
    device = _device_or_404(token, DeviceKind.DISPLAY)
    feed = board_feed(branch=device.branch)
    english = translation.get_language().startswith("en")
    waiting = [
        {
            **row,
            "name": row["name_en"] if english else row["name_zh"],
            "name_alt": row["name_zh"] if english else row["name_en"],
        }
        for row in feed["waiting"]
    ]
    last_calls = [
        {**call, "local_time": dt.datetime.fromisoformat(call["called_at"])}
        for call in feed["last_calls"]
    ]
    # Times on the board are the branch's wall clock.
    with timezone.override(device.branch.zone):
        response = render(
            request,
            "reception/public/board.html",
            {
                "branch": device.branch,
                "device": device,
                "feed": feed,
                "waiting": waiting,
                "last_calls": last_calls,
                "local_now": timezone.now(),
                "alt_lang": _other_language(),
                "feed_url": reverse("reception_public:board-feed", args=[token]),
                "poll_ms": BOARD_POLL_MS,
            },
        )
    return public_response(response)


def _etag(version) -> str:
    return f'"{version}"'


@require_GET
def board_feed_view(request, token: str):
    """The board's JSON; 304 from the cache alone when the board already has this version.

    The board sends the version it has as `?v=` (or its ETag as If-None-Match). An idle poll
    makes no database query: the device lookup and the version both come from the cache.
    """
    branch_id = _display_branch_id(token)
    version = board_version(branch_id)
    known = request.GET.get("v") or request.headers.get("If-None-Match", "").strip('W/" ')
    if known == str(version):
        response = HttpResponseNotModified()
    else:
        feed = board_feed(branch=get_object_or_404(Branch, pk=branch_id))
        response = JsonResponse(feed)
        version = feed["version"]
    response["ETag"] = _etag(version)
    response["Cache-Control"] = "no-cache"
    return response


# --- Remote check-in (the customer's own phone) -------------------------------------------------


class RemoteCheckinForm(forms.Form):
    """A service and, if the customer wants the "you're next" SMS, their phone number.

    The number is kept with the visit only when the SMS is asked for (consent for this ticket
    alone); without the tick it is not stored.
    """

    service = forms.ModelChoiceField(queryset=ServiceType.objects.none())
    phone = forms.CharField(required=False, max_length=32)
    sms_when_next = forms.BooleanField(required=False)

    def __init__(self, *args, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services
        self.fields["service"].error_messages["required"] = _("Please choose a service.")
        self.fields["service"].error_messages["invalid_choice"] = _(
            "Please choose one of the services shown."
        )

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        return normalize_phone(phone) if phone else ""

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("sms_when_next") and not cleaned.get("phone") and "phone" not in self.errors:
            self.add_error("phone", _("Enter your mobile number to get the SMS."))
        if not cleaned.get("sms_when_next"):
            cleaned["phone"] = ""
        return cleaned


def _remote_services(branch):
    return _kiosk_services(branch).filter(remote_checkin=True)


def _remote_ticket_in_cookie(request) -> Ticket | None:
    """The open ticket this browser took remotely, if any (one at a time per browser)."""
    token = request.get_signed_cookie(
        REMOTE_COOKIE, default=None, salt=REMOTE_COOKIE, max_age=REMOTE_COOKIE_SECONDS
    )
    if not token:
        return None
    return (
        Ticket.objects.filter(public_token=token, status__in=OPEN_STATES)
        .select_related("service_type")
        .first()
    )


@require_http_methods(["GET", "POST"])
@in_page_language
def remote_checkin(request, branch_code: str):
    """Join a queue from one's own phone while the branch is open, then follow the status page."""
    branch = get_object_or_404(Branch, code=branch_code, is_active=True)
    here = reverse("reception_public:checkin", args=[branch.code])
    if not branch_is_open(branch, timezone.now()):
        return _closed_page(request, branch, here)
    services = _remote_services(branch)
    existing = _remote_ticket_in_cookie(request)
    status = 200
    form = RemoteCheckinForm(services=services)
    if existing is None and request.method == "POST":
        form = RemoteCheckinForm(request.POST, services=services)
        if not form.is_valid():
            status = 400
        elif over_rate_limit(
            request, scope="remote", limit=REMOTE_TICKETS_PER_WINDOW, seconds=REMOTE_WINDOW_SECONDS
        ):
            form.add_error(
                None,
                _(
                    "Too many numbers were taken from this connection. Please try again in "
                    "%(minutes)d minutes or ask our staff in the branch."
                )
                % {"minutes": REMOTE_WINDOW_SECONDS // 60},
            )
            status = 429
        else:
            data = form.cleaned_data
            try:
                ticket = ticket_issue(
                    actor=None,
                    service_type=data["service"],
                    source=VisitSource.REMOTE,
                    contact_phone=data["phone"],
                    sms_when_next=data["sms_when_next"],
                    language=translation.get_language(),
                )
            except BranchClosed:
                return _closed_page(request, branch, here)
            except DomainError as refused:  # the service was withdrawn meanwhile
                form.add_error(None, refused.message)
                status = 409
            else:
                url = reverse("reception_public:status", args=[ticket.public_token])
                response = public_response(redirect(with_lang(url, request.page_lang)))
                response.set_signed_cookie(
                    REMOTE_COOKIE,
                    ticket.public_token,
                    salt=REMOTE_COOKIE,
                    max_age=REMOTE_COOKIE_SECONDS,
                    secure=settings.SESSION_COOKIE_SECURE,
                    httponly=True,
                    samesite="Lax",
                )
                return response
    response = render(
        request,
        "reception/public/checkin.html",
        {
            "branch": branch,
            "services": services,
            "form": form,
            "existing": existing,
            "existing_url": (
                with_lang(
                    reverse("reception_public:status", args=[existing.public_token]),
                    request.page_lang,
                )
                if existing
                else None
            ),
            "page_lang": request.page_lang,
            "languages": language_links(request),
        },
        status=status,
    )
    if status == 429:
        response["Retry-After"] = str(REMOTE_WINDOW_SECONDS)
    return public_response(response)


# --- Ticket status (the customer's phone) -------------------------------------------------------


@require_GET
@in_page_language
def ticket_status(request, public_token: str):
    """Where the customer stands: number, service, place and wait, the counter once called."""
    ticket = get_object_or_404(
        Ticket.objects.select_related("service_type", "counter", "branch"),
        public_token=public_token,
    )
    if ticket.status == TicketStatus.TRANSFERRED:
        # The visit goes on under a new number: follow it (the QR code names the first ticket).
        following = Ticket.objects.filter(transferred_from=ticket).only("public_token").first()
        if following is not None:
            url = reverse("reception_public:status", args=[following.public_token])
            return public_response(redirect(with_lang(url, request.page_lang)))
    position = ticket_position(ticket)
    is_open = ticket.status in OPEN_STATES
    return public_response(
        render(
            request,
            "reception/public/status.html",
            {
                "branch": ticket.branch,
                "ticket": ticket,
                "position": position,
                "wait_minutes": _minutes(position.estimated_wait) if position else None,
                "at_counter": ticket.status in AT_COUNTER_STATES and ticket.counter is not None,
                # The same threshold as the "you're next" SMS (reception/next_notice.py).
                "nearly_next": position is not None
                and position.ahead <= settings.RECEPTION_NEXT_SMS_AHEAD,
                "is_open": is_open,
                "languages": language_links(request),
                "refresh_url": with_lang(request.path, request.page_lang) if is_open else None,
                "refresh_seconds": STATUS_REFRESH_SECONDS,
            },
        )
    )
