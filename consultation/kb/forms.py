"""Staff forms of the knowledge base: searching, writing, reviewing, attaching."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bankservice.customers.models import Product
from consultation.models import ArticleKind, Category


class SearchForm(forms.Form):
    """The search box and its filters (home page; the API takes the same names)."""

    q = forms.CharField(label=_("Question or keywords"), required=False, max_length=200)
    category = forms.ModelChoiceField(
        label=_("Category"),
        required=False,
        queryset=Category.objects.filter(is_active=True),
        to_field_name="code",
        empty_label=_("All categories"),
    )
    product = forms.ModelChoiceField(
        label=_("Product"),
        required=False,
        queryset=Product.objects.filter(is_active=True),
        to_field_name="code",
        empty_label=_("All products"),
    )


class VersionForm(forms.Form):
    """The text of a version, in Chinese, English or both."""

    title_zh = forms.CharField(label=_("Title (Chinese)"), required=False, max_length=200)
    body_zh = forms.CharField(label=_("Text (Chinese)"), required=False, widget=forms.Textarea)
    title_en = forms.CharField(label=_("Title (English)"), required=False, max_length=200)
    body_en = forms.CharField(label=_("Text (English)"), required=False, widget=forms.Textarea)
    change_note = forms.CharField(label=_("What changed"), required=False, max_length=300)


def _owners():
    # Whoever may write articles may own them.
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(memberships__role__permissions__codename="change_articleversion")
        )
        .distinct()
        .order_by("username")
    )


class ArticleDetailsForm(forms.Form):
    """What an article is about and who looks after it."""

    kind = forms.ChoiceField(label=_("Kind"), choices=ArticleKind.choices)
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.filter(is_active=True)
    )
    products = forms.ModelMultipleChoiceField(
        label=_("Products"), required=False, queryset=Product.objects.filter(is_active=True)
    )
    tags = forms.CharField(
        label=_("Tags"), required=False, max_length=300, help_text=_("Separated by commas")
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None)
    review_due = forms.DateField(
        label=_("Review by"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _owners()

    def clean_tags(self) -> list[str]:
        parts = self.cleaned_data["tags"].replace("，", ",").split(",")
        return list(dict.fromkeys(tag.strip() for tag in parts if tag.strip()))


class NewArticleForm(ArticleDetailsForm, VersionForm):
    """A new article: its details and the text of its first version."""


class ReturnForm(forms.Form):
    note = forms.CharField(label=_("What should change"), max_length=500, widget=forms.Textarea)


class ApproveForm(forms.Form):
    note = forms.CharField(label=_("Note (optional)"), required=False, max_length=500)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))


class FeedbackForm(forms.Form):
    helpful = forms.TypedChoiceField(
        choices=[("yes", _("Yes")), ("no", _("No"))], coerce=lambda value: value == "yes"
    )
    comment = forms.CharField(required=False, max_length=500)


class PeriodForm(forms.Form):
    days = forms.TypedChoiceField(
        label=_("Period"),
        required=False,
        coerce=int,
        empty_value=30,
        choices=[(7, _("Last 7 days")), (30, _("Last 30 days")), (90, _("Last 90 days"))],
    )
