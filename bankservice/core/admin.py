"""API clients (the key is generated on creation and shown once), idempotency keys (read only)."""

from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import ApiClient, Heartbeat, IdempotencyKey
from .services import apiclient_create, apiclient_rotate_key


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["name", "key_prefix", "scopes", "all_branches", "is_active", "last_used_at"]
    readonly_fields = ["key_prefix", "created_at", "last_used_at"]
    filter_horizontal = ["branches"]
    actions = ["rotate_keys"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        client, raw_key = apiclient_create(
            name=obj.name, scopes=obj.scopes, all_branches=obj.all_branches
        )
        obj.pk = client.pk
        obj.key_prefix = client.key_prefix
        obj.key_hash = client.key_hash
        obj._state.adding = False
        messages.warning(
            request, _("Copy this key now, it is not shown again: %(key)s") % {"key": raw_key}
        )
        return None

    @admin.action(description=gettext_lazy("Rotate the key of the selected clients"))
    def rotate_keys(self, request, queryset):
        for client in queryset:
            raw_key = apiclient_rotate_key(client=client)
            messages.warning(
                request,
                _("New key for %(name)s (shown once): %(key)s")
                % {"name": client.name, "key": raw_key},
            )


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
