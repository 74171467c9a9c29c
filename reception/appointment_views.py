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
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from bankservice.branches.models import Branch, Role
from bankservice.branches.scope import can_act_at
from bankservice.core.decorators import require_perm
from bankservice.core.errors import DomainError
from bankservice.core.masking import mask_email, mask_phone
from bankservice.customers.forms import CustomerLookupForm

from . import advisors
from .advisors import display_name, serving_advisors
from .appointments import (
    BOOK_PERM,
    CHANGE_PERM,
    VIEW_PERM,
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_list,
    appointment_reschedule,
    audit_contact_shown,
    available_slots,
    bookable_days,
    manage_path,
    move_slots,
)
from .forms import AvailabilityForm, TimeOffForm
from .models import (
    AdvisorAvailability,
    AdvisorTimeOff,
    AppointmentChannel,
    AppointmentStatus,
    ServiceType,
)

REVEAL_PERM = "customers.reveal_pii"
User = get_user_model()
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
        if reveal:
            audit_contact_shown(request, appointment)
        appointment.is_booked = appointment.status == AppointmentStatus.BOOKED
        appointment.advisor_name = display_name(appointment.advisor) if appointment.advisor else ""
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


class BookForm(CustomerLookupForm):
    """A free slot for an identified customer (found as at the greeter's desk: core-banking ID,
    full ID number or the last digits of the phone) or for a contact (name, phone or e-mail)."""

    starts_at = forms.ChoiceField(label=gettext_lazy("Time"), choices=())
    contact_name = forms.CharField(label=gettext_lazy("Name"), max_length=80, required=False)
    contact_phone = forms.CharField(label=gettext_lazy("Phone"), max_length=32, required=False)
    contact_email = forms.CharField(label=gettext_lazy("E-mail"), max_length=254, required=False)
    consent_sms = forms.BooleanField(label=gettext_lazy("Messages by SMS"), required=False)
    consent_email = forms.BooleanField(label=gettext_lazy("Messages by e-mail"), required=False)
    language = forms.ChoiceField(
        label=gettext_lazy("Language of the messages"), choices=settings.LANGUAGES, required=False
    )
    notes = forms.CharField(label=gettext_lazy("Notes"), max_length=300, required=False)

    def __init__(self, *args, branch, slots, **kwargs):
        super().__init__(*args, **kwargs)
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
    # A service with an advisor: "any advisor" (none) or one named, as on the public page.
    advisor_options = serving_advisors(service) if service and service.with_advisor else []
    advisor = next((a for a in advisor_options if str(a.id) == data.get("advisor")), None)
    advisor_user = User.objects.get(pk=advisor.id) if advisor else None
    slots = (
        available_slots(service_type=service, day=day, now=now, advisor=advisor_user) if day else []
    )
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
                advisor=advisor_user,
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
                "advisors": advisor_options,
                "advisor": advisor,
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
    slots = move_slots(appointment=appointment, day=day, now=now)
    with timezone.override(branch.zone):
        return render(
            request,
            "reception/appointments/reschedule.html",
            {
                "branch": branch,
                "appointment": appointment,
                "advisor_name": display_name(appointment.advisor) if appointment.advisor else "",
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
    # From an advisor's calendar, back to it (a local path only).
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts=None) and back.startswith("/"):
        return redirect(back)
    return _back(appointment, checked_in=ticket.pk)


# --- Advisor calendars ------------------------------------------------------------------------


def access_advisor(user, advisor_id: int, perm: str = advisors.VIEW_PERM):
    """An advisor whose calendar `user` may see (their own, or one at the user's branches with
    `perm`); otherwise 404. Not locked: the calendar services lock the advisor's row."""
    advisor = User.objects.filter(pk=advisor_id, is_active=True).first()
    if advisor is None or not advisors.may_see_calendar(user, advisor, perm):
        raise Http404
    return advisor


def _calendar_url(advisor_id: int, **params) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    url = reverse("reception:advisor-calendar", args=[advisor_id])
    return f"{url}?{query}" if query else url


@require_http_methods(["GET"])
@require_perm(advisors.VIEW_PERM)
def advisor_list_view(request):
    """The advisors at one of the user's branches, each linking to their calendar."""
    branches = _branches_with(request.user, advisors.VIEW_PERM)
    branch = _chosen_branch(request.GET.get("branch"), branches)
    people = advisors.advisors_visible_to(request.user).filter(
        memberships__branch=branch, memberships__role__name=Role.ADVISOR
    )
    return render(
        request,
        "reception/appointments/advisors.html",
        {
            "branch": branch,
            "branches": branches,
            "advisors": [(a, advisors.display_name(a)) for a in people],
        },
    )


def _branches_with(user, perm: str) -> list[Branch]:
    return list(Branch.objects.visible_to(user, perm).filter(is_active=True))


@require_http_methods(["GET"])
@login_required
def my_calendar(request):
    """The signed-in advisor's own calendar ("my appointments"), same week and branch."""
    return redirect(
        _calendar_url(
            request.user.pk, week=request.GET.get("week"), branch=request.GET.get("branch")
        )
    )


@require_http_methods(["GET"])
@require_perm(advisors.VIEW_PERM)
def advisor_calendar(request, advisor_id: int):
    """An advisor's week: weekly availability, time off, appointments (with who has checked in
    and their ticket), and booked appointments that clash with time off, to be moved."""
    user = request.user
    advisor = access_advisor(user, advisor_id)
    week = _advisor_week(request, advisor)
    return _render_calendar(request, advisor, week)


def _advisor_week(request, advisor):
    return advisors.advisor_week(
        advisor=advisor,
        day=parse_date(request.GET.get("week") or ""),
        branch_id=request.GET.get("branch"),
    )


def _render_calendar(
    request, advisor, week, availability_form=None, time_off_form=None, status=200
):
    user = request.user
    branch = week.branch
    can_plan = branch is not None and can_act_at(user, advisors.ADD_PERM, branch.pk)
    can_take_time_off = advisors.may_edit_time_off(
        user, advisor, branch_ids={b.pk for b in week.branches}
    )
    can_change = {
        a.branch_id: can_act_at(user, CHANGE_PERM, a.branch_id) for a in week.appointments
    }
    reveal = {b.pk: can_act_at(user, REVEAL_PERM, b.pk) for b in week.branches}
    days = []
    for day in week.days:
        rows = [a for a in week.availability if a.weekday == day.isoweekday()]
        rows = [
            a
            for a in rows
            if (a.valid_from is None or a.valid_from <= day)
            and (a.valid_until is None or a.valid_until >= day)
        ]
        booked = [a for a in week.appointments if timezone.localdate(a.starts_at, week.zone) == day]
        days.append({"day": day, "availability": rows, "appointments": booked})
    for appointment in week.appointments:
        appointment.can_change = can_change.get(appointment.branch_id, False)
        appointment.is_booked = appointment.status == AppointmentStatus.BOOKED
        if reveal.get(appointment.branch_id):
            appointment.phone_shown = appointment.contact_phone
            audit_contact_shown(request, appointment, fields=("phone",))
        else:
            appointment.phone_shown = mask_phone(appointment.contact_phone)
        appointment.clashes = appointment.is_booked and any(
            t.starts_at < appointment.ends_at and t.ends_at > appointment.starts_at
            for t in week.time_off
        )
    with timezone.override(week.zone):
        return render(
            request,
            "reception/appointments/calendar.html",
            {
                "advisor": advisor,
                "advisor_name": advisors.display_name(advisor),
                "week": week,
                "days": days,
                "branch": branch,
                "previous_week": week.first - dt.timedelta(days=7),
                "next_week": week.first + dt.timedelta(days=7),
                "clashes": [a for a in week.appointments if a.clashes],
                "can_plan": can_plan,
                "can_take_time_off": can_take_time_off,
                "availability_form": availability_form
                or (AvailabilityForm(branch=branch) if can_plan else None),
                "time_off_form": time_off_form or (TimeOffForm() if can_take_time_off else None),
            },
            status=status,
        )


@require_POST
@require_perm(advisors.ADD_PERM)
def availability_add_view(request, advisor_id: int):
    """A branch manager adds a weekly period to an advisor's calendar."""
    advisor = access_advisor(request.user, advisor_id, advisors.ADD_PERM)
    week = _advisor_week(request, advisor)
    if week.branch is None:
        raise Http404
    form = AvailabilityForm(request.POST, branch=week.branch)
    if form.is_valid():
        try:
            advisors.availability_add(
                actor=request.user, advisor=advisor, branch=week.branch, **form.cleaned_data
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Availability added."))
            return redirect(_calendar_url(advisor.pk, branch=week.branch.pk, week=week.first))
    return _render_calendar(request, advisor, week, availability_form=form, status=400)


@require_POST
@require_perm(advisors.DELETE_PERM)
def availability_delete_view(request, availability_id: int):
    row = (
        AdvisorAvailability.objects.visible_to(request.user, advisors.DELETE_PERM)
        .select_related("advisor", "branch")
        .filter(pk=availability_id)
        .first()
    )
    if row is None:
        raise Http404
    advisors.availability_delete(actor=request.user, availability=row)
    messages.success(request, _("Availability removed."))
    return redirect(_calendar_url(row.advisor_id, branch=row.branch_id))


@require_POST
@require_perm(advisors.TIME_OFF_PERM)
def time_off_add_view(request, advisor_id: int):
    """Time off: an advisor for themselves, a manager for their branches' advisors. Booked
    appointments in that time are listed on the calendar to be moved."""
    advisor = access_advisor(request.user, advisor_id, advisors.TIME_OFF_PERM)
    week = _advisor_week(request, advisor)
    with timezone.override(week.zone):
        form = TimeOffForm(request.POST)
        valid = form.is_valid()
    if valid:
        try:
            time_off, clashes = advisors.time_off_add(
                actor=request.user, advisor=advisor, **form.cleaned_data
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            if clashes:
                messages.warning(
                    request,
                    ngettext(
                        "Time off added. %(count)d booked appointment falls in it: move it below.",
                        "Time off added. %(count)d booked appointments fall in it: move them "
                        "below.",
                        len(clashes),
                    )
                    % {"count": len(clashes)},
                )
            else:
                messages.success(request, _("Time off added."))
            first = timezone.localdate(time_off.starts_at, week.zone)
            return redirect(
                _calendar_url(advisor.pk, branch=week.branch and week.branch.pk, week=first)
            )
    return _render_calendar(request, advisor, week, time_off_form=form, status=400)


@require_POST
@require_perm(advisors.TIME_OFF_DELETE_PERM)
def time_off_delete_view(request, time_off_id: int):
    time_off = AdvisorTimeOff.objects.select_related("advisor").filter(pk=time_off_id).first()
    if time_off is None or not advisors.may_see_calendar(
        request.user, time_off.advisor, advisors.TIME_OFF_DELETE_PERM
    ):
        raise Http404
    advisors.time_off_delete(actor=request.user, time_off=time_off)
    messages.success(request, _("Time off removed."))
    return redirect(_calendar_url(time_off.advisor_id))
