"""Rule packs with their clocks inline; "copy pack" makes an independent copy to adjust. The
complaint taxonomy and the root causes, which administrators extend, rename or deactivate."""

from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Category, PackAssignment, PackClock, RootCause, RulePack
from .services import pack_assign, pack_copy


class PackClockInline(admin.StackedInline):
    model = PackClock
    fk_name = "pack"
    extra = 0
    fieldsets = [
        (None, {"fields": [("code", "nature"), ("name_zh", "name_en")]}),
        (
            gettext_lazy("Counting"),
            {
                "fields": [
                    ("starts_on", "duration", "unit"),
                    ("counting", "non_working_end"),
                    ("pausable", "warn_fraction", "applies_to"),
                ]
            },
        ),
        (
            gettext_lazy("Extension and letters"),
            {
                "fields": [
                    ("extends", "requires_approval", "notify_complainant"),
                    "letter_wording",
                    "citation",
                ]
            },
        ),
    ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # An extension extends a clock of the same pack (PackClock.clean checks it too).
        if db_field.name == "extends":
            pack_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = PackClock.objects.filter(pack_id=pack_id or None)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(RulePack)
class RulePackAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "jurisdiction", "calendar", "is_active"]
    list_filter = ["jurisdiction", "is_active"]
    search_fields = ["code", "name_zh", "name_en"]
    readonly_fields = ["copied_from"]
    inlines = [PackClockInline]
    actions = ["copy_packs"]

    def has_delete_permission(self, request, obj=None):
        # Complaints will keep the pack their clocks came from: deactivate instead.
        return False

    @admin.action(description=gettext_lazy("Copy the selected packs"), permissions=["add"])
    def copy_packs(self, request, queryset):
        for pack in queryset:
            copy = pack_copy(pack=pack, actor=request.user)
            messages.success(
                request,
                _("%(pack)s copied as %(copy)s: adjust it, then assign it.")
                % {"pack": pack.code, "copy": copy.code},
            )


@admin.register(PackAssignment)
class PackAssignmentAdmin(admin.ModelAdmin):
    """Assignments go through the service so that each change is recorded."""

    list_display = ["__str__", "pack", "branch", "region"]
    list_filter = ["pack"]
    autocomplete_fields = ["branch", "region"]

    def get_readonly_fields(self, request, obj=None):
        # A row is one level's slot: change its pack; another level is another row.
        return ["branch", "region"] if obj else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "pack":
            kwargs["queryset"] = RulePack.objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        saved = pack_assign(pack=obj.pack, branch=obj.branch, region=obj.region, actor=request.user)
        obj.pk = saved.pk


class DeactivateNotDeleteAdmin(admin.ModelAdmin):
    """Complaints and reports keep what they were classified under: deactivate instead."""

    list_editable = ["is_active"]
    search_fields = ["code", "name_zh", "name_en"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Category)
class CategoryAdmin(DeactivateNotDeleteAdmin):
    list_display = ["code", "name_zh", "name_en", "parent", "regulator_code", "is_active"]
    list_filter = ["parent", "is_active"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Two levels: a sub-category's parent is a top-level category.
        if db_field.name == "parent":
            kwargs["queryset"] = Category.objects.filter(parent=None)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(RootCause)
class RootCauseAdmin(DeactivateNotDeleteAdmin):
    list_display = ["code", "name_zh", "name_en", "is_active"]
    list_filter = ["is_active"]
