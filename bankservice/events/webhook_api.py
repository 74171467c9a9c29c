"""REST API for webhooks: subscriptions (bank-level configuration) and the delivery log.

A subscription can receive events of every branch, so only staff holding the permission
bank-wide manage or read them; API keys get 403 whatever their scopes.
"""

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from bankservice.branches.models import Branch
from bankservice.branches.scope import ALL_BRANCHES, branch_ids_for
from bankservice.core.api_pagination import CursorPagination
from bankservice.core.api_permissions import (
    IsAuthenticatedPrincipal,
    ScopedModelPermissions,
    required_perm,
)
from bankservice.core.idempotency import idempotent

from .models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription
from .webhook_services import (
    webhook_delivery_list,
    webhook_delivery_resend,
    webhook_subscription_activate,
    webhook_subscription_create,
    webhook_subscription_deactivate,
    webhook_subscription_rotate_secret,
    webhook_subscription_update,
)
from .webhooks import validate_event_patterns

CONFLICT = OpenApiResponse(description="The current state does not allow this.")


class BankWideStaffPermissions(ScopedModelPermissions):
    """The model permission, held bank-wide, by a member of staff (never an API key)."""

    def has_permission(self, request, view) -> bool:
        if not IsAuthenticatedPrincipal.has_permission(self, request, view):
            return False
        if getattr(request.user, "is_api_client", False):
            return False
        return branch_ids_for(request.user, required_perm(view, request.method)) is ALL_BRANCHES


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    """A subscription; the signing secret is never shown here (only once, on creation)."""

    event_types = serializers.ListField(
        child=serializers.CharField(max_length=80),
        allow_empty=False,
        validators=[validate_event_patterns],
        help_text='Patterns: "*", "customer.*", "customer.created".',
    )
    branches = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=Branch.objects.all(), required=False
    )

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "name",
            "url",
            "event_types",
            "all_branches",
            "branches",
            "is_active",
            "last_event_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "is_active", "last_event_id", "created_at", "updated_at"]


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    """The create response: the only time the secret is returned."""

    secret = serializers.CharField(
        read_only=True, help_text="Shown once: store it now to verify X-Signature."
    )

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField(read_only=True)


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["attempted_at", "status_code", "latency_ms", "error", "signature_timestamp"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    """One event owed to one subscription, with every attempt made for it."""

    event_type = serializers.CharField(source="event.type", read_only=True)
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "subscription",
            "event",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "delivered_at",
            "created_at",
            "attempt_log",
        ]
        read_only_fields = fields


class WebhookDeliveryFilter(django_filters.FilterSet):
    subscription = django_filters.NumberFilter(field_name="subscription_id")
    event = django_filters.NumberFilter(field_name="event_id")
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)

    class Meta:
        model = WebhookDelivery
        fields = ["subscription", "event", "status"]


class WebhookSubscriptionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Webhook subscriptions. DELETE deactivates (the delivery log is kept); `activate` resumes."""

    queryset = WebhookSubscription.objects.prefetch_related("branches").order_by("id")
    serializer_class = WebhookSubscriptionSerializer
    permission_classes = [BankWideStaffPermissions]
    lookup_value_regex = r"\d+"
    filterset_fields = ["is_active"]
    action_perms = {
        "activate": "events.change_webhooksubscription",
        "rotate_secret": "events.change_webhooksubscription",
    }

    @extend_schema(responses={201: WebhookSubscriptionCreatedSerializer})
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription, _secret = webhook_subscription_create(
            actor=request.user, data=serializer.validated_data
        )
        return Response(
            WebhookSubscriptionCreatedSerializer(subscription).data, status=status.HTTP_201_CREATED
        )

    def update(self, request, *args, **kwargs):
        subscription = self.get_object()
        serializer = self.get_serializer(
            subscription, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        subscription = webhook_subscription_update(
            actor=request.user, subscription=subscription, data=serializer.validated_data
        )
        return Response(self.get_serializer(subscription).data)

    @extend_schema(
        responses={204: None, 409: CONFLICT},
        description="Deactivate: nothing more is sent; pending deliveries and the log are kept.",
    )
    def destroy(self, request, *args, **kwargs):
        webhook_subscription_deactivate(actor=request.user, subscription=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={200: WebhookSubscriptionSerializer, 409: CONFLICT},
        description="Resume a deactivated subscription; it catches up from where it stopped.",
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        subscription = webhook_subscription_activate(
            actor=request.user, subscription=self.get_object()
        )
        return Response(self.get_serializer(subscription).data)

    @extend_schema(
        request=None,
        responses={200: SecretSerializer},
        description="Replace the signing secret; the new one is returned once.",
    )
    @idempotent
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        secret = webhook_subscription_rotate_secret(
            actor=request.user, subscription=self.get_object()
        )
        return Response(SecretSerializer({"secret": secret}).data)


class WebhookDeliveryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The delivery log: one row per (subscription, event), with its attempts."""

    queryset = WebhookDelivery.objects.all()
    pagination_class = CursorPagination
    serializer_class = WebhookDeliverySerializer
    permission_classes = [BankWideStaffPermissions]
    filterset_class = WebhookDeliveryFilter
    lookup_value_regex = r"\d+"
    action_perms = {"resend": "events.resend_webhookdelivery"}

    def get_queryset(self):
        return webhook_delivery_list().order_by("-id")

    @extend_schema(
        request=None,
        responses={
            200: WebhookDeliverySerializer,
            409: inline_serializer("WebhookResendConflict", {"detail": serializers.CharField()}),
        },
        description=(
            "Queue a delivered or dead-lettered delivery again, due now; later events of the "
            "subscription wait for it."
        ),
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        delivery = webhook_delivery_resend(actor=request.user, delivery=self.get_object())
        return Response(self.get_serializer(webhook_delivery_list().get(pk=delivery.pk)).data)
