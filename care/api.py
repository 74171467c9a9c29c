"""REST API of customer care, mounted under /api/v1/.

- `callbacks`: list (filters: status, branch code, due before), retrieve (with its attempts);
  POST claim, attempt and complete, each calling its service (care/services.py); POST cancel
  (with the reason) and release (back to open, the agent being absent) for the care team lead.
- `follow-up-rules`: read.

Scope `care:read` reads. Working a callback is done by a care agent who answers for it (the
callback is claimed by a person), so claim, attempt and complete are for members of staff, by
their `care.work_callback` permission at the callback's branch; cancel and release by
`care.cancel_callback` (the care team lead, the branch's managers). The customer's phone is masked
unless the caller may see personal data at the customer's branch. POST actions honour
`Idempotency-Key`.
"""

import django_filters
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from bankservice.branches.models import Branch
from bankservice.branches.scope import can_act_at
from bankservice.core.api_errors import DetailSerializer
from bankservice.core.api_filters import IsoDateTimeFilter
from bankservice.core.api_pagination import cursor_by
from bankservice.core.api_permissions import StaffOnlyActionPermissions, required_perm
from bankservice.core.idempotency import idempotent
from bankservice.core.masking import mask_phone
from bankservice.customers.services import pii_shown

from . import campaign_api, services, survey_api
from .forms import NOTE_MAX, OUTCOME_MAX
from .models import (
    AttemptChannel,
    AttemptResult,
    Callback,
    CallbackAttempt,
    CallbackStatus,
    FollowUpRule,
)
from .selectors import VIEW_PERM, callback_list
from .services import CANCEL_PERM, WORK_PERM

RULE_PERM = "care.view_followuprule"
REVEAL_PERM = "customers.reveal_pii"
BY_STAFF = gettext_lazy(
    "Callbacks are worked by members of staff, not with an API key: API keys may only read."
)


class RuleSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text="In the caller's language.")
    match_code = serializers.CharField(read_only=True, help_text="Empty: any code.")

    class Meta:
        model = FollowUpRule
        fields = [
            "id",
            "code",
            "name",
            "name_zh",
            "name_en",
            "trigger",
            "match_code",
            "delay",
            "delay_unit",
            "role",
            "script",
            "priority",
            "reason_code",
            "is_active",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(description="The follow-up rules, active or not."),
    retrieve=extend_schema(description="One follow-up rule by its code."),
)
class RuleViewSet(viewsets.ReadOnlyModelViewSet):
    """What schedules a callback: the event, the delay, the role, the script (read only)."""

    queryset = FollowUpRule.objects.all()
    serializer_class = RuleSerializer
    action_perms = {"list": RULE_PERM, "retrieve": RULE_PERM}
    lookup_field = "code"
    lookup_value_regex = r"[\w-]+"
    pagination_class = None

    def get_queryset(self):
        return FollowUpRule.objects.order_by("code")


class AttemptSerializer(serializers.ModelSerializer):
    by = serializers.IntegerField(source="by_id", read_only=True, help_text="User id.")

    class Meta:
        model = CallbackAttempt
        fields = ["id", "channel", "result", "note", "by", "at"]
        read_only_fields = fields


class CallbackSerializer(serializers.ModelSerializer):
    """A callback as lists show it (its attempts: see the single one)."""

    status_label = serializers.CharField(source="get_status_display", read_only=True)
    branch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    rule = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    customer_name = serializers.CharField(source="customer.full_name", read_only=True)
    customer_phone = serializers.SerializerMethodField(
        help_text="Masked unless you may see personal data at the customer's branch."
    )
    claimed_by = serializers.IntegerField(
        source="claimed_by_id", read_only=True, allow_null=True, help_text="User id."
    )

    class Meta:
        model = Callback
        fields = [
            "id",
            "status",
            "status_label",
            "branch",
            "rule",
            "reason_code",
            "role",
            "priority",
            "customer",
            "customer_name",
            "customer_phone",
            "due_at",
            "claimed_by",
            "claimed_at",
            "attempts",
            "outcome",
            "satisfaction",
            "source_ref",
            "closed_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_customer_phone(self, callback: Callback) -> str:
        request = self.context.get("request")
        phone = callback.customer.phone
        reveal = request is not None and can_act_at(
            request.user, REVEAL_PERM, callback.customer.home_branch_id
        )
        if not reveal:
            return mask_phone(phone)
        pii_shown(
            request,
            fields=["phone"] if phone else [],
            subject=callback,
            branch=callback.branch,
            customer=callback.customer,
        )
        return phone


class CallbackDetailSerializer(CallbackSerializer):
    script = serializers.CharField(read_only=True)
    attempt_log = AttemptSerializer(many=True, read_only=True)

    class Meta(CallbackSerializer.Meta):
        fields = [*CallbackSerializer.Meta.fields, "script", "attempt_log"]
        read_only_fields = fields


class AttemptInputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=AttemptChannel.choices)
    result = serializers.ChoiceField(choices=AttemptResult.choices)
    note = serializers.CharField(max_length=NOTE_MAX, required=False, allow_blank=True, default="")


class CancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=OUTCOME_MAX, help_text="Why it is no longer needed (kept as its outcome)."
    )


