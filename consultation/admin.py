"""Knowledge-base configuration: categories to edit; articles to look at (their text changes only
through versions on the staff pages, reviewed by a second person)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from bankservice.core.admin_mixins import ReadOnlyAdminMixin
from bankservice.core.masking import mask_email, mask_phone

from .models import Article, ArticleVersion, Category, Consultation


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["code", "name_zh", "name_en"]


class ArticleVersionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ArticleVersion
    fk_name = "article"
    fields = ["number", "status", "title_zh", "title_en", "author", "reviewer", "published_at"]
    readonly_fields = fields
    extra = 0


@admin.register(Article)
class ArticleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "__str__",
        "kind",
        "category",
        "owner",
        "review_due",
        "is_archived",
        "use_count",
    ]
    list_filter = ["kind", "category", "is_archived"]
    list_select_related = ["published", "category", "owner"]
    search_fields = ["versions__title_zh", "versions__title_en"]
    inlines = [ArticleVersionInline]


@admin.register(Consultation)
class ConsultationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Consultations change on the staff pages and through the API (each step an event); here
    they are only looked at, with an anonymous contact's phone and e-mail masked."""

    list_display = ["started_at", "branch", "advisor", "channel", "status", "outcome"]
    list_filter = ["branch", "channel", "status", "outcome", "handoff_status"]
    list_select_related = ["branch", "advisor"]
    date_hierarchy = "started_at"
    exclude = ["contact_phone", "contact_email"]
    readonly_fields = ["phone_masked", "email_masked"]

    @admin.display(description=_("phone"))
    def phone_masked(self, consultation: Consultation) -> str:
        return mask_phone(consultation.contact_phone)

    @admin.display(description=_("e-mail"))
    def email_masked(self, consultation: Consultation) -> str:
        return mask_email(consultation.contact_email)
