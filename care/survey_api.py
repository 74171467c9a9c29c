"""REST API of survey results, mounted under /api/v1/ (appended to care/api.py's routes).

- `surveys`: list (filters: branch code, since, until, trigger, service, staff, low_only), newest
  first, and retrieve; each with its answer and the recovery callback a low score made.
- `survey-rules`: read, by code.

Scope `care:read` for API keys, `care.view_survey` / `care.view_surveyrule` for staff, at the
survey's branch (another branch's survey: 404). The customer's name is masked unless the caller
may read the customer's record; the survey link's token is never shown (it is the customer's key).
"""

import django_filters
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from bankservice.branches.models import Branch
from bankservice.core.api_filters import IsoDateTimeFilter
from bankservice.core.api_pagination import cursor_by
from bankservice.core.api_permissions import ScopedModelPermissions

from .models import Survey, SurveyRule
from .survey_responses import (
    SURVEY_TRIGGERS,
    VIEW_PERM,
    mask_name,
    may_see_customer,
    recovery_callbacks,
    survey_results,
)

RULE_PERM = "care.view_surveyrule"


class SurveyRuleSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text="In the caller's language.")
    match_code = serializers.CharField(read_only=True, help_text="Empty: any code.")

    class Meta:
        model = SurveyRule
        fields = [
            "id",
            "code",
            "name",
            "name_zh",
            "name_en",
            "trigger",
            "match_code",
            "sample_percent",
            "expiry_days",
            "low_csat",
            "low_nps",
            "is_active",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(description="The survey rules, active or not."),
    retrieve=extend_schema(description="One survey rule by its code."),
)
class SurveyRuleViewSet(viewsets.ReadOnlyModelViewSet):
    """Which events send a survey, to what share of customers, how long the link stays valid and
    which scores are low (read only)."""

    queryset = SurveyRule.objects.all()
    serializer_class = SurveyRuleSerializer
    permission_classes = [ScopedModelPermissions]
    action_perms = {"list": RULE_PERM, "retrieve": RULE_PERM}
    lookup_field = "code"
    lookup_value_regex = r"[\w-]+"
    pagination_class = None

    def get_queryset(self):
        return SurveyRule.objects.order_by("code")


class SurveySerializer(serializers.ModelSerializer):
    """A survey with its answer. Pass {"recovery": {survey id: callback}} in the context."""

    status_label = serializers.CharField(source="get_status_display", read_only=True)
    branch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    rule = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    trigger_label = serializers.CharField(source="get_trigger_display", read_only=True)
    service = serializers.CharField(source="service_code", read_only=True)
    staff = serializers.IntegerField(
        source="staff_id", read_only=True, allow_null=True, help_text="User id."
    )
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    customer_name = serializers.SerializerMethodField(
        help_text="Masked unless you may read the customer's record."
    )
    recovery_callback = serializers.SerializerMethodField(
        help_text="The id of the service-recovery callback a low score made, if any."
    )

    class Meta:
        model = Survey
        fields = [
            "id",
            "status",
            "status_label",
            "branch",
            "rule",
            "trigger",
            "trigger_label",
            "service",
            "staff",
            "subject_ref",
            "visit_id",
            "customer",
            "customer_name",
            "channel",
            "language",
            "sent_at",
            "expires_at",
            "answered_at",
            "csat",
            "nps",
            "comment",
            "low_score",
            "recovery_callback",
        ]
        read_only_fields = fields

    def get_customer_name(self, survey: Survey) -> str:
        request = self.context.get("request")
        name = survey.customer.full_name
        visible = request is not None and may_see_customer(request.user, survey.customer)
        return name if visible else mask_name(name)

    def get_recovery_callback(self, survey: Survey) -> int | None:
        callback = self.context.get("recovery", {}).get(survey.pk)
        return callback.pk if callback is not None else None


class SurveyFilter(django_filters.FilterSet):
    branch = django_filters.CharFilter(method="filter_branch", label=gettext_lazy("Branch code"))
    since = IsoDateTimeFilter(
        field_name="sent_at", lookup_expr="gte", label=gettext_lazy("Sent at or after")
    )
    until = IsoDateTimeFilter(
        field_name="sent_at", lookup_expr="lt", label=gettext_lazy("Sent before")
    )
    trigger = django_filters.ChoiceFilter(choices=SURVEY_TRIGGERS, label=gettext_lazy("About"))
    service = django_filters.CharFilter(
        field_name="service_code", label=gettext_lazy("Service code")
    )
    staff = django_filters.NumberFilter(
        field_name="staff_id", label=gettext_lazy("Served by (user id)")
    )
    low_only = django_filters.BooleanFilter(
        method="filter_low_only", label=gettext_lazy("Low scores only")
    )

    class Meta:
        model = Survey
        fields = ["branch", "since", "until", "trigger", "service", "staff", "low_only"]

    def filter_branch(self, queryset, name, value):
        # By the id the code names: the (branch, answered_at) index serves the list.
        ids = list(Branch.objects.filter(code=value).values_list("pk", flat=True))
        return queryset.filter(branch_id__in=ids)

    def filter_low_only(self, queryset, name, value):
        return queryset.filter(low_score=True) if value else queryset


@extend_schema_view(
    list=extend_schema(description="Surveys of the caller's branches, newest first."),
    retrieve=extend_schema(description="One survey with its answer."),
)
class SurveyViewSet(viewsets.ReadOnlyModelViewSet):
    """Survey results (read only): answering is the customer's, through the survey link."""

    queryset = Survey.objects.all()
    pagination_class = cursor_by("-sent_at", "-id")
    serializer_class = SurveySerializer
    filterset_class = SurveyFilter
    permission_classes = [ScopedModelPermissions]
    action_perms = {"list": VIEW_PERM, "retrieve": VIEW_PERM}
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return survey_results(self.request.user)

    def _context(self, surveys) -> dict:
        return {**self.get_serializer_context(), "recovery": recovery_callbacks(surveys)}

    def list(self, request, *args, **kwargs):
        surveys = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(surveys)
        rows = list(page if page is not None else surveys)
        data = SurveySerializer(rows, many=True, context=self._context(rows)).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request, *args, **kwargs):
        survey = self.get_object()
        return Response(SurveySerializer(survey, context=self._context([survey])).data)


# Appended to care/api.py's routes under /api/v1/.
router = DefaultRouter(trailing_slash=False)
router.include_root_view = False
router.register("surveys", SurveyViewSet, basename="survey")
router.register("survey-rules", SurveyRuleViewSet, basename="survey-rule")
urlpatterns = router.urls
