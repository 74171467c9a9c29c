"""Staff appointment pages: the day's and upcoming appointments of a branch, booking for a
customer or a contact, moving, cancelling and checking in (which issues the ticket).

Same rules as the floor view: pages read through scoped selectors (outside the user's branches
a 404), each action is a POST calling one service and redirecting back, and a refused step comes
back as a message. Contact phone numbers and e-mail addresses are masked unless the role may see
personal data at the branch.
"""

import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from bankservice.branches.models import Branch
from bankservice.branches.scope import can_act_at
from bankservice.core.decorators import require_perm
from bankservice.core.errors import DomainError
from bankservice.core.masking import mask_email, mask_phone
from bankservice.customers.filters import CustomerFilter
from bankservice.customers.selectors import customer_list

from .appointments import (
    BOOK_PERM,
    CHANGE_PERM,
    VIEW_PERM,
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_list,
    appointment_reschedule,
    available_slots,
    bookable_days,
    manage_path,
)
from .forms import MAX_CANDIDATES
from .models import AppointmentChannel, AppointmentStatus, ServiceType

REVEAL_PERM = "customers.reveal_pii"
# How many days the list shows from the chosen day on.
LIST_DAYS = 7


def access_appointment(user, appointment_id: int, perm: str = CHANGE_PERM):
    """An appointment of a branch where `user` holds `perm`; otherwise 404.

    Not locked here: every appointment service locks the row (booking and moving also lock the
    service's row for the slot count) and checks the status again under the lock.
    """
    appointment = appointment_list(principal=user, perm=perm).filter(pk=appointment_id).first()
    if appointment is None:
        raise Http404
    return appointment


def _branches(user) -> list[Branch]:
    return list(Branch.objects.visible_to(user, VIEW_PERM).filter(is_active=True))


def _chosen_branch(raw, branches: list[Branch]) -> Branch:
    if raw is None and branches:
        return branches[0]
    branch = next((b for b in branches if str(b.pk) == raw), None)
    if branch is None:
        raise Http404
    return branch


def _list_url(branch_id: int, **params) -> str:
    query = urlencode({"branch": branch_id, **{k: v for k, v in params.items() if v}})
    return f"{reverse('reception:appointments')}?{query}"


def _bookable_services(branch: Branch):
    return ServiceType.objects.filter(branch=branch, bookable=True, is_active=True)


# --- The list ---------------------------------------------------------------------------------


@require_http_methods(["GET"])
@require_perm(VIEW_PERM)
def appointment_list_view(request):
    """Appointments of one branch from a day on (today by default), optionally one service."""
    user = request.user
    branches = _branches(user)
    branch = _chosen_branch(request.GET.get("branch"), branches)
    today = timezone.localdate(timezone.now(), branch.zone)
    day = parse_date(request.GET.get("day") or "") or today
    services = list(ServiceType.objects.filter(branch=branch).order_by("sort_order", "code"))
    service = next((s for s in services if str(s.pk) == request.GET.get("service")), None)
    start = dt.datetime.combine(day, dt.time(0), tzinfo=branch.zone)
    rows = appointment_list(principal=user).filter(
        branch=branch, starts_at__gte=start, starts_at__lt=start + dt.timedelta(days=LIST_DAYS)
    )
    if service is not None:
        rows = rows.filter(service_type=service)
    reveal = can_act_at(user, REVEAL_PERM, branch.pk)
    appointments = []
    for appointment in rows.order_by("starts_at", "id"):
        phone, email = appointment.contact_phone, appointment.contact_email
        appointment.phone_shown = phone if reveal else mask_phone(phone)
        appointment.email_shown = email if reveal else mask_email(email)
        appointment.is_booked = appointment.status == AppointmentStatus.BOOKED
        appointments.append(appointment)
    checked_in = None
    if request.GET.get("checked_in", "").isdigit():
        checked_in = next(
            (a for a in appointments if a.ticket_id == int(request.GET["checked_in"])), None
        )
    with timezone.override(branch.zone):
        return render(
            request,
            "reception/appointments/list.html",
            {
                "branch": branch,
                "branches": branches,
                "day": day,
                "today": today,
                "services": services,
                "service": service,
                "appointments": appointments,
                "checked_in": checked_in,
                "can_book": can_act_at(user, BOOK_PERM, branch.pk),
                "can_change": can_act_at(user, CHANGE_PERM, branch.pk),
                "list_days": LIST_DAYS,
            },
        )


