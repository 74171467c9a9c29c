"""Public appointment pages: book a slot without an account, then manage it by its link.

`/book/<branch>/` walks through service → (advisor, for a service booked with one: "any" or a
named advisor, shown by display name only) → day → time → contact details (each step a GET link,
so the back button works), and the booking itself is a POST, limited per client address.
`/a/<reference>/` shows the appointment to whoever holds the link (the reference is the key, as
a ticket's public token is): move it, cancel it, or check in during the check-in window, which
leads on to the ticket's status page. Both languages with `?lang=`, no login, nothing cached.
"""

import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from bankservice.branches.models import Branch
from bankservice.core.errors import BadInput, DomainError
from bankservice.core.public_pages import (
    in_page_language,
    language_links,
    over_rate_limit,
    public_response,
    with_lang,
)

from .advisors import display_name, serving_advisors
from .appointments import (
    CheckInWindow,
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_reschedule,
    available_slots,
    bookable_days,
    manage_path,
    move_slots,
)
from .models import Appointment, AppointmentChannel, AppointmentStatus, ServiceType

# Bookings from one client address per window: enough for a family, not for a script.
BOOKINGS_PER_WINDOW = 5
BOOKING_WINDOW_SECONDS = 3600
User = get_user_model()


class ContactForm(forms.Form):
    """Who is coming; the service checks and normalises the phone and e-mail."""

    name = forms.CharField(label=gettext_lazy("Your name"), max_length=80)
    phone = forms.CharField(label=gettext_lazy("Mobile number"), max_length=32, required=False)
    email = forms.CharField(label=gettext_lazy("E-mail"), max_length=254, required=False)
    consent_sms = forms.BooleanField(
        label=gettext_lazy("Send me the confirmation and a reminder by SMS"), required=False
    )
    consent_email = forms.BooleanField(
        label=gettext_lazy("Send me the confirmation and a reminder by e-mail"), required=False
    )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("phone") and not cleaned.get("email") and not self.errors:
            self.add_error("phone", _("Give a mobile number or an e-mail address."))
        return cleaned


def _pick(options, raw, key=lambda o: str(o.pk)):
    return next((o for o in options if key(o) == raw), None) if raw else None


def _step_url(request, path: str, anchor: str = "", **params) -> str:
    """A link to the next step, keeping the page's language; `anchor` scrolls to that step."""
    query = {k: v for k, v in params.items() if v}
    if request.page_lang:
        query["lang"] = request.page_lang
    url = f"{path}?{urlencode(query)}" if query else path
    return f"{url}#{anchor}" if anchor else url


def _day_links(request, path: str, days: list[dt.date], chosen, **params) -> list[dict]:
    return [
        {
            "day": day,
            "url": _step_url(request, path, anchor="step-time", day=day.isoformat(), **params),
            "current": day == chosen,
        }
        for day in days
    ]


def _slot_links(request, path: str, slots, **params) -> list[dict]:
    return [
        {
            "slot": slot,
            "value": slot.starts_at.isoformat(),
            "url": _step_url(
                request, path, anchor="step-contact", slot=slot.starts_at.isoformat(), **params
            ),
        }
        for slot in slots
    ]


