"""Reception configuration: services, counters, priority rules, kiosks and boards; appointments
and advisors' calendars to look at (they change through the staff pages and the API)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from bankservice.core.admin_mixins import ReadOnlyAdminMixin
from bankservice.core.masking import mask_email, mask_phone

from .models import (
    AdvisorAvailability,
    AdvisorTimeOff,
    Appointment,
    Counter,
    CounterService,
    Device,
    PriorityRule,
    ServiceType,
    Ticket,
)


@admin.register(ServiceType)
class ServiceTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "prefix", "branch", "target_wait_minutes"]
    list_filter = ["branch", "category", "is_active", "bookable", "with_advisor"]
    search_fields = ["code", "name_zh", "name_en"]


class CounterServiceInline(admin.TabularInline):
    model = CounterService
    extra = 1


@admin.register(Counter)
class CounterAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "branch", "state", "staff"]
    list_filter = ["branch", "state"]
    inlines = [CounterServiceInline]
    # State and staff change when staff sign in at the console, not here.
    readonly_fields = ["state", "staff"]


@admin.register(PriorityRule)
class PriorityRuleAdmin(admin.ModelAdmin):
    list_display = ["branch", "max_wait_minutes", "ratio_priority", "ratio_standard"]


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "branch", "is_active"]
    list_filter = ["branch", "kind", "is_active"]
    readonly_fields = ["token"]


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["number", "branch", "business_date", "service_type", "status", "counter"]
    list_filter = ["branch", "status", "business_date"]
    search_fields = ["number"]


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Appointments change through the staff pages, the public page and the API (each step is
    an event); here they are only looked at, with the booking contact masked."""

    list_display = ["starts_at", "branch", "service_type", "advisor", "status", "channel"]
    list_filter = ["branch", "status", "channel"]
    date_hierarchy = "starts_at"
    exclude = ["contact_phone", "contact_email", "reference"]
    readonly_fields = ["phone_masked", "email_masked"]

    @admin.display(description=_("phone"))
    def phone_masked(self, appointment: Appointment) -> str:
        return mask_phone(appointment.contact_phone)

    @admin.display(description=_("e-mail"))
    def email_masked(self, appointment: Appointment) -> str:
        return mask_email(appointment.contact_email)


@admin.register(AdvisorAvailability)
class AdvisorAvailabilityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Edited on the advisor's calendar page (/reception/advisors/), where each change is checked
    against the branch scope and recorded as an event."""

    list_display = ["advisor", "branch", "weekday", "starts", "ends", "valid_from", "valid_until"]
    list_filter = ["branch", "weekday"]


@admin.register(AdvisorTimeOff)
class AdvisorTimeOffAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Added on the advisor's calendar page, which lists the appointments it clashes with."""

    list_display = ["advisor", "starts_at", "ends_at", "reason"]
    date_hierarchy = "starts_at"