# --- Booking ----------------------------------------------------------------------------------


class BookForm(forms.Form):
    """A free slot for an identified customer (found as at the greeter's desk: core-banking ID,
    full ID number or the last digits of the phone) or for a contact (name, phone or e-mail)."""

    starts_at = forms.ChoiceField(label=gettext_lazy("Time"), choices=())
    customer_query = forms.CharField(
        label=gettext_lazy("Customer record"),
        required=False,
        max_length=64,
        help_text=gettext_lazy(
            "Core-banking ID, full ID number or the last 4+ digits of the phone"
        ),
    )
    # Picked from the candidates when the search matched several customers.
    customer = forms.ModelChoiceField(
        queryset=None,
        required=False,
        widget=forms.HiddenInput,
        error_messages={
            "invalid_choice": gettext_lazy("That customer is not one you may see; search again.")
        },
    )
    contact_name = forms.CharField(label=gettext_lazy("Name"), max_length=80, required=False)
    contact_phone = forms.CharField(label=gettext_lazy("Phone"), max_length=32, required=False)
    contact_email = forms.CharField(label=gettext_lazy("E-mail"), max_length=254, required=False)
    consent_sms = forms.BooleanField(label=gettext_lazy("Messages by SMS"), required=False)
    consent_email = forms.BooleanField(label=gettext_lazy("Messages by e-mail"), required=False)
    language = forms.ChoiceField(
        label=gettext_lazy("Language of the messages"), choices=settings.LANGUAGES, required=False
    )
    notes = forms.CharField(label=gettext_lazy("Notes"), max_length=300, required=False)

    def __init__(self, *args, branch, principal, slots, **kwargs):
        super().__init__(*args, **kwargs)
        self.principal = principal
        self.candidates = []
        self.fields["customer"].queryset = customer_list(principal=principal)
        self.fields["starts_at"].choices = [
            (
                slot.starts_at.isoformat(),
                _("%(time)s (%(left)d left)")
                % {
                    "time": timezone.localtime(slot.starts_at, branch.zone).strftime("%H:%M"),
                    "left": slot.remaining,
                },
            )
            for slot in slots
            if slot.is_free
        ]

    def clean(self):
        cleaned = super().clean()
        query = (cleaned.get("customer_query") or "").strip()
        if cleaned.get("customer") is None and query:
            visible = customer_list(principal=self.principal)
            matches = list(CustomerFilter({"q": query}, queryset=visible).qs[: MAX_CANDIDATES + 1])
            if not matches:
                self.add_error("customer_query", _("No customer matches; check the number."))
            elif len(matches) > MAX_CANDIDATES:
                self.add_error(
                    "customer_query", _("Too many customers match; type the full number.")
                )
            elif len(matches) > 1:
                self.candidates = matches
                self.add_error("customer_query", _("Several customers match: choose one below."))
            else:
                cleaned["customer"] = matches[0]
        if (
            not self.errors
            and cleaned.get("customer") is None
            and not cleaned.get("contact_name", "").strip()
        ):
            self.add_error(
                "contact_name", _("Find the customer's record, or give a name and a phone.")
            )
        return cleaned


