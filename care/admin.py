"""Follow-up rules: administrators add, change and deactivate them. A rule is never deleted
(its callbacks point at it); deactivating it stops new callbacks from then on. Callbacks
themselves change only through the care pages and the API."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import FollowUpRule


@admin.register(FollowUpRule)
class FollowUpRuleAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name_zh",
        "name_en",
        "trigger",
        "match_code",
        "delay",
        "delay_unit",
        "priority",
        "reason_code",
        "is_active",
    ]
    list_filter = ["trigger", "is_active", "priority", "role"]
    search_fields = ["code", "name_zh", "name_en", "match_code", "reason_code"]
    fieldsets = [
        (None, {"fields": ["code", ("name_zh", "name_en"), "is_active"]}),
        (_("When"), {"fields": [("trigger", "match_code"), ("delay", "delay_unit")]}),
        (_("Who and how"), {"fields": [("role", "priority"), "reason_code", "script"]}),
    ]

    def has_delete_permission(self, request, obj=None):
        return False
