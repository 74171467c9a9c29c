"""Customers are read-only in the admin: changes go through the staff pages and services."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from bankservice.core.admin_mixins import ReadOnlyAdminMixin

from .models import Customer, Product


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["full_name", "core_banking_id", "segment", "home_branch", "masked_phone"]
    list_filter = ["segment", "home_branch"]
    search_fields = ["full_name", "core_banking_id"]
    exclude = ["national_id", "phone"]
    readonly_fields = ["masked_national_id", "masked_phone"]

    @admin.display(description=_("ID number"))
    def masked_national_id(self, obj):
        return obj.national_id_masked

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return obj.phone_masked


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    """The product catalogue every stage refers to (by code)."""

    list_display = ["code", "family", "name_zh", "name_en", "is_active"]
    list_filter = ["family", "is_active"]
    search_fields = ["code", "name_zh", "name_en"]
