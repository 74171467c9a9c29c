"""REST resources of the evaluation and the staffing forecast, under /api/v1/ (issue 9):

- `GET /api/v1/evaluation`: every KPI (or those asked) of two periods of the same branches
  (mode=periods) or of pilot against control branches (mode=pilot), with the change, its
  interval, the p-value and whether it is significant (dashboards.evaluation).
- `GET /api/v1/staffing`: the arrivals forecast per hour of a week for one service of one
  branch, the counters needed for a service-level target and what the counters planned give
  (dashboards.staffing).

Branches outside the caller's scope are a 400 with the field at fault (as an unknown id would be:
the answer does not tell a branch that exists from one that does not).
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from . import kpis
from . import staffing as staffing_model
from .api import MAX_DAYS, CanViewKpis, CodeListField
from .evaluation import Group, evaluate
from .selectors import scope_branch_ids


class IdListField(serializers.CharField):
    """A comma-separated list of ids."""

    def to_internal_value(self, data):
        ids = []
        for part in super().to_internal_value(data).split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit():
                raise serializers.ValidationError(f"Not an id: {part}.")
            ids.append(int(part))
        return sorted(set(ids))


def _check_period(errors: dict, attrs, start_name: str, end_name: str) -> None:
    start, end = attrs.get(start_name), attrs.get(end_name)
    for name, value in ((start_name, start), (end_name, end)):
        if value is None:
            errors[name] = "This field is required."
    if start and end:
        if end < start:
            errors[end_name] = "The end is before the start."
        elif (end - start).days >= MAX_DAYS:
            errors[end_name] = f"At most {MAX_DAYS} days at a time."


class EvaluationQuerySerializer(serializers.Serializer):
    mode = serializers.ChoiceField(
        choices=["periods", "pilot"],
        help_text="periods: after against before, same branches; pilot: pilot against control "
        "branches, same period.",
    )
    before_start = serializers.DateField(required=False, help_text="periods: first day before.")
    before_end = serializers.DateField(required=False, help_text="periods: last day before.")
    after_start = serializers.DateField(required=False, help_text="periods: first day after.")
    after_end = serializers.DateField(required=False, help_text="periods: last day after.")
    branches = IdListField(
        required=False,
        default="",
        help_text="periods: branch ids, comma-separated; none: every branch in scope.",
    )
    start = serializers.DateField(required=False, help_text="pilot: first day.")
    end = serializers.DateField(required=False, help_text="pilot: last day, included.")
    pilot = IdListField(required=False, default="", help_text="pilot: pilot branch ids.")
    control = IdListField(required=False, default="", help_text="pilot: control branch ids.")
    service = serializers.CharField(required=False, max_length=60, help_text="One service code.")
    kpi = CodeListField(
        choices=[kpi.code for kpi in kpis.KPIS],
        required=False,
        default="",
        help_text="KPI codes, comma-separated (see /kpi-definitions). None: every KPI.",
    )

    def validate(self, attrs):
        errors: dict[str, str] = {}
        if attrs["mode"] == "periods":
            _check_period(errors, attrs, "before_start", "before_end")
            _check_period(errors, attrs, "after_start", "after_end")
            named = ("branches",)
        else:
            _check_period(errors, attrs, "start", "end")
            for name in ("pilot", "control"):
                if not attrs[name]:
                    errors[name] = "At least one branch id."
            if set(attrs["pilot"]) & set(attrs["control"]):
                errors["control"] = "A branch cannot be both pilot and control."
            named = ("pilot", "control")
        scope = set(scope_branch_ids(self.context["request"].user))
        for name in named:
            outside = [branch for branch in attrs[name] if branch not in scope]
            if outside and name not in errors:
                errors[name] = "Not in your scope: " + ", ".join(map(str, outside)) + "."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class GroupSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    branches = serializers.ListField(
        child=serializers.IntegerField(), allow_null=True, help_text="null: every branch in scope."
    )


class EvaluationRowSerializer(serializers.Serializer):
    kpi = serializers.CharField(source="code")
    name = serializers.CharField()
    unit = serializers.CharField()
    better = serializers.ChoiceField(choices=["higher", "lower"])
    before = serializers.FloatField(allow_null=True, help_text="before (or control)")
    after = serializers.FloatField(allow_null=True, help_text="after (or pilot)")
    change = serializers.FloatField(allow_null=True, help_text="after - before")
    low = serializers.FloatField(allow_null=True, help_text="95% interval of the change")
    high = serializers.FloatField(allow_null=True)
    p_value = serializers.FloatField(allow_null=True)
    significant = serializers.BooleanField()
    enough_data = serializers.BooleanField()
    test = serializers.ChoiceField(choices=["mann-whitney", "two-proportion-z", "none"])
    n_before = serializers.FloatField(help_text="observations (or volume) before / control")
    n_after = serializers.FloatField()
    direction = serializers.ChoiceField(
        choices=["better", "worse", "same"], allow_null=True, help_text="by the KPI's direction"
    )
    improved = serializers.BooleanField(help_text="significant and better")


class EvaluationSerializer(serializers.Serializer):
    mode = serializers.CharField()
    first = GroupSerializer(help_text="before (periods) or control (pilot)")
    second = GroupSerializer(help_text="after (periods) or pilot (pilot)")
    rows = EvaluationRowSerializer(many=True)


class EvaluationView(APIView):
    """Is a change real? Every KPI of two groups, with the significance of the change."""

    permission_classes = [CanViewKpis]

    @extend_schema(
        operation_id="evaluation_retrieve",
        parameters=[EvaluationQuerySerializer],
        responses={
            200: EvaluationSerializer,
            400: OpenApiResponse(
                description="Missing or bad period, unknown KPI code, branch not in scope."
            ),
            403: OpenApiResponse(description="No dashboards permission."),
        },
        tags=["dashboards"],
    )
    def get(self, request):
        query = EvaluationQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        options = query.validated_data
        if options["mode"] == "periods":
            ids = tuple(options["branches"]) or None
            first = Group(options["before_start"], options["before_end"], ids)
            second = Group(options["after_start"], options["after_end"], ids)
        else:
            first = Group(options["start"], options["end"], tuple(options["control"]))
            second = Group(options["start"], options["end"], tuple(options["pilot"]))
        rows, _a, _b = evaluate(
            request.user,
            first,
            second,
            codes=options["kpi"] or None,
            service=options.get("service"),
        )
        data = {
            "mode": options["mode"],
            "first": {"start": first.start, "end": first.end, "branches": first.branch_ids},
            "second": {"start": second.start, "end": second.end, "branches": second.branch_ids},
            "rows": rows,
        }
        return Response(EvaluationSerializer(data).data)


class StaffingQuerySerializer(serializers.Serializer):
    branch = serializers.IntegerField(help_text="Branch id (in your scope).")
    service = serializers.CharField(max_length=60, help_text="The reception service's code.")
    week = serializers.DateField(
        required=False,
        help_text="Any day of the week to plan (it starts on Monday); default: next.",
    )
    weeks = serializers.IntegerField(
        min_value=1,
        max_value=52,
        default=staffing_model.DEFAULT_WEEKS,
        help_text="Whole weeks of history before the week.",
    )
    target_level = serializers.FloatField(
        min_value=0.01,
        max_value=0.99,
        default=staffing_model.DEFAULT_LEVEL,
        help_text="Share of customers to call within target_seconds.",
    )
    target_seconds = serializers.IntegerField(
        min_value=1, max_value=14_400, default=staffing_model.DEFAULT_TARGET_SECONDS
    )
    planned = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=500,
        help_text="Counters planned each hour; default: the counters that serve the service.",
    )


class StaffingHourSerializer(serializers.Serializer):
    date = serializers.DateField(source="day")
    hour = serializers.IntegerField(help_text="Local hour of the day, 0-23.")
    open = serializers.BooleanField(help_text="Within the branch's opening hours.")
    arrivals = serializers.FloatField(help_text="Forecast tickets issued in the hour.")
    counters_needed = serializers.IntegerField(
        source="needed", allow_null=True, help_text="null: more than 1,000."
    )
    service_level_needed = serializers.FloatField(source="needed_level", allow_null=True)
    counters_planned = serializers.IntegerField(source="planned")
    service_level_planned = serializers.FloatField(source="planned_level")
    mean_wait_seconds_planned = serializers.SerializerMethodField(
        help_text="null: the queue never empties (too few counters)."
    )
    misses = serializers.BooleanField(help_text="The plan has fewer counters than needed.")

    def get_mean_wait_seconds_planned(self, hour) -> float | None:
        return staffing_model.finite(hour.planned_wait_seconds)


class StaffingSerializer(serializers.Serializer):
    branch = serializers.IntegerField(source="branch_id")
    service = serializers.CharField()
    service_name = serializers.CharField()
    week = serializers.DateField(help_text="The week's Monday.")
    weeks = serializers.IntegerField()
    history_start = serializers.DateField()
    history_end = serializers.DateField()
    target_level = serializers.FloatField(source="level")
    target_seconds = serializers.FloatField()
    handle_seconds = serializers.FloatField()
    handle_source = serializers.SerializerMethodField(
        help_text="history: the mean service time of the history; expected: the service's "
        "configured time (nothing served in the history)."
    )
    planned = serializers.IntegerField()
    planned_source = serializers.SerializerMethodField(help_text="counters or request")
    closed_days = serializers.ListField(child=serializers.DateField())
    total_arrivals = serializers.FloatField()
    counter_hours_needed = serializers.IntegerField(allow_null=True)
    counter_hours_planned = serializers.IntegerField()
    hours_missing = serializers.IntegerField()
    planned_level = serializers.FloatField(
        allow_null=True, help_text="The week's expected service level, weighted by arrivals."
    )
    hours = StaffingHourSerializer(many=True)

    def get_handle_source(self, plan) -> str:
        return "history" if plan.handle_from_history else "expected"

    def get_planned_source(self, plan) -> str:
        return "counters" if plan.planned_default else "request"


class StaffingView(APIView):
    """Arrivals forecast and counters needed per hour of a week, by Erlang C."""

    permission_classes = [CanViewKpis]

    @extend_schema(
        operation_id="staffing_retrieve",
        parameters=[StaffingQuerySerializer],
        responses={
            200: StaffingSerializer,
            400: OpenApiResponse(
                description="Bad parameter; branch not in scope; no such service at the branch."
            ),
            403: OpenApiResponse(description="No dashboards permission."),
        },
        tags=["dashboards"],
    )
    def get(self, request):
        query = StaffingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        options = query.validated_data
        try:
            plan = staffing_model.plan(
                request.user,
                branch=options["branch"],
                service=options["service"],
                week=options.get("week") or staffing_model.next_monday(),
                weeks=options["weeks"],
                level=options["target_level"],
                target_seconds=options["target_seconds"],
                planned=options.get("planned"),
            )
        except staffing_model.StaffingError as error:
            raise serializers.ValidationError({error.field: [str(error.message)]}) from error
        return Response(StaffingSerializer(plan).data)


urlpatterns = [
    path("evaluation", EvaluationView.as_view(), name="api-evaluation"),
    path("staffing", StaffingView.as_view(), name="api-staffing"),
]