@require_http_methods(["GET", "POST"])
@require_perm(BOOK_PERM)
def appointment_new(request):
    """Book: choose a service and a day (GET), then a free time and who is coming (POST)."""
    user = request.user
    data = request.POST if request.method == "POST" else request.GET
    branches = list(Branch.objects.visible_to(user, BOOK_PERM).filter(is_active=True))
    branch = _chosen_branch(data.get("branch"), branches)
    services = list(_bookable_services(branch).select_related("branch__calendar"))
    service = next((s for s in services if str(s.pk) == data.get("service_type")), None)
    now = timezone.now()
    days = bookable_days(service_type=service, now=now) if service else []
    day = parse_date(data.get("day") or "")
    day = day if day in days else (days[0] if days else None)
    slots = available_slots(service_type=service, day=day, now=now) if day else []
    form = None
    if service is not None:
        form = BookForm(
            request.POST if request.method == "POST" else None,
            branch=branch,
            principal=user,
            slots=slots,
            initial={"language": settings.LANGUAGE_CODE},
        )
    if request.method == "POST" and form is not None and form.is_valid():
        data = form.cleaned_data
        try:
            appointment = appointment_book(
                actor=user,
                service_type=service,
                starts_at=parse_datetime(data["starts_at"]),
                customer=data.get("customer"),
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                contact_email=data["contact_email"],
                consent_sms=data["consent_sms"],
                consent_email=data["consent_email"],
                notes=data["notes"],
                # A customer record has its own language; a contact's is chosen here.
                language="" if data.get("customer") else data["language"],
                channel=AppointmentChannel.STAFF,
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                _("Appointment booked for %(time)s. The customer's link: %(link)s")
                % {
                    "time": timezone.localtime(appointment.starts_at, branch.zone).strftime(
                        "%Y-%m-%d %H:%M"
                    ),
                    "link": manage_path(appointment),
                },
            )
            day = timezone.localdate(appointment.starts_at, branch.zone)
            return redirect(_list_url(branch.pk, day=day.isoformat()))
    with timezone.override(branch.zone):
        return render(
            request,
            "reception/appointments/new.html",
            {
                "branch": branch,
                "branches": branches,
                "services": services,
                "service": service,
                "days": days,
                "day": day,
                "form": form,
            },
            status=400 if request.method == "POST" else 200,
        )


# --- Steps ------------------------------------------------------------------------------------


def _back(appointment, **params):
    day = timezone.localdate(appointment.starts_at, appointment.branch.zone)
    return redirect(_list_url(appointment.branch_id, day=day.isoformat(), **params))


@require_http_methods(["GET", "POST"])
@require_perm(CHANGE_PERM)
def appointment_reschedule_view(request, appointment_id: int):
    """Pick another free time of the same service and move the appointment there."""
    appointment = access_appointment(request.user, appointment_id)
    branch = appointment.branch
    appointment.service_type.branch = branch
    if appointment.status != AppointmentStatus.BOOKED:
        messages.error(request, _("Only a booked appointment can be moved."))
        return _back(appointment)
    now = timezone.now()
    if request.method == "POST":
        starts_at = parse_datetime(request.POST.get("starts_at") or "")
        try:
            if starts_at is None:
                raise DomainError(_("Choose a new time."))
            appointment = appointment_reschedule(
                actor=request.user, appointment=appointment, starts_at=starts_at
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Appointment moved."))
            return _back(appointment)
    days = bookable_days(service_type=appointment.service_type, now=now)
    day = parse_date(request.GET.get("day") or "")
    day = day if day in days else timezone.localdate(appointment.starts_at, branch.zone)
    slots = [
        s
        for s in available_slots(
            service_type=appointment.service_type, day=day, now=now, exclude=appointment
        )
        if s.is_free and s.starts_at != appointment.starts_at
    ]
    with timezone.override(branch.zone):
        return render(
            request,
            "reception/appointments/reschedule.html",
            {
                "branch": branch,
                "appointment": appointment,
                "days": days,
                "day": day,
                "slots": slots,
            },
        )


@require_POST
@require_perm(CHANGE_PERM)
def appointment_cancel_view(request, appointment_id: int):
    appointment = access_appointment(request.user, appointment_id)
    try:
        appointment_cancel(
            actor=request.user,
            appointment=appointment,
            reason=request.POST.get("reason", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Appointment cancelled."))
    return _back(appointment)


@require_POST
@require_perm(CHANGE_PERM)
def appointment_check_in_view(request, appointment_id: int):
    """The customer is here: issue the ticket and show its number."""
    appointment = access_appointment(request.user, appointment_id)
    try:
        ticket = appointment_check_in(actor=request.user, appointment=appointment)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _back(appointment)
    messages.success(
        request,
        _("Checked in: ticket %(number)s for %(service)s.")
        % {"number": ticket.number, "service": ticket.service_type.name},
    )
    return _back(appointment, checked_in=ticket.pk)