class CompleteInputSerializer(serializers.Serializer):
    outcome = serializers.CharField(max_length=OUTCOME_MAX)
    satisfaction = serializers.IntegerField(
        min_value=1, max_value=5, required=False, allow_null=True, default=None
    )


CONFLICT = OpenApiResponse(
    DetailSerializer, description="The callback's state does not allow this step now."
)
REFUSED = OpenApiResponse(
    DetailSerializer,
    description="You may not do this: your role at the branch, or someone else claimed it.",
)


class CallbackFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=CallbackStatus.choices, distinct=False, label=gettext_lazy("Status")
    )
    branch = django_filters.CharFilter(method="filter_branch", label=gettext_lazy("Branch code"))
    due_before = IsoDateTimeFilter(
        field_name="due_at", lookup_expr="lt", label=gettext_lazy("Due before")
    )

    class Meta:
        model = Callback
        fields = ["status", "branch", "due_before"]

    def filter_branch(self, queryset, name, value):
        # By the id the code names: the (branch, status, due) index serves the list.
        ids = list(Branch.objects.filter(code=value).values_list("pk", flat=True))
        return queryset.filter(branch_id__in=ids)


@extend_schema_view(
    list=extend_schema(description="Callbacks of the caller's branches, soonest due first."),
    retrieve=extend_schema(description="One callback with its script and attempts."),
)
class CallbackViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Callbacks. Each step is a POST calling its service, on a callback read through the caller's
    scope for that step first (another branch's callback: 404)."""

    queryset = Callback.objects.all()
    pagination_class = cursor_by("due_at", "priority", "id")
    serializer_class = CallbackDetailSerializer
    filterset_class = CallbackFilter
    permission_classes = [StaffOnlyActionPermissions]
    staff_only_message = BY_STAFF
    action_perms = {
        "list": VIEW_PERM,
        "retrieve": VIEW_PERM,
        "claim": WORK_PERM,
        "attempt": WORK_PERM,
        "complete": WORK_PERM,
        "cancel": CANCEL_PERM,
        "release": CANCEL_PERM,
    }
    staff_actions = {"claim", "attempt", "complete", "cancel", "release"}
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        callbacks = callback_list(self.request.user, required_perm(self, self.request.method))
        if self.action == "retrieve":
            callbacks = callbacks.prefetch_related("attempt_log")
        return callbacks.order_by("due_at", "priority", "id")

    def get_serializer_class(self):
        return CallbackSerializer if self.action == "list" else CallbackDetailSerializer

    def _answer(self, callback: Callback) -> Response:
        # Read again with what the answer shows (the services return the locked row).
        fresh = callback_list(self.request.user).prefetch_related("attempt_log").get(pk=callback.pk)
        return Response(CallbackDetailSerializer(fresh, context={"request": self.request}).data)

    def _body(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(
        request=None,
        responses={200: CallbackDetailSerializer, 403: REFUSED, 409: CONFLICT},
        description="Claim an open callback: it is yours to work.",
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        callback = self.get_object()
        return self._answer(services.callback_claim(actor=request.user, callback=callback))

    @extend_schema(
        request=AttemptInputSerializer,
        responses={201: AttemptSerializer, 400: DetailSerializer, 403: REFUSED, 409: CONFLICT},
        description="Record one try on a callback you claimed. No answer or busy: back to open, "
        "due later (or closed as unreachable after the maximum of attempts); wrong number or "
        "refused: closed; reached: stays yours for the outcome.",
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def attempt(self, request, pk=None):
        callback = self.get_object()
        body = self._body(AttemptInputSerializer)
        attempt = services.callback_attempt(actor=request.user, callback=callback, **body)
        return Response(AttemptSerializer(attempt).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=CompleteInputSerializer,
        responses={200: CallbackDetailSerializer, 400: DetailSerializer, 403: REFUSED},
        description="The customer was reached: the outcome and their satisfaction (1-5).",
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        callback = self.get_object()
        body = self._body(CompleteInputSerializer)
        return self._answer(
            services.callback_complete(actor=request.user, callback=callback, **body)
        )

    @extend_schema(
        request=CancelInputSerializer,
        responses={
            200: CallbackDetailSerializer,
            400: DetailSerializer,
            403: REFUSED,
            409: CONFLICT,
        },
        description="Cancel an open or claimed callback no longer needed, with the reason (the "
        "care team lead). Cancelling a cancelled callback again changes nothing.",
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        callback = self.get_object()
        body = self._body(CancelInputSerializer)
        return self._answer(services.callback_cancel(actor=request.user, callback=callback, **body))

    @extend_schema(
        request=None,
        responses={200: CallbackDetailSerializer, 403: REFUSED, 409: CONFLICT},
        description="Give a callback claimed by an absent agent back to the worklist, open for "
        "anyone (the care team lead). Its due time stays. An open callback stays as it is.",
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        callback = self.get_object()
        return self._answer(services.callback_release(actor=request.user, callback=callback))


# Included under /api/v1/ by bankservice/urls.py (by name: the kernel never imports a stage app).
router = DefaultRouter(trailing_slash=False)
router.include_root_view = False
router.register("callbacks", CallbackViewSet, basename="callback")
router.register("follow-up-rules", RuleViewSet, basename="follow-up-rule")
urlpatterns = [*router.urls, *survey_api.urlpatterns, *campaign_api.urlpatterns]
