"""Survey pages.

The customer's, at the site root without login (namespace `care_survey`), in the survey's
language unless `?lang=` asks for another, with a language switch; the unguessable token is the
key (an unknown one is a plain 404) and page views and submits per client address are
rate-limited like complaints' public pages:

- `/s/<token>/`: CSAT 1-5, NPS 0-10, a comment; one answer per link (a second visit says it was
  answered), an expired link is a 410 page;
- `/s/<token>/thanks/`: the thanks page after answering;
- `/s/<token>/opt-out/`: stop surveys or every care contact, confirmed by a POST.

The staff's, under /care/surveys/ (namespace `care`, care.view_survey, scoped to the user's
branches; another branch's survey is a 404): the results with filters, a summary (response rate,
CSAT, share satisfied, NPS) and the list; one survey with its answer and the recovery callback
its low score made. The customer's name is masked unless the user may see the customer's record.
"""

from django import forms
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from bankservice.branches.models import Branch
from bankservice.branches.scope import can_act_at
from bankservice.core.decorators import require_perm
from bankservice.core.errors import BadInput, DomainError
from bankservice.core.public_pages import (
    language_links,
    over_rate_limit,
    public_response,
    requested_language,
    with_lang,
)
from bankservice.customers.selectors import customer_in_use

from .models import CareOptOut, OptOutScope, Survey, SurveyStatus
from .survey_responses import (
    COMMENT_MAX,
    SURVEY_OPT_OUT_SCOPES,
    SURVEY_TRIGGERS,
    VIEW_PERM,
    SurveyAlreadyAnswered,
    SurveyExpired,
    is_expired,
    mask_name,
    may_see_customer,
    recovery_callbacks,
    survey_answer,
    survey_get,
    survey_opt_out,
    survey_results,
    survey_summary,
)

CALLBACK_PERM = "care.view_callback"
PAGE_SIZE = 25
# A customer opens the link a few times; a script trying tokens is stopped after this many.
PAGE_VIEWS_PER_WINDOW = 60
PAGE_WINDOW_SECONDS = 10 * 60
# Answers and opt-outs from one address: a family on one Wi-Fi answers a few; a script, more.
SUBMITS_PER_WINDOW = 20
SUBMIT_WINDOW_SECONDS = 60 * 60


# --- The customer's pages ------------------------------------------------------------------------


