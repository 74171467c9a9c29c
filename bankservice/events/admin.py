"""Events in the admin: read only; there is no path to change or delete one."""

from django.contrib import admin

from .models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["id", "type", "occurred_at", "actor_user", "actor_client", "branch", "customer"]
    list_filter = ["type", "branch"]
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
