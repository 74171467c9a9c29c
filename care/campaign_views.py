"""Campaign pages: staff pages at /care/campaigns/ (namespace `care`) and the customer's opt-out
page at /o/<token>/ (namespace `care_campaign`, no login).

Staff read with `care.view_campaign` at every branch of the campaign (another's: 404) and change
with `care.manage_campaign` at every branch of it; every change is a POST calling one service,
then a redirect; a refusal comes back as an error at its field or as a message.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bankservice.branches.scope import branch_ids_for, has_perm
from bankservice.core.decorators import require_perm
from bankservice.core.errors import DomainError
from bankservice.core.public_pages import (
    over_rate_limit,
    public_response,
    requested_language,
    with_lang,
)
from bankservice.customers.selectors import customer_in_use

from .campaign_forms import CampaignForm, ImportForm, ScheduleForm, TargetFilterForm
from .campaigns import (
    EDITABLE,
    IMPORTABLE,
    MANAGE_PERM,
    VIEW_PERM,
    campaign_cancel,
    campaign_create,
    campaign_dry_run,
    campaign_import_targets,
    campaign_schedule,
    campaign_status,
    campaign_update,
    campaigns_visible_to,
    may_manage,
    parse_target_csv,
)
from .models import Campaign, CampaignKind, CampaignStatus, CampaignTarget, OptOutScope
from .optouts import opt_out, opted_out

PAGE_SIZE = 25
DRY_RUN_SHOWN = 200
CUSTOMER_PERM = "customers.view_customer"
# A customer opts out once or twice; a script trying tokens is stopped after this many.
OPT_OUT_VIEWS_PER_WINDOW = 30
OPT_OUT_WINDOW_SECONDS = 10 * 60


def campaign_get(principal, campaign_id):
    """One campaign the principal may read (all its branches in their scope); else 404."""
    try:
        return campaigns_visible_to(principal).get(pk=int(campaign_id))
    except (ValueError, TypeError, Campaign.DoesNotExist):
        raise Http404(_("No such campaign.")) from None


def _may_manage(user, campaign) -> bool:
    return may_manage(user, [b.pk for b in campaign.branches.all()])


@require_GET
@require_perm(VIEW_PERM)
def campaign_list(request):
    campaigns = campaigns_visible_to(request.user).prefetch_related("branches")
    page = Paginator(campaigns.order_by("-created_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "care/campaign_list.html",
        {"page": page, "may_create": has_perm(request.user, MANAGE_PERM)},
    )


def _form_error(form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _fields(data: dict) -> tuple[list, dict]:
    fields = dict(data)
    branches = fields.pop("branches")
    return branches, fields


@require_http_methods(["GET", "POST"])
@require_perm(MANAGE_PERM)
def campaign_new(request):
    form = CampaignForm(request.POST or None, principal=request.user)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            branches, fields = _fields(form.cleaned_data)
            try:
                campaign = campaign_create(actor=request.user, branches=branches, **fields)
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("Campaign saved as a draft."))
                return redirect("care:campaign", campaign.pk)
    return render(request, "care/campaign_form.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@require_perm(MANAGE_PERM)
def campaign_edit(request, campaign_id: int):
    campaign = campaign_get(request.user, campaign_id)
    if not _may_manage(request.user, campaign):
        raise Http404(_("No such campaign."))
    if campaign.status not in EDITABLE:
        messages.error(request, _("Only a draft campaign can be changed."))
        return redirect("care:campaign", campaign.pk)
    form = CampaignForm(
        request.POST or None, principal=request.user, initial=CampaignForm.initial_from(campaign)
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            branches, fields = _fields(form.cleaned_data)
            try:
                campaign_update(actor=request.user, campaign=campaign, branches=branches, **fields)
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("Campaign saved."))
                return redirect("care:campaign", campaign.pk)
    return render(
        request, "care/campaign_form.html", {"form": form, "campaign": campaign}, status=status
    )


def _targets(request, campaign, filters):
    targets = campaign.targets.select_related("customer", "notification", "callback").order_by("pk")
    if filters.is_valid():
        if filters.cleaned_data["status"]:
            targets = targets.filter(status=filters.cleaned_data["status"])
        if filters.cleaned_data["excluded_reason"]:
            targets = targets.filter(excluded_reason=filters.cleaned_data["excluded_reason"])
    page = Paginator(targets, PAGE_SIZE).get_page(request.GET.get("page"))
    linked = branch_ids_for(request.user, CUSTOMER_PERM)
    for target in page.object_list:
        target.may_open = linked is None or target.customer.home_branch_id in linked
    return page


def _render_detail(request, campaign, *, schedule_form=None, status=200):
    may_change = _may_manage(request.user, campaign)
    filters = TargetFilterForm(request.GET)
    context = {
        "campaign": campaign,
        "branches": list(campaign.branches.all()),
        "counts": campaign_status(campaign),
        "filters": filters,
        "page": _targets(request, campaign, filters),
        "may_change": may_change,
        "may_edit": may_change and campaign.status in EDITABLE,
        "may_import": may_change and campaign.status in IMPORTABLE,
        "may_schedule": may_change and campaign.status in IMPORTABLE,
        "may_cancel": may_change
        and campaign.status
        in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.RUNNING),
        "schedule_form": schedule_form or ScheduleForm(),
        "is_callback": campaign.kind == CampaignKind.CALLBACK,
    }
    return render(request, "care/campaign_detail.html", context, status=status)


@require_GET
@require_perm(VIEW_PERM)
def campaign_detail(request, campaign_id: int):
    return _render_detail(request, campaign_get(request.user, campaign_id))


@require_GET
@require_perm(VIEW_PERM)
def campaign_dry_run_view(request, campaign_id: int):
    """Who would be contacted now and why; who is left out and why (nothing is written)."""
    campaign = campaign_get(request.user, campaign_id)
    run = campaign_dry_run(campaign)
    return render(
        request,
        "care/campaign_dry_run.html",
        {
            "campaign": campaign,
            "run": run,
            "contacted": run.contacted[:DRY_RUN_SHOWN],
            "left_out": run.left_out[:DRY_RUN_SHOWN],
            "shown": DRY_RUN_SHOWN,
        },
    )


@require_http_methods(["GET", "POST"])
@require_perm(MANAGE_PERM)
def campaign_import(request, campaign_id: int):
    """Upload a CSV list: line errors are shown and nothing is imported until they are fixed;
    ids naming nobody of the campaign's branches are reported after the import."""
    campaign = campaign_get(request.user, campaign_id)
    if not _may_manage(request.user, campaign):
        raise Http404(_("No such campaign."))
    form = ImportForm(request.POST or None, request.FILES or None)
    line_errors, report, status = [], None, 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                parsed = parse_target_csv(form.cleaned_data["file"])
                line_errors = parsed.errors
                if not line_errors:
                    report = campaign_import_targets(
                        actor=request.user, campaign=campaign, rows=parsed.rows
                    )
            except DomainError as exc:
                if exc.field in form.fields:
                    form.add_error(exc.field, exc.message)
                else:
                    messages.error(request, exc.message)
                    return redirect("care:campaign", campaign.pk)
            if report is not None:
                status = 200
                if not report.unknown:
                    messages.success(
                        request,
                        _("%(added)s customers added, %(duplicates)s already in the campaign.")
                        % {"added": report.added, "duplicates": report.duplicates},
                    )
                    return redirect("care:campaign", campaign.pk)
    return render(
        request,
        "care/campaign_import.html",
        {"campaign": campaign, "form": form, "line_errors": line_errors, "report": report},
        status=status,
    )