class AnswerForm(forms.Form):
    """The answer as typed; survey_answer checks it again (at least one score, the ranges)."""

    csat = forms.TypedChoiceField(
        choices=[(str(n), str(n)) for n in range(1, 6)],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    nps = forms.TypedChoiceField(
        choices=[(str(n), str(n)) for n in range(0, 11)],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(max_length=COMMENT_MAX, required=False, widget=forms.Textarea)


class OptOutForm(forms.Form):
    scope = forms.ChoiceField(
        choices=[(scope.value, scope.label) for scope in SURVEY_OPT_OUT_SCOPES],
        widget=forms.RadioSelect,
    )


def _survey_or_404(token: str) -> Survey:
    return get_object_or_404(
        Survey.objects.select_related("branch", "rule", "customer"), public_token=token
    )


def _page(request, survey, template: str, context=None, *, status: int = 200):
    """Render one of the customer's pages in the survey's language (or ?lang=)."""
    requested = requested_language(request)
    language = requested or survey.language or translation.get_language()
    with translation.override(language):
        request.LANGUAGE_CODE = language
        response = render(
            request,
            template,
            {
                "survey": survey,
                "branch": survey.branch,
                "about": survey.rule.name if survey.rule is not None else "",
                "page_lang": requested,
                "languages": language_links(request),
                "opt_out_url": with_lang(
                    reverse("care_survey:opt-out", args=[survey.public_token]), requested
                ),
                **(context or {}),
            },
            status=status,
        )
    response.headers["Content-Language"] = language
    return public_response(response)


def _limited(request, *, submit: bool = False) -> bool:
    if submit:
        return over_rate_limit(
            request, scope="survey-submit", limit=SUBMITS_PER_WINDOW, seconds=SUBMIT_WINDOW_SECONDS
        )
    return over_rate_limit(
        request, scope="survey-page", limit=PAGE_VIEWS_PER_WINDOW, seconds=PAGE_WINDOW_SECONDS
    )


def _too_many(request):
    language = requested_language(request) or translation.get_language()
    with translation.override(language):
        response = render(
            request,
            "care/survey_public/limited.html",
            {"message": _("Too many requests. Please try again in a few minutes.")},
            status=429,
        )
    return public_response(response)


def _closed(request, survey):
    """Answered: say so (200). Expired: the 410 page."""
    if survey.status == SurveyStatus.ANSWERED:
        return _page(request, survey, "care/survey_public/answered.html")
    return _page(request, survey, "care/survey_public/expired.html", status=410)


@require_http_methods(["GET", "POST"])
def survey_page(request, token: str):
    """The survey: one answer per link, while it is valid."""
    if _limited(request):
        return _too_many(request)
    survey = _survey_or_404(token)
    if survey.status == SurveyStatus.ANSWERED or is_expired(survey):
        return _closed(request, survey)
    form = AnswerForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if _limited(request, submit=True):
            form.add_error(None, _("Too many answers were sent from this connection."))
            status = 429
        elif form.is_valid():
            try:
                survey_answer(survey=survey, **form.cleaned_data)
            except (SurveyAlreadyAnswered, SurveyExpired):
                return _closed(request, _survey_or_404(token))
            except BadInput as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                thanks = reverse("care_survey:thanks", args=[survey.public_token])
                return public_response(redirect(with_lang(thanks, requested_language(request))))
    return _page(
        request,
        survey,
        "care/survey_public/survey.html",
        {
            "form": form,
            "csat_choices": [str(n) for n in range(1, 6)],
            "nps_choices": [str(n) for n in range(0, 11)],
            "comment_max": COMMENT_MAX,
        },
        status=status,
    )


@require_GET
def survey_thanks(request, token: str):
    if _limited(request):
        return _too_many(request)
    survey = _survey_or_404(token)
    if survey.status != SurveyStatus.ANSWERED:
        url = reverse("care_survey:survey", args=[survey.public_token])
        return public_response(redirect(with_lang(url, requested_language(request))))
    return _page(request, survey, "care/survey_public/thanks.html")


@require_http_methods(["GET", "POST"])
def survey_opt_out_page(request, token: str):
    """Stop surveys, or every care contact; the page says what is stopped already."""
    if _limited(request):
        return _too_many(request)
    survey = _survey_or_404(token)
    form = OptOutForm(
        request.POST if request.method == "POST" else None, initial={"scope": OptOutScope.SURVEYS}
    )
    status = 200
    if request.method == "POST":
        status = 400
        if _limited(request, submit=True):
            form.add_error(None, _("Too many requests. Please try again in a few minutes."))
            status = 429
        elif form.is_valid():
            try:
                survey_opt_out(survey=survey, scope=form.cleaned_data["scope"])
            except DomainError as exc:
                form.add_error("scope" if exc.field == "scope" else None, exc.message)
            else:
                url = reverse("care_survey:opt-out", args=[survey.public_token])
                return public_response(redirect(with_lang(url, requested_language(request))))
    customer = customer_in_use(survey.customer)
    stopped = set(CareOptOut.objects.filter(customer=customer).values_list("scope", flat=True))
    return _page(
        request,
        survey,
        "care/survey_public/opt_out.html",
        {
            "form": form,
            "stopped_all": OptOutScope.ALL in stopped,
            "stopped_surveys": OptOutScope.SURVEYS in stopped or OptOutScope.ALL in stopped,
        },
        status=status,
    )


# --- The staff's pages ---------------------------------------------------------------------------


class ResultsFilterForm(forms.Form):
    """The results page's filters; each one given narrows the list and the summary."""

    branch = forms.ModelChoiceField(
        queryset=None, required=False, label=gettext_lazy("Branch"), empty_label="—"
    )
    since = forms.DateField(
        required=False,
        label=gettext_lazy("Sent from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = forms.DateField(
        required=False,
        label=gettext_lazy("Sent until"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    trigger = forms.ChoiceField(
        choices=[("", "—"), *SURVEY_TRIGGERS], required=False, label=gettext_lazy("About")
    )
    service = forms.SlugField(required=False, max_length=40, label=gettext_lazy("Service code"))
    staff = forms.CharField(
        required=False,
        max_length=150,
        label=gettext_lazy("Served by (user name)"),
    )
    low_only = forms.BooleanField(required=False, label=gettext_lazy("Low scores only"))

    def __init__(self, *args, principal, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = Branch.objects.visible_to(principal, VIEW_PERM).order_by(
            "name"
        )

    def clean_staff(self):
        username = self.cleaned_data["staff"].strip()
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError(_("No member of staff has this user name."))
        return user

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end comes before the start."))
        return data

    def results_filters(self) -> dict:
        data = self.cleaned_data
        return {
            "branch": data.get("branch"),
            "since": data.get("since"),
            "until": data.get("until"),
            "trigger": data.get("trigger") or None,
            "service_code": data.get("service") or None,
            "staff": data.get("staff"),
        }


def _decorate(user, surveys) -> None:
    """Per row: the customer's name (masked unless the user may see the record) and the
    recovery callback a low score made (linked when the user may see callbacks there)."""
    callbacks = recovery_callbacks(surveys)
    for survey in surveys:
        customer = survey.customer
        survey.may_see_customer = may_see_customer(user, customer)
        survey.customer_name = (
            customer.full_name if survey.may_see_customer else mask_name(customer.full_name)
        )
        survey.recovery = callbacks.get(survey.pk)
        survey.may_see_recovery = survey.recovery is not None and can_act_at(
            user, CALLBACK_PERM, survey.recovery.branch_id
        )


@require_GET
@require_perm(VIEW_PERM)
def surveys_view(request):
    """Survey results: filters, the summary of the surveys sent (whatever their score) and the
    list, newest first."""
    user = request.user
    filters = ResultsFilterForm(request.GET or None, principal=user)
    chosen = filters.results_filters() if filters.is_valid() else {}
    low_only = bool(filters.is_valid() and filters.cleaned_data.get("low_only"))
    summary = survey_summary(survey_results(user, **chosen))
    rows = survey_results(user, **chosen, low_only=low_only)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    _decorate(user, page.object_list)
    return render(
        request,
        "care/surveys.html",
        {"filters": filters, "summary": summary, "page": page},
        status=200 if filters.is_bound is False or filters.is_valid() else 400,
    )


@require_GET
@require_perm(VIEW_PERM)
def survey_detail(request, survey_id: int):
    survey = survey_get(request.user, survey_id)
    _decorate(request.user, [survey])
    return render(
        request,
        "care/survey.html",
        {"survey": survey, "expired": is_expired(survey, timezone.now())},
    )
