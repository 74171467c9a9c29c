"""Configuration of transaction processing: request types and bundles.

A request type's definition (the e-form, documents, approval rules, SLA) is edited on the request
type's page; saving a changed definition publishes a new version through
`request_type_version_publish` (requests keep the version they were filled with). Versions
themselves are read-only. Requests change only through the staff pages and the API.
"""

import json

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from bankservice.core.admin_mixins import ReadOnlyAdminMixin

from .eforms import (
    DEFINITION_PARTS,
    DefinitionErrors,
    definition_validate,
    request_type_version_publish,
    shared_fields_validate,
)
from .models import Bundle, BundleItem, RequestType, RequestTypeVersion
from .wiring import REQUEST_POLICIES


def _json_field(label, *, rows: int, help_text=""):
    return forms.JSONField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows, "cols": 100, "class": "vLargeTextField"}),
    )


class RequestTypeForm(forms.ModelForm):
    """The request type and its current definition; a changed definition is a new version."""

    form_schema = _json_field(
        _("form schema"),
        rows=20,
        help_text=_("JSON Schema of the fields; see transactions/eforms.py for what it may use."),
    )
    ui_schema = _json_field(
        _("form layout"),
        rows=20,
        help_text=_("Sections, labels in both languages, conditions, prefill, amount field."),
    )
    documents = _json_field(_("documents"), rows=6)
    approval_rules = _json_field(_("approval rules"), rows=6)
    sla_policy = forms.ChoiceField(
        label=_("SLA"), choices=[(name, name) for name in REQUEST_POLICIES]
    )

    class Meta:
        model = RequestType
        fields = ["code", "name_zh", "name_en", "service_code", "is_active", "sort_order"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.current = None
        if self.instance.pk:
            self.current = self.instance.versions.filter(is_current=True).first()
        if self.current is not None:
            for part in (*DEFINITION_PARTS, "sla_policy"):
                self.initial.setdefault(part, getattr(self.current, part))
        else:
            self.initial.setdefault("documents", [])
            self.initial.setdefault("approval_rules", [])

    def clean(self):
        cleaned = super().clean()
        if any(part in self.errors for part in DEFINITION_PARTS):
            return cleaned  # not JSON: nothing to check further
        for part in ("documents", "approval_rules"):
            if cleaned.get(part) is None:
                cleaned[part] = []
        try:
            definition_validate(**{part: cleaned.get(part) for part in DEFINITION_PARTS})
        except DefinitionErrors as exc:
            for part, messages in exc.errors.items():
                self.add_error(part, messages)
        return cleaned

    @property
    def definition(self) -> dict:
        return {part: self.cleaned_data[part] for part in (*DEFINITION_PARTS, "sla_policy")}

    @property
    def definition_changed(self) -> bool:
        if self.current is None:
            return True
        return any(getattr(self.current, part) != value for part, value in self.definition.items())


class RequestTypeVersionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = RequestTypeVersion
    fields = ["number", "is_current", "sla_policy", "created_at", "created_by"]
    readonly_fields = fields
    show_change_link = True
    extra = 0


@admin.register(RequestType)
class RequestTypeAdmin(admin.ModelAdmin):
    form = RequestTypeForm
    list_display = ["code", "name_zh", "name_en", "service_code", "is_active", "current_version"]
    list_filter = ["is_active", "service_code"]
    search_fields = ["code", "name_zh", "name_en"]
    inlines = [RequestTypeVersionInline]
    fieldsets = [
        (
            None,
            {"fields": ["code", "name_zh", "name_en", "service_code", "is_active", "sort_order"]},
        ),
        (
            _("Definition (saving a change publishes a new version)"),
            {"fields": ["form_schema", "ui_schema", "documents", "approval_rules", "sla_policy"]},
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("versions")

    @admin.display(description=_("version"))
    def current_version(self, request_type: RequestType):
        current = [v.number for v in request_type.versions.all() if v.is_current]
        return current[0] if current else "—"

    def has_delete_permission(self, request, obj=None):
        # Requests keep their type: deactivate instead.
        return False

    def save_model(self, request, obj, form, change):
        obj.save()
        if form.definition_changed:
            # The admin's change view runs in one transaction: name and version go together.
            request_type_version_publish(actor=request.user, request_type=obj, **form.definition)


@admin.register(RequestTypeVersion)
class RequestTypeVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Published versions are never edited; requests filled with them keep them."""

    list_display = ["request_type", "number", "is_current", "sla_policy", "created_at"]
    list_filter = ["request_type", "is_current"]
    readonly_fields = ["pretty_form_schema", "pretty_ui_schema"]
    exclude = ["form_schema", "ui_schema"]

    @admin.display(description=_("form schema"))
    def pretty_form_schema(self, version: RequestTypeVersion) -> str:
        return json.dumps(version.form_schema, ensure_ascii=False, indent=2)

    @admin.display(description=_("form layout"))
    def pretty_ui_schema(self, version: RequestTypeVersion) -> str:
        return json.dumps(version.ui_schema, ensure_ascii=False, indent=2)


class BundleItemFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        request_types = [
            form.cleaned_data["request_type"]
            for form in self.forms
            if form.cleaned_data.get("request_type") and not form.cleaned_data.get("DELETE")
        ]
        if not request_types:
            raise ValidationError(_("A bundle needs at least one request type."))
        try:
            # The parent form has set the bundle's shared fields on the instance already.
            shared_fields_validate(
                request_types=request_types, shared_fields=self.instance.shared_fields
            )
        except DefinitionErrors as exc:
            raise ValidationError(exc.errors["shared_fields"]) from None


class BundleItemInline(admin.TabularInline):
    """A bundle's request types are part of the bundle: its permissions govern them."""

    model = BundleItem
    formset = BundleItemFormSet
    fields = ["request_type", "position"]
    extra = 1

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("transactions.view_bundle")

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm(
            "transactions.change_bundle" if obj else "transactions.add_bundle"
        )

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("transactions.change_bundle")

    has_delete_permission = has_change_permission


@admin.register(Bundle)
class BundleAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name_zh", "name_en"]
    inlines = [BundleItemInline]

    def has_delete_permission(self, request, obj=None):
        # Bundle runs keep their bundle: deactivate instead.
        return False
