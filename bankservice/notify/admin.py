"""Notifications in the admin: read only (services write them), with a retry action.

Quiet hours per branch are configuration and editable.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from bankservice.core.admin_mixins import ReadOnlyAdminMixin
from bankservice.core.errors import DomainError

from .models import BranchQuietHours, Notification, NotificationAttempt
from .services import MANAGE_PERM, notification_retry


class NotificationAttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = NotificationAttempt
    extra = 0
    can_delete = False
    fields = [
        "number",
        "at",
        "channel",
        "status",
        "response_code",
        "provider_id",
        "latency_ms",
        "error",
    ]
    readonly_fields = fields


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "created_at",
        "customer",
        "contact_name",
        "branch",
        "channel",
        "template",
        "recipient_masked",
        "language",
        "status",
        "attempts",
        "sent_at",
        "delivered_at",
    ]
    list_filter = [
        "status",
        "channel",
        "template",
        "language",
        "skip_reason",
        "branch",
        "created_at",
    ]
    list_select_related = ["customer", "branch"]
    search_fields = ["=reference", "=provider_id", "=dedupe_key", "=customer__core_banking_id"]
    date_hierarchy = "created_at"
    # The real phone number or address is not here at all (a customer's, or a contact's stored
    # contact_address): only the masked copy.
    fields = [
        "reference",
        "customer",
        "contact_name",
        "branch",
        "channel",
        "template",
        "language",
        "recipient_masked",
        "status",
        "skip_reason",
        "dedupe_key",
        "context",
        "created_at",
        "not_before",
        "next_attempt_at",
        "attempts",
        "claimed_at",
        "sent_at",
        "provider_id",
        "delivered_at",
        "undelivered_reason",
        "last_error",
    ]
    readonly_fields = fields
    inlines = [NotificationAttemptInline]
    actions = ["retry"]

    def has_manage_permission(self, request) -> bool:
        return request.user.has_perm(MANAGE_PERM)

    @admin.action(
        description=_("Send the selected failed notifications again"), permissions=["manage"]
    )
    def retry(self, request, queryset):
        done = refused = 0
        for notification in queryset:
            try:
                notification_retry(notification=notification, actor=request.user)
            except (DomainError, PermissionDenied):
                refused += 1
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d notification queued again.",
                    "%(count)d notifications queued again.",
                    done,
                )
                % {"count": done},
                messages.SUCCESS,
            )
        if refused:
            self.message_user(
                request,
                ngettext(
                    "%(count)d notification was left alone: only failed ones, or ones whose "
                    "outcome is unknown, at branches you manage, can be sent again.",
                    "%(count)d notifications were left alone: only failed ones, or ones whose "
                    "outcome is unknown, at branches you manage, can be sent again.",
                    refused,
                )
                % {"count": refused},
                messages.WARNING,
            )


@admin.register(BranchQuietHours)
class BranchQuietHoursAdmin(admin.ModelAdmin):
    list_display = ["branch", "starts_at", "ends_at", "enabled"]
    list_filter = ["enabled"]
    list_select_related = ["branch"]
