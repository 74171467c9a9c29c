"""REST resources of the dashboards, mounted under /api/v1/ (issue 9):

- `GET /api/v1/kpis`: KPI values (and the volumes behind them) by any dimensions, for a period,
  from the rollups: what head-office BI tools pull.
- `GET /api/v1/kpi-definitions`: every KPI's code, name, formula, unit and direction.
- forecasts, staffing and evaluations: dashboards/analysis_api.py.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.urls import include, path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from bankservice.branches.scope import has_perm
from bankservice.core.api_permissions import IsAuthenticatedPrincipal

from . import kpis
from .models import SCALAR_FIELDS
from .selectors import BY, VIEW_KPIS, check_by, kpi_table

MAX_DAYS = 800  # a little over two years


class CanViewKpis(IsAuthenticatedPrincipal):
    """Managers and auditors (their branches), API clients with the dashboards:read scope."""

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and has_perm(request.user, VIEW_KPIS)


class CodeListField(serializers.CharField):
    """A comma-separated list of codes, each one of `choices`."""

    def __init__(self, *, choices, **kwargs):
        self.allowed = tuple(choices)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        codes = [code.strip() for code in super().to_internal_value(data).split(",") if code]
        unknown = [code for code in codes if code not in self.allowed]
        if unknown:
            raise serializers.ValidationError(
                f"Unknown: {', '.join(unknown)}. Choose from: {', '.join(self.allowed)}."
            )
        return codes


class PeriodQuerySerializer(serializers.Serializer):
    """The period and the branches of a dashboards query (shared with analysis_api)."""

    start = serializers.DateField(help_text="First day (the branch's local date).")
    end = serializers.DateField(help_text="Last day, included.")
    region = serializers.IntegerField(required=False, help_text="Only this region's branches.")
    branch = serializers.IntegerField(required=False, help_text="Only this branch.")

    def validate(self, attrs):
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": "The end is before the start."})
        if (attrs["end"] - attrs["start"]).days >= MAX_DAYS:
            raise serializers.ValidationError({"end": f"At most {MAX_DAYS} days at a time."})
        return attrs


class KpiQuerySerializer(PeriodQuerySerializer):
    by = CodeListField(
        choices=BY,
        required=False,
        default="",
        help_text="Dimensions, comma-separated: " + ", ".join(BY) + ". None: one total row.",
    )
    kpi = CodeListField(
        choices=[kpi.code for kpi in kpis.KPIS],
        required=False,
        default="",
        help_text="KPI codes, comma-separated (see /kpi-definitions). None: every KPI.",
    )
    service = serializers.CharField(required=False, max_length=60)
    staff = serializers.IntegerField(required=False, help_text="Only this staff member's work.")

    def validate_by(self, value):
        try:
            return check_by(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from error


class KpiRowSerializer(serializers.Serializer):
    key = serializers.DictField(
        help_text="The row's dimensions: day/week/month as dates (a week by its Monday, a "
        "month by its first day), hour 0-23, region/branch/staff ids, service codes."
    )
    labels = serializers.DictField(child=serializers.CharField(), help_text="Names to show.")
    values = serializers.DictField(
        child=serializers.FloatField(allow_null=True),
        help_text="KPI code -> value; null without data. Units in /kpi-definitions.",
    )
    volumes = serializers.DictField(
        child=serializers.FloatField(), help_text="The additive measures behind the values."
    )


class KpiTableSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    by = serializers.ListField(child=serializers.CharField())
    rows = KpiRowSerializer(many=True)


class KpiView(APIView):
    """KPI values by dimension and period, from the daily and hourly rollups."""

    permission_classes = [CanViewKpis]

    @extend_schema(
        operation_id="kpis_list",
        parameters=[KpiQuerySerializer],
        responses={
            200: KpiTableSerializer,
            400: OpenApiResponse(description="Bad period, unknown dimension or KPI code."),
            403: OpenApiResponse(
                description="No dashboards permission; or by staff without the staff "
                "performance permission."
            ),
        },
        tags=["dashboards"],
    )
    def get(self, request):
        query = KpiQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        options = query.validated_data
        try:
            rows = kpi_table(
                request.user,
                start=options["start"],
                end=options["end"],
                by=options["by"],
                codes=options["kpi"] or None,
                region=options.get("region"),
                branch=options.get("branch"),
                service=options.get("service"),
                staff=options.get("staff"),
            )
        except PermissionDenied as error:
            self.permission_denied(request, message=str(error) or None)
        data = {
            "start": options["start"],
            "end": options["end"],
            "by": list(options["by"]),
            "rows": [
                {
                    "key": {
                        name: value.isoformat() if isinstance(value, dt.date) else value
                        for name, value in row.key.items()
                    },
                    "labels": row.labels,
                    "values": row.values,
                    "volumes": {name: row.measures[name] for name in SCALAR_FIELDS},
                }
                for row in rows
            ],
        }
        return Response(KpiTableSerializer(data).data)


class KpiDefinitionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    formula = serializers.CharField()
    unit = serializers.ChoiceField(choices=["seconds", "share", "score", "per_1000"])
    better = serializers.ChoiceField(choices=["higher", "lower"])


class KpiDefinitionView(APIView):
    """What each KPI means and how it is computed (in the request's language)."""

    permission_classes = [CanViewKpis]

    @extend_schema(
        operation_id="kpi_definitions_list",
        responses={200: KpiDefinitionSerializer(many=True)},
        parameters=[OpenApiParameter("Accept-Language", location="header", required=False)],
        tags=["dashboards"],
    )
    def get(self, request):
        return Response(KpiDefinitionSerializer(kpis.KPIS, many=True).data)


urlpatterns = [
    path("kpis", KpiView.as_view(), name="api-kpis"),
    path("kpi-definitions", KpiDefinitionView.as_view(), name="api-kpi-definitions"),
    path("", include("dashboards.analysis_api")),
]
