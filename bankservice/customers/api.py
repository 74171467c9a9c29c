"""REST API for customers: thin serializers and viewsets that call the services."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from bankservice.branches.models import Branch
from bankservice.branches.scope import has_perm
from bankservice.core.api_pagination import OldestFirstCursorPagination
from bankservice.core.idempotency import idempotent

from .filters import CustomerFilter
from .models import Customer
from .selectors import customer_list
from .services import (
    EDITABLE_FIELDS,
    REVEALABLE_FIELDS,
    customer_create,
    customer_merge,
    customer_reveal_pii,
    customer_update,
    customer_upsert,
)

CONFLICT = OpenApiResponse(
    description="Duplicate core-banking ID or ID number, or changed meanwhile (`version`)."
)


class CustomerSerializer(serializers.ModelSerializer):
    """A customer; ID and phone numbers always come masked (use `reveal` for the full value)."""

    home_branch = serializers.SlugRelatedField(slug_field="code", queryset=Branch.objects.all())
    national_id = serializers.CharField(
        max_length=20, required=False, allow_null=True, allow_blank=True
    )
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    core_banking_id = serializers.CharField(
        max_length=32, required=False, allow_null=True, allow_blank=True
    )
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="The version this change starts from (as read); a record changed since is "
        "refused with 409 and nothing is saved. Omitted: no check.",
    )

    class Meta:
        model = Customer
        fields = ["id", *EDITABLE_FIELDS, "version", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        # Uniqueness is the service's to check: a duplicate is a 409 conflict, not a 400.
        validators = []

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["national_id"] = instance.national_id_masked or None
        data["phone"] = instance.phone_masked
        return data


class RevealSerializer(serializers.Serializer):
    fields = serializers.ListField(
        child=serializers.ChoiceField(choices=REVEALABLE_FIELDS),
        required=False,
        default=list(REVEALABLE_FIELDS),
        min_length=1,
    )


class MergeSerializer(serializers.Serializer):
    duplicate = serializers.IntegerField(min_value=1, help_text="Id of the duplicate record.")


class CustomerViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Customers of the caller's branches."""

    queryset = Customer.objects.all()
    pagination_class = OldestFirstCursorPagination
    lookup_value_regex = r"\d+"
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    action_perms = {
        "reveal": "customers.reveal_pii",
        "upsert": "customers.change_customer",
        "merge": "customers.merge_customer",
    }

    def get_queryset(self):
        perm = "customers.view_customer"
        if self.action in {"update", "partial_update"}:
            perm = "customers.change_customer"
        return customer_list(principal=self.request.user, perm=perm).order_by("id")

    @extend_schema(responses={201: CustomerSerializer, 409: CONFLICT})
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = customer_create(actor=request.user, data=serializer.validated_data)
        return Response(self.get_serializer(customer).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: CustomerSerializer, 409: CONFLICT})
    def update(self, request, *args, **kwargs):
        customer = self.get_object()
        serializer = self.get_serializer(
            customer, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        customer = customer_update(
            actor=request.user,
            customer=customer,
            data=serializer.validated_data,
            version=serializer.validated_data.get("version"),
        )
        return Response(self.get_serializer(customer).data)

    @extend_schema(responses={200: CustomerSerializer, 409: CONFLICT})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(
        request=CustomerSerializer,
        responses={200: CustomerSerializer, 201: CustomerSerializer, 409: CONFLICT},
        description="Create or update the customer with this core-banking ID.",
    )
    # lookup_field: an OPTIONS request looks for the customer a PUT would change (get_object).
    @action(
        detail=False,
        methods=["put"],
        url_path=r"by-core-id/(?P<core_banking_id>[^/]{1,32})",
        lookup_field="core_banking_id",
    )
    def upsert(self, request, core_banking_id: str):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not has_perm(request.user, "customers.add_customer"):
            self.permission_denied(request)
        customer, created = customer_upsert(
            actor=request.user, core_banking_id=core_banking_id, data=serializer.validated_data
        )
        return Response(
            self.get_serializer(customer).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        request=RevealSerializer,
        responses=inline_serializer(
            "RevealedCustomerData",
            {name: serializers.CharField(required=False) for name in REVEALABLE_FIELDS},
        ),
        description="Return the full ID and/or phone number. Every call is audited.",
    )
    # Not @idempotent: a read, audited at every call; a replay would show the numbers unaudited
    # and copy them into the key's stored response (see tests/api/test_idempotency_everywhere.py).
    @action(detail=True, methods=["post"])
    def reveal(self, request, pk=None):
        customer = get_object_or_404(customer_list(principal=request.user), pk=pk)
        serializer = RevealSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(
            customer_reveal_pii(
                actor=request.user, customer=customer, fields=serializer.validated_data["fields"]
            )
        )

    @extend_schema(
        request=MergeSerializer,
        responses={200: CustomerSerializer, 409: CONFLICT},
        description="Merge a duplicate record into this one (its history moves to this timeline).",
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        perm = "customers.merge_customer"
        survivor = get_object_or_404(customer_list(principal=request.user, perm=perm), pk=pk)
        serializer = MergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        duplicate = (
            customer_list(principal=request.user, perm=perm)
            .filter(pk=serializer.validated_data["duplicate"])
            .first()
        )
        if duplicate is None:
            raise serializers.ValidationError({"duplicate": ["No such customer in your branches."]})
        survivor = customer_merge(actor=request.user, survivor=survivor, duplicate=duplicate)
        return Response(self.get_serializer(survivor).data)