@require_http_methods(["GET", "POST"])
@in_page_language
def book(request, branch_code: str):
    """Choose a service, a day and a free time, give a name and a phone or e-mail, book."""
    branch = get_object_or_404(
        Branch.objects.select_related("calendar"), code=branch_code, is_active=True
    )
    here = request.path
    data = request.POST if request.method == "POST" else request.GET
    services = list(
        ServiceType.objects.filter(branch=branch, bookable=True, is_active=True).order_by(
            "sort_order", "code"
        )
    )
    for service in services:
        service.branch = branch  # the calendar is read once, with the branch
    service = _pick(services, data.get("service"))
    now = timezone.now()
    # With an advisor, the advisor step comes before the day: "any", or one by id.
    advisors = serving_advisors(service) if service and service.with_advisor else []
    advisor = _pick(advisors, data.get("advisor"), key=lambda a: str(a.id))
    advisor_step = "any" if data.get("advisor") == "any" or advisor is None else str(advisor.id)
    advisor_done = not advisors or data.get("advisor") == "any" or advisor is not None
    advisor_user = User.objects.get(pk=advisor.id) if advisor else None
    days = bookable_days(service_type=service, now=now) if service and advisor_done else []
    day = parse_date(data.get("day") or "") if service else None
    day = day if day in days else None
    slots = (
        available_slots(service_type=service, day=day, now=now, advisor=advisor_user) if day else []
    )
    slot = _pick(slots, data.get("slot"), key=lambda s: s.starts_at.isoformat())
    slot = slot if slot and slot.is_free else None
    form = ContactForm(request.POST if request.method == "POST" else None)
    error, status = None, 200
    if request.method == "POST":
        if slot is None:
            error, status = _("That time is no longer free: please choose another."), 409
        elif not form.is_valid():
            status = 400
        elif over_rate_limit(
            request, scope="book", limit=BOOKINGS_PER_WINDOW, seconds=BOOKING_WINDOW_SECONDS
        ):
            error = _(
                "Too many appointments were booked from this connection. Please try again in "
                "%(minutes)d minutes or call the branch."
            ) % {"minutes": BOOKING_WINDOW_SECONDS // 60}
            status = 429
        else:
            contact = form.cleaned_data
            try:
                appointment = appointment_book(
                    actor=None,
                    service_type=service,
                    starts_at=slot.starts_at,
                    contact_name=contact["name"],
                    contact_phone=contact["phone"],
                    contact_email=contact["email"],
                    consent_sms=contact["consent_sms"],
                    consent_email=contact["consent_email"],
                    channel=AppointmentChannel.PUBLIC,
                    language=translation.get_language(),
                    advisor=advisor_user,
                )
            except DomainError as refused:
                field = {"contact_phone": "phone", "contact_email": "email"}.get(refused.field)
                if field:
                    form.add_error(field, refused.message)
                    status = 400
                else:
                    error, status = refused.message, refused.status_code
            else:
                return public_response(
                    redirect(_step_url(request, manage_path(appointment), booked=1))
                )
    params = {
        "service": service.pk if service else None,
        "advisor": advisor_step if advisors else None,
    }
    with timezone.override(branch.zone):
        response = render(
            request,
            "reception/appointments/public_book.html",
            {
                "branch": branch,
                "services": [
                    {
                        "service": s,
                        "url": _step_url(request, here, anchor="step-day", service=s.pk),
                        "current": s == service,
                    }
                    for s in services
                ],
                "service": service,
                "advisors": [
                    {
                        "advisor": a,
                        "url": _step_url(
                            request, here, anchor="step-day", service=service.pk, advisor=a.id
                        ),
                        "current": a == advisor,
                    }
                    for a in advisors
                ],
                "any_advisor_url": advisors
                and _step_url(request, here, anchor="step-day", service=service.pk, advisor="any"),
                "any_advisor": bool(advisors) and data.get("advisor") == "any",
                "advisor": advisor,
                "advisor_done": advisor_done,
                "advisor_step": advisor_step,
                "days": _day_links(request, here, days, day, **params),
                "day": day,
                "slots": _slot_links(
                    request,
                    here,
                    [s for s in slots if s.is_free],
                    day=day and day.isoformat(),
                    **params,
                ),
                "slot": slot,
                "form": form,
                "error": error,
                "page_lang": request.page_lang,
                "languages": language_links(request),
            },
            status=status,
        )
    return public_response(response)


@require_http_methods(["GET", "POST"])
@in_page_language
def manage(request, reference: str):
    """The appointment behind the link: move it, cancel it, or check in when the time comes."""
    appointment = get_object_or_404(
        Appointment.objects.select_related("branch__calendar", "service_type", "ticket", "advisor"),
        reference=reference,
    )
    appointment.service_type.branch = appointment.branch
    here = request.path
    now = timezone.now()
    error, status = None, 200
    if request.method == "POST":
        step = request.POST.get("step")
        try:
            if step == "cancel":
                appointment_cancel(
                    actor=None, appointment=appointment, reason="by the customer (public page)"
                )
            elif step == "reschedule":
                starts_at = parse_datetime(request.POST.get("starts_at") or "")
                if starts_at is None:
                    raise BadInput(_("Please choose a new time."))
                appointment_reschedule(actor=None, appointment=appointment, starts_at=starts_at)
            elif step == "check_in":
                ticket = appointment_check_in(actor=None, appointment=appointment)
                url = reverse("reception_public:status", args=[ticket.public_token])
                return public_response(redirect(with_lang(url, request.page_lang)))
            else:
                raise BadInput(_("Choose what to do with the appointment."))
        except DomainError as refused:
            error, status = refused.message, refused.status_code
        else:
            return public_response(redirect(_step_url(request, here, done=step)))
        appointment.refresh_from_db()
    booked = appointment.status == AppointmentStatus.BOOKED
    window = CheckInWindow.of(appointment)
    days = (
        bookable_days(service_type=appointment.service_type, now=now)
        if booked and request.GET.get("move")
        else []
    )
    day = parse_date(request.GET.get("day") or "")
    day = day if day in days else None
    slots = move_slots(appointment=appointment, day=day, now=now) if day else []
    with timezone.override(appointment.branch.zone):
        response = render(
            request,
            "reception/appointments/public_manage.html",
            {
                "branch": appointment.branch,
                "appointment": appointment,
                "booked": booked,
                "just_booked": request.GET.get("booked") == "1",
                "done": request.GET.get("done"),
                "can_check_in": booked and now >= window.opens,
                "late": booked and now > window.on_time_until,
                "check_in_opens": window.opens,
                "moving": bool(days),
                "days": _day_links(request, here, days, day, move=1),
                "day": day,
                "slots": _slot_links(request, here, slots),
                "advisor_name": display_name(appointment.advisor) if appointment.advisor else "",
                "status_url": (
                    with_lang(
                        reverse("reception_public:status", args=[appointment.ticket.public_token]),
                        request.page_lang,
                    )
                    if appointment.ticket
                    else None
                ),
                "move_url": _step_url(request, here, anchor="move-title", move=1),
                "error": error,
                "page_lang": request.page_lang,
                "languages": language_links(request),
            },
            status=status,
        )
    return public_response(response)
