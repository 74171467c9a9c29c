"""API clients (the key is generated on creation and shown once), idempotency keys (read only)."""

from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .errors import DomainError
from .models import ApiClient, Heartbeat, IdempotencyKey
from .services import (
    apiclient_create,
    apiclient_reactivate,
    apiclient_revoke,
    apiclient_rotate_key,
    apiclient_update,
)


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """Every change goes through the services (audited); the staff pages at
    /settings/api-clients/ do the same with a choice of rotation overlap."""

    list_display = ["name", "key_prefix", "scopes", "all_branches", "is_active", "last_used_at"]
    readonly_fields = [
        "key_prefix",
        "previous_key_prefix",
        "previous_key_expires_at",
        "is_active",
        "created_at",
        "last_used_at",
    ]
    filter_horizontal = ["branches"]
    actions = ["rotate_keys", "revoke", "reactivate"]

    def has_delete_permission(self, request, obj=None):
        # Revoke instead: events and idempotency keys name the client.
        return False

    def get_readonly_fields(self, request, obj=None):
        # The name is chosen once: integrators and the audit trail know the client by it.
        return [*self.readonly_fields, "name"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        data = {
            "scopes": form.cleaned_data["scopes"],
            "branches": form.cleaned_data["branches"],
            "all_branches": form.cleaned_data["all_branches"],
        }
        if change:
            apiclient_update(actor=request.user, client=obj, **data)
            return
        client, raw_key = apiclient_create(actor=request.user, name=obj.name, **data)
        obj.pk = client.pk
        obj.key_prefix = client.key_prefix
        obj.key_hash = client.key_hash
        obj._state.adding = False
        messages.warning(
            request, _("Copy this key now, it is not shown again: %(key)s") % {"key": raw_key}
        )

    def save_related(self, request, form, formsets, change):
        # The service has set the branches already; only inline formsets (none yet) remain.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.action(
        description=gettext_lazy("Rotate the key of the selected clients (old key valid 24 h)")
    )
    def rotate_keys(self, request, queryset):
        for client in queryset:
            raw_key = apiclient_rotate_key(actor=request.user, client=client)
            messages.warning(
                request,
                _("New key for %(name)s (shown once): %(key)s")
                % {"name": client.name, "key": raw_key},
            )

    def _each(self, request, queryset, service) -> None:
        for client in queryset:
            try:
                service(actor=request.user, client=client)
            except DomainError as exc:
                messages.error(request, f"{client.name}: {exc.message}")

    @admin.action(description=gettext_lazy("Revoke the selected clients"))
    def revoke(self, request, queryset):
        self._each(request, queryset, apiclient_revoke)

    @admin.action(description=gettext_lazy("Reactivate the selected clients"))
    def reactivate(self, request, queryset):
        self._each(request, queryset, apiclient_reactivate)


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "beat_at", "count"]

    def has_add_permission(self, request):
        return False


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    """Read only: to answer "did my retry run twice?" for an integrator."""

    list_display = ["key", "principal", "response_status", "created_at"]
    search_fields = ["key", "principal"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


admin.site.site_header = gettext_lazy("Branch service desk administration")
admin.site.site_title = gettext_lazy("Branch service desk")
