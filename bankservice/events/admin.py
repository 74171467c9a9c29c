"""Events in the admin: read only; there is no path to change or delete one."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from bankservice.core.admin_mixins import ReadOnlyAdminMixin
from bankservice.core.errors import DomainError

from .models import Event, WebhookAttempt, WebhookDelivery, WebhookSubscription
from .webhook_services import (
    EDITABLE_FIELDS,
    webhook_delivery_resend,
    webhook_subscription_activate,
    webhook_subscription_create,
    webhook_subscription_deactivate,
    webhook_subscription_rotate_secret,
    webhook_subscription_update,
)
from .webhooks import validate_webhook_url


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "type", "occurred_at", "actor_user", "actor_client", "branch", "customer"]
    list_filter = ["type", "branch"]
    date_hierarchy = "occurred_at"


# --- Webhooks: subscriptions are configured here; deliveries are a read-only log with re-send.


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(
        label=gettext_lazy("URL"),
        max_length=500,
        assume_scheme="https",
        validators=[validate_webhook_url],
    )

    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "event_types", "all_branches", "branches"]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("all_branches") and not cleaned.get("branches"):
            self.add_error("branches", _("Choose at least one branch, or all branches."))
        return cleaned


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ["name", "url", "event_types", "all_branches", "is_active", "last_event_id"]
    list_filter = ["is_active", "all_branches"]
    search_fields = ["name", "url"]
    readonly_fields = ["is_active", "last_event_id", "created_at", "updated_at"]
    filter_horizontal = ["branches"]
    actions = ["activate", "deactivate", "rotate_secret"]

    def has_delete_permission(self, request, obj=None):
        # Deactivate instead: the delivery log of a subscription is kept.
        return False

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in (*EDITABLE_FIELDS, "branches")}
        if change:
            webhook_subscription_update(actor=request.user, subscription=obj, data=data)
            return
        subscription, secret = webhook_subscription_create(actor=request.user, data=data)
        obj.pk = subscription.pk
        obj.secret = subscription.secret
        obj.last_event_id = subscription.last_event_id
        obj._state.adding = False
        messages.warning(
            request,
            _("Copy the signing secret of %(name)s now, it is not shown again: %(secret)s")
            % {"name": subscription.name, "secret": secret},
        )

    def save_related(self, request, form, formsets, change):
        # The service has set the branches already; only inline formsets (none yet) remain.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def _each(self, request, queryset, service) -> None:
        for subscription in queryset:
            try:
                service(actor=request.user, subscription=subscription)
            except DomainError as exc:
                messages.error(request, f"{subscription.name}: {exc.message}")

    @admin.action(description=gettext_lazy("Activate the selected subscriptions"))
    def activate(self, request, queryset):
        self._each(request, queryset, webhook_subscription_activate)

    @admin.action(description=gettext_lazy("Deactivate the selected subscriptions"))
    def deactivate(self, request, queryset):
        self._each(request, queryset, webhook_subscription_deactivate)

    @admin.action(
        description=gettext_lazy("Rotate the signing secret of the selected subscriptions")
    )
    def rotate_secret(self, request, queryset):
        for subscription in queryset:
            secret = webhook_subscription_rotate_secret(
                actor=request.user, subscription=subscription
            )
            messages.warning(
                request,
                _("New signing secret for %(name)s (shown once): %(secret)s")
                % {"name": subscription.name, "secret": secret},
            )


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ["attempted_at", "status_code", "latency_ms", "error", "signature_timestamp"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["attempted_at", "id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "subscription",
        "event",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "delivered_at",
    ]
    list_filter = ["status", "subscription"]
    search_fields = ["=event__id", "event__type"]
    list_select_related = ["subscription", "event"]
    readonly_fields = [
        "subscription",
        "event",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "delivered_at",
        "created_at",
        "updated_at",
    ]
    inlines = [WebhookAttemptInline]
    actions = ["resend"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_resend_permission(self, request):
        return request.user.has_perm("events.resend_webhookdelivery")

    @admin.action(
        description=gettext_lazy("Re-send the selected deliveries"), permissions=["resend"]
    )
    def resend(self, request, queryset):
        queued = 0
        for delivery in queryset:
            try:
                webhook_delivery_resend(actor=request.user, delivery=delivery)
                queued += 1
            except DomainError as exc:
                messages.error(request, f"#{delivery.pk}: {exc.message}")
        if queued:
            messages.success(
                request,
                ngettext(
                    "%(count)d delivery queued again; the relay sends it within seconds.",
                    "%(count)d deliveries queued again; the relay sends them within seconds.",
                    queued,
                )
                % {"count": queued},
            )
