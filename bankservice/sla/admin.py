"""Deadlines in the admin: read only; services are the only way to change one."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from bankservice.core.admin_mixins import ReadOnlyAdminMixin

from .models import Deadline, DeadlineExtension


class DeadlineExtensionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DeadlineExtension
    fields = ["at", "old_due_at", "new_due_at", "reason", "actor_user", "actor_client"]
    readonly_fields = fields
    extra = 0


class HandlerFailingFilter(admin.SimpleListFilter):
    title = _("breach handler")
    parameter_name = "handler"

    def lookups(self, request, model_admin):
        return [("failing", _("Failing, retrying"))]

    def queryset(self, request, queryset):
        if self.value() == "failing":
            return queryset.filter(state=Deadline.State.OPEN, retry_at__isnull=False)
        return queryset


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "policy",
        "subject_type",
        "subject_id",
        "branch",
        "state",
        "started_at",
        "due_at",
        "warn_at",
        "paused_at",
        "extended_count",
        "handler_failures",
    ]
    list_filter = ["state", "kind", "branch", "clock", HandlerFailingFilter]
    list_select_related = ["branch", "subject_type"]
    search_fields = ["=subject_id", "=id"]
    ordering = ["-id"]
    # Counting a million rows on every page view is the slow part of a changelist.
    show_full_result_count = False
    inlines = [DeadlineExtensionInline]
    fieldsets = [
        (None, {"fields": ["subject_type", "subject_id", "kind", "policy", "clock", "branch"]}),
        (
            _("Timer"),
            {
                "fields": [
                    "state",
                    "started_at",
                    "due_at",
                    "warn_at",
                    "paused_at",
                    "paused_total",
                    "extended_count",
                ]
            },
        ),
        (_("Outcome"), {"fields": ["warned_at", "breached_at", "met_at", "cancelled_at"]}),
        (_("Breach handler"), {"fields": ["handler_failures", "retry_at", "last_error"]}),
    ]
