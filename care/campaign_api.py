"""REST API of care campaigns, under /api/v1/campaigns.

- list, create, retrieve (with its status counts);
- POST {id}/targets (JSON rows {"customer_id" | "core_banking_id", "note"}), POST
  {id}/targets/csv (multipart, field `file`), GET {id}/dry-run, POST {id}/schedule, POST
  {id}/cancel.

Scope `care:read` reads, `care:write` creates, imports, schedules and cancels (core banking
imports its lists with a key). Members of staff by permission: care.view_campaign to read,
care.manage_campaign at every branch of the campaign to change (another's: 404). Customers are
named by id only. POSTs honour `Idempotency-Key`.
"""

from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from bankservice.branches.models import Branch
from bankservice.core.api_errors import DetailSerializer
from bankservice.core.api_permissions import ScopedModelPermissions
from bankservice.core.idempotency import idempotent
from bankservice.customers.models import Segment

from . import campaigns
from .campaigns import API_MANAGE_PERM, MESSAGE_MAX, NAME_MAX, NEEDS, VIEW_PERM
from .models import Campaign, CampaignChannel, CampaignKind, Priority

DRY_RUN_MAX = 1000


class CampaignSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    branches = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    reason_code = serializers.CharField(read_only=True, help_text="May be empty.")

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "purpose",
            "kind",
            "status",
            "status_label",
            "branches",
            "segments",
            "needs",
            "birthday_this_month",
            "imported_only",
            "channel",
            "message_text",
            "reason_code",
            "script",
            "priority",
            "scheduled_for",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class CountsSerializer(serializers.Serializer):
    targets = serializers.IntegerField()
    pending = serializers.IntegerField()
    excluded = serializers.IntegerField()
    excluded_by_reason = serializers.DictField(child=serializers.IntegerField())
    contacted = serializers.IntegerField()
    sent = serializers.IntegerField()
    delivered = serializers.IntegerField()
    failed = serializers.IntegerField()
    reached = serializers.IntegerField()
    outcomes = serializers.DictField(child=serializers.IntegerField())


class CampaignDetailSerializer(CampaignSerializer):
    counts = serializers.SerializerMethodField()

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "counts"]
        read_only_fields = fields

    @extend_schema_field(CountsSerializer)
    def get_counts(self, campaign) -> dict:
        return campaigns.campaign_status(campaign)


class CampaignInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX)
    purpose = serializers.CharField(required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=CampaignKind.choices)
    branches = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=Branch.objects.all()
    )
    segments = serializers.ListField(
        child=serializers.ChoiceField(choices=Segment.choices), required=False, default=list
    )
    needs = serializers.ListField(
        child=serializers.ChoiceField(choices=list(NEEDS)), required=False, default=list
    )
    birthday_this_month = serializers.BooleanField(required=False, default=False)
    imported_only = serializers.BooleanField(required=False, default=False)
    channel = serializers.ChoiceField(
        choices=CampaignChannel.choices, required=False, allow_blank=True, default=""
    )
    message_text = serializers.CharField(
        max_length=MESSAGE_MAX, required=False, allow_blank=True, default=""
    )
    reason_code = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    script = serializers.CharField(required=False, allow_blank=True, default="")
    priority = serializers.ChoiceField(
        choices=Priority.choices, required=False, default=Priority.NORMAL
    )


class RowSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField(required=False, min_value=1)
    core_banking_id = serializers.CharField(required=False, max_length=40)
    note = serializers.CharField(required=False, allow_blank=True, max_length=campaigns.NOTE_MAX)

    def validate(self, attrs):
        if "customer_id" not in attrs and not attrs.get("core_banking_id"):
            raise serializers.ValidationError("Give customer_id or core_banking_id.")
        return attrs


class ImportInputSerializer(serializers.Serializer):
    rows = RowSerializer(many=True, allow_empty=False)


class CsvInputSerializer(serializers.Serializer):
    file = serializers.FileField()


class UnknownSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Row number (1 = first row; CSV: the file's line).")
    id = serializers.CharField()


class ImportReportSerializer(serializers.Serializer):
    added = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    unknown = UnknownSerializer(many=True)


class ScheduleInputSerializer(serializers.Serializer):
    scheduled_for = serializers.DateTimeField()


class DryRunRowSerializer(serializers.Serializer):
    customer = serializers.IntegerField(help_text="Customer id.")
    source = serializers.CharField()
    reason = serializers.CharField(help_text="Why the customer is in the campaign.")
    channel = serializers.CharField(help_text="A message's channel; empty for callbacks.")
    excluded_reason = serializers.CharField(help_text="Why left out; empty when contacted.")


class DryRunSerializer(serializers.Serializer):
    counts = serializers.DictField()
    contacted = DryRunRowSerializer(many=True)
    left_out = DryRunRowSerializer(many=True)
    truncated = serializers.BooleanField(help_text=f"Lists stop at {DRY_RUN_MAX} rows each.")


REFUSED = OpenApiResponse(
    DetailSerializer, description="Your role or key may not run campaigns at its branches."
)
CONFLICT = OpenApiResponse(DetailSerializer, description="The campaign's state does not allow it.")


def _row(candidate) -> dict:
    return {
        "customer": candidate.customer.pk,
        "source": candidate.source,
        "reason": candidate.reason,
        "channel": candidate.channel,
        "excluded_reason": candidate.excluded_reason,
    }


@extend_schema_view(
    list=extend_schema(description="Campaigns of the caller's branches, newest first."),
    retrieve=extend_schema(description="One campaign with its counts."),
)
class CampaignViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Campaign.objects.all()
    serializer_class = CampaignDetailSerializer
    permission_classes = [ScopedModelPermissions]
    action_perms = {
        "list": VIEW_PERM,
        "retrieve": VIEW_PERM,
        "dry_run": VIEW_PERM,
        "create": API_MANAGE_PERM,
        "targets": API_MANAGE_PERM,
        "targets_csv": API_MANAGE_PERM,
        "schedule": API_MANAGE_PERM,
        "cancel": API_MANAGE_PERM,
    }
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        perm = self.action_perms.get(self.action, VIEW_PERM)
        queryset = campaigns.campaigns_visible_to(self.request.user, perm)
        return queryset.prefetch_related("branches").order_by("-created_at", "-id")

    def get_serializer_class(self):
        return CampaignSerializer if self.action == "list" else CampaignDetailSerializer

    def _body(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _answer(self, campaign, code=status.HTTP_200_OK) -> Response:
        fresh = Campaign.objects.prefetch_related("branches").get(pk=campaign.pk)
        return Response(CampaignDetailSerializer(fresh).data, status=code)

    @extend_schema(
        request=CampaignInputSerializer,
        responses={201: CampaignDetailSerializer, 400: DetailSerializer, 403: REFUSED},
        description="A draft campaign: a message (channel, message_text) or callbacks "
        "(reason_code, script, priority) to the customers of its branches that its filters "
        "(segments, needs, birthday this month) or an imported list choose.",
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        body = self._body(CampaignInputSerializer)
        campaign = campaigns.campaign_create(
            actor=request.user, branches=body.pop("branches"), **body
        )
        return self._answer(campaign, status.HTTP_201_CREATED)

    @extend_schema(
        request=ImportInputSerializer,
        responses={200: ImportReportSerializer, 400: DetailSerializer, 409: CONFLICT},
        description="Add customers (by id or core-banking id, with a note saying why) to a "
        "draft or scheduled campaign; returns how many were added, were already in it, and the "
        "rows naming no customer of its branches.",
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def targets(self, request, pk=None):
        campaign = self.get_object()
        rows = self._body(ImportInputSerializer)["rows"]
        report = campaigns.campaign_import_targets(actor=request.user, campaign=campaign, rows=rows)
        return Response(report.as_dict())

    @extend_schema(
        request={"multipart/form-data": CsvInputSerializer},
        responses={200: ImportReportSerializer, 400: DetailSerializer, 409: CONFLICT},
        description="The same from a UTF-8 CSV file (header customer_id or core_banking_id, "
        "optional note). Lines with errors refuse the whole file: 400 with `lines`.",
    )
    @idempotent
    @action(
        detail=True,
        methods=["post"],
        url_path="targets/csv",
        parser_classes=[MultiPartParser],
    )
    def targets_csv(self, request, pk=None):
        campaign = self.get_object()
        upload = self._body(CsvInputSerializer)["file"]
        parsed = campaigns.parse_target_csv(upload)
        if parsed.errors:
            return Response(
                {"lines": [{"line": line, "error": error} for line, error in parsed.errors]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        report = campaigns.campaign_import_targets(
            actor=request.user, campaign=campaign, rows=parsed.rows
        )
        return Response(report.as_dict())

    @extend_schema(
        responses={200: DryRunSerializer},
        description="Who would be contacted if the campaign ran now and why, and who would be "
        "left out and why. Writes nothing.",
    )
    @action(detail=True, methods=["get"], url_path="dry-run")
    def dry_run(self, request, pk=None):
        run = campaigns.campaign_dry_run(self.get_object())
        return Response(
            {
                "counts": run.counts,
                "contacted": [_row(c) for c in run.contacted[:DRY_RUN_MAX]],
                "left_out": [_row(c) for c in run.left_out[:DRY_RUN_MAX]],
                "truncated": max(len(run.contacted), len(run.left_out)) > DRY_RUN_MAX,
            }
        )

    @extend_schema(
        request=ScheduleInputSerializer,
        responses={200: CampaignDetailSerializer, 400: DetailSerializer, 409: CONFLICT},
        description="Schedule a draft (or move a scheduled campaign's start).",
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def schedule(self, request, pk=None):
        campaign = self.get_object()
        body = self._body(ScheduleInputSerializer)
        return self._answer(
            campaigns.campaign_schedule(
                actor=request.user, campaign=campaign, scheduled_for=body["scheduled_for"]
            )
        )

    @extend_schema(
        request=None,
        responses={200: CampaignDetailSerializer, 409: CONFLICT},
        description="Stop a draft, scheduled or running campaign: nobody else is contacted.",
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        campaign = self.get_object()
        return self._answer(campaigns.campaign_cancel(actor=request.user, campaign=campaign))


router = DefaultRouter(trailing_slash=False)
router.include_root_view = False
router.register("campaigns", CampaignViewSet, basename="campaign")
urlpatterns = router.urls
