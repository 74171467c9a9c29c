"""Customers are read-only in the admin: changes go through the staff pages and services."""

from django.contrib import admin

from .models import Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["full_name", "core_banking_id", "segment", "home_branch", "masked_phone"]
    list_filter = ["segment", "home_branch"]
    search_fields = ["full_name", "core_banking_id"]
    exclude = ["national_id", "phone"]
    readonly_fields = ["masked_national_id", "masked_phone"]

    @admin.display(description="ID number")
    def masked_national_id(self, obj):
        return obj.national_id_masked

    @admin.display(description="phone")
    def masked_phone(self, obj):
        return obj.phone_masked

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