@require_POST
@require_perm(MANAGE_PERM)
def campaign_schedule_view(request, campaign_id: int):
    campaign = campaign_get(request.user, campaign_id)
    form = ScheduleForm(request.POST)
    if form.is_valid():
        try:
            campaign_schedule(
                actor=request.user,
                campaign=campaign,
                scheduled_for=form.cleaned_data["scheduled_for"],
            )
        except DomainError as exc:
            if exc.field not in form.fields:
                messages.error(request, exc.message)
                return redirect("care:campaign", campaign.pk)
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, _("The campaign is scheduled."))
            return redirect("care:campaign", campaign.pk)
    return _render_detail(request, campaign, schedule_form=form, status=400)


@require_POST
@require_perm(MANAGE_PERM)
def campaign_cancel_view(request, campaign_id: int):
    campaign = campaign_get(request.user, campaign_id)
    try:
        campaign_cancel(actor=request.user, campaign=campaign)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The campaign is cancelled."))
    return redirect("care:campaign", campaign.pk)


# --- The customer's opt-out page.


def _limited(request):
    return public_response(
        render(
            request,
            "care/campaign_opt_out.html",
            {"limited": True},
            status=429,
        )
    )


@require_http_methods(["GET", "POST"])
def opt_out_page(request, public_token: str):
    """The link in a campaign message: confirm (POST) to receive no more campaigns. In the
    customer's language unless ?lang= asks for another; an unknown link is a plain 404."""
    requested = requested_language(request)
    if over_rate_limit(
        request,
        scope="care-opt-out",
        limit=OPT_OUT_VIEWS_PER_WINDOW,
        seconds=OPT_OUT_WINDOW_SECONDS,
    ):
        with translation.override(requested or translation.get_language()):
            return _limited(request)
    target = get_object_or_404(
        CampaignTarget.objects.select_related(
            "customer__home_branch", "customer__merged_into__home_branch"
        ),
        public_token=public_token,
    )
    # A record merged since the message went out: the opt-out is the surviving record's.
    customer = customer_in_use(target.customer)
    language = requested or customer.preferred_language
    here = reverse("care_campaign:opt_out", args=[public_token])
    if request.method == "POST":
        opt_out(
            customer=customer,
            scope=OptOutScope.CAMPAIGNS,
            source=f"campaign-target:{target.pk}",
            branch=customer.home_branch,
        )
        return public_response(redirect(f"{here}?{urlencode({'lang': language, 'done': 1})}"))
    with translation.override(language):
        request.LANGUAGE_CODE = language
        response = render(
            request,
            "care/campaign_opt_out.html",
            {
                "branch": customer.home_branch,
                "done": opted_out(customer, OptOutScope.CAMPAIGNS),
                "page_lang": language,
                "languages": [
                    {
                        "code": code,
                        "name": translation.get_language_info(code)["name_local"],
                        "url": with_lang(here, code),
                        "current": code == language,
                    }
                    for code, _name in settings.LANGUAGES
                ],
            },
        )
    response.headers["Content-Language"] = language
    return public_response(response)
