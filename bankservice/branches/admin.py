"""Configuration screens: regions, branches, calendars, staff memberships."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _

from .models import Branch, BusinessCalendar, CalendarDay, OpeningHours, Region, StaffMembership
from .services import calendar_import, membership_grant, membership_revoke


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region", "time_zone", "calendar", "is_active"]
    list_filter = ["region", "is_active"]
    search_fields = ["code", "name"]
    inlines = [OpeningHoursInline]


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 0


class CalendarImportForm(forms.Form):
    file = forms.FileField(label=_("CSV (date,kind,name) or iCalendar (.ics) file"))


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "weekend_days"]
    inlines = [CalendarDayInline]
    change_form_template = "admin/branches/businesscalendar/change_form.html"

    def get_urls(self):
        return [
            path(
                "<int:calendar_id>/import/",
                self.admin_site.admin_view(self.import_view),
                name="branches_businesscalendar_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request, calendar_id: int):
        calendar = get_object_or_404(BusinessCalendar, pk=calendar_id)
        if not self.has_change_permission(request, calendar):
            return redirect("admin:index")
        form = CalendarImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            fmt = "ical" if upload.name.lower().endswith((".ics", ".ical")) else "csv"
            try:
                result = calendar_import(
                    calendar=calendar, content=upload.read().decode("utf-8-sig"), fmt=fmt
                )
            except (ValidationError, UnicodeDecodeError) as exc:
                form.add_error("file", getattr(exc, "messages", [str(exc)]))
            else:
                messages.success(
                    request,
                    _("%(created)d days added, %(updated)d updated.")
                    % {"created": result.created, "updated": result.updated},
                )
                return redirect("admin:branches_businesscalendar_change", calendar.pk)
        context = {**self.admin_site.each_context(request), "form": form, "calendar": calendar}
        return render(request, "admin/branches/businesscalendar/import.html", context)


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    """Memberships go through the services so that user groups stay in step."""

    list_display = ["user", "role", "branch", "region"]
    list_filter = ["role", "branch", "region"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]

    def save_model(self, request, obj, form, change):
        if change:
            membership_revoke(membership=StaffMembership.objects.get(pk=obj.pk))
        saved = membership_grant(
            user=obj.user, role=obj.role.name, branch=obj.branch, region=obj.region
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        membership_revoke(membership=obj)

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            membership_revoke(membership=membership)
