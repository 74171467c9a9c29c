"""REST API of transaction processing, mounted under /api/v1/.

- `request-types` (read): each with its current version's e-form: the JSON Schema, the UI hints,
  the layout in the caller's language and the documents it asks for.
- `requests`: list (filters), retrieve, create a draft, PATCH a draft's data; every step after
  that is a POST action calling its service: submit, approve, return, reject, cancel, documents
  (multipart upload) and core-result (core banking's callback).
- `bundles` (read) and `bundle-runs`: create (one draft per request type of the bundle, the
  shared fields entered once), POST confirm (the customer's one confirmation submits them all).

A request's maker and its approvers are people (four eyes), so requests are made and decided by
members of staff; API keys read (`transactions:read`) and core banking reports results
(`transactions:core_banking`). Create and every POST action honour `Idempotency-Key`
(bankservice/core/idempotency.py). ID and phone numbers in form data are masked unless the caller
may see personal data at the request's branch.
"""

import json

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
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
from bankservice.branches.scope import can_act_at
from bankservice.core.api_errors import DetailSerializer
from bankservice.core.api_pagination import CursorPagination
from bankservice.core.api_permissions import StaffOnlyActionPermissions, required_perm
from bankservice.core.idempotency import idempotent
from bankservice.customers.selectors import customer_list
from bankservice.customers.services import pii_shown
from reception.selectors import ticket_list

from . import eforms
from .filters import RequestFilter
from .models import (
    Approval,
    Bundle,
    BundleItem,
    BundleRun,
    RequestDocument,
    RequestStatus,
    RequestType,
    RequestTypeVersion,
    ServiceRequest,
)
from .selectors import request_list
from .services import (
    APPROVE_PERM,
    CORE_BANKING_PERM,
    EDIT_PERM,
    MAKE_PERM,
    VIEW_PERM,
    bundle_confirm,
    bundle_start,
    document_attach,
    request_approve,
    request_cancel,
    request_core_result,
    request_create,
    request_reject,
    request_return,
    request_submit,
    request_update,
)

REVEAL_PERM = "customers.reveal_pii"
# Personal data in form data, masked for a caller without customers.reveal_pii at the branch.
MADE_BY_STAFF = gettext_lazy(
    "Service requests are made and decided by members of staff, not with an API key."
)


class FormErrorsMixin:
    """The e-form's per-field errors as 400 `{"detail", "<key>": {field: [messages]}}`, the key
    naming the part of the body that holds the form data."""

    def form_errors_key(self) -> str:
        return "data"

    def handle_exception(self, exc):
        if isinstance(exc, eforms.FormErrors):
            return Response(
                {"detail": exc.message, self.form_errors_key(): exc.errors},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return super().handle_exception(exc)


# --- Request types and bundles (configuration, read only) ------------------------------------


class LayoutFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    help = serializers.CharField()
    widget = serializers.CharField(
        help_text="text, textarea, select, radio, checkbox or money ({amount, currency})."
    )
    required = serializers.BooleanField()
    attrs = serializers.DictField(
        help_text="HTML attributes of the input, from the schema (type, min, max, step, "
        "maxlength, pattern, inputmode, required): the browser checks what the server checks."
    )
    choices = serializers.SerializerMethodField()
    currencies = serializers.ListField(child=serializers.CharField())
    show_if = serializers.CharField(help_text="Shown only when this field has a value below.")
    show_values = serializers.SerializerMethodField()

    @extend_schema_field(
        serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
    )
    def get_choices(self, field: eforms.Field) -> list[dict]:
        return [{"value": value, "label": label} for value, label in field.choices]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_show_values(self, field: eforms.Field) -> list[str]:
        return json.loads(field.show_values) if field.show_values else []


class LayoutSectionSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    fields = LayoutFieldSerializer(many=True)


class FormSerializer(serializers.ModelSerializer):
    """The current definition of a request type's e-form."""

    version = serializers.IntegerField(source="number")
    layout = serializers.SerializerMethodField(
        help_text="Sections and fields in the request's language, ready to render."
    )

    class Meta:
        model = RequestTypeVersion
        fields = ["version", "form_schema", "ui_schema", "documents", "sla_policy", "layout"]
        read_only_fields = fields

    @extend_schema_field(LayoutSectionSerializer(many=True))
    def get_layout(self, version: RequestTypeVersion) -> list:
        return LayoutSectionSerializer(eforms.layout(version), many=True).data


class RequestTypeSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text="The name in the request's language.")
    service_code = serializers.CharField(read_only=True, help_text="May be empty.")
    form = serializers.SerializerMethodField()

    class Meta:
        model = RequestType
        fields = ["id", "code", "name", "name_zh", "name_en", "service_code", "form"]
        read_only_fields = fields

    @extend_schema_field(FormSerializer)
    def get_form(self, request_type: RequestType) -> dict:
        return FormSerializer(request_type.current_versions[0]).data


@extend_schema_view(
    list=extend_schema(description="Request types offered now, with their current e-form."),
    retrieve=extend_schema(description="One request type by its code, with its current e-form."),
)
class RequestTypeViewSet(viewsets.ReadOnlyModelViewSet):
    """What customers can ask for, and the e-form each is filled on (read: transactions:read)."""

    queryset = RequestType.objects.all()
    serializer_class = RequestTypeSerializer
    lookup_field = "code"
    lookup_value_regex = r"[\w-]+"

    def get_queryset(self):
        current = RequestTypeVersion.objects.filter(is_current=True)
        return (
            RequestType.objects.filter(is_active=True, versions__is_current=True)
            .prefetch_related(Prefetch("versions", queryset=current, to_attr="current_versions"))
            .order_by("sort_order", "code")
        )


class BundleSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text="The name in the request's language.")
    request_types = serializers.SerializerMethodField(help_text="Request type codes, in order.")

    class Meta:
        model = Bundle
        fields = ["id", "code", "name", "name_zh", "name_en", "request_types", "shared_fields"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_request_types(self, bundle: Bundle) -> list[str]:
        return [item.request_type.code for item in bundle.items.all()]


@extend_schema_view(
    list=extend_schema(description="Bundles offered now."),
    retrieve=extend_schema(description="One bundle by its code."),
)
class BundleViewSet(viewsets.ReadOnlyModelViewSet):
    """Several request types done in one flow: shared fields entered once, one confirmation."""

    queryset = Bundle.objects.all()
    serializer_class = BundleSerializer
    lookup_field = "code"
    lookup_value_regex = r"[\w-]+"

    def get_queryset(self):
        items = BundleItem.objects.select_related("request_type").order_by("position")
        return Bundle.objects.filter(is_active=True).prefetch_related(
            Prefetch("items", queryset=items)
        )


# --- Service requests -------------------------------------------------------------------------


class ServiceRequestSerializer(serializers.ModelSerializer):
    """A request as lists show it (the form data is in the single request's answer)."""

    branch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    customer_name = serializers.CharField(source="customer.full_name", read_only=True)
    request_type = serializers.SlugRelatedField(slug_field="code", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    maker = serializers.IntegerField(source="maker_id", read_only=True, help_text="User id.")
    bundle_run = serializers.IntegerField(source="bundle_run_id", read_only=True, allow_null=True)
    amount = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text="The amount the approval rules look at (the form's money field).",
    )

    class Meta:
        model = ServiceRequest
        fields = [
            "id",
            "reference",
            "status",
            "status_label",
            "status_reason",
            "branch",
            "customer",
            "customer_name",
            "request_type",
            "maker",
            "bundle_run",
            "amount",
            "currency",
            "current_level",
            "round",
            "rework_count",
            "core_reference",
            "due_at",
            "created_at",
            "submitted_at",
            "decided_at",
            "sent_at",
            "finished_at",
        ]
        read_only_fields = fields


class ApprovalSerializer(serializers.ModelSerializer):
    approver = serializers.IntegerField(source="approver_id", read_only=True, help_text="User id.")
    approver_name = serializers.SerializerMethodField()

    class Meta:
        model = Approval
        fields = [
            "round",
            "level",
            "role",
            "decision",
            "note",
            "approver",
            "approver_name",
            "decided_at",
        ]
        read_only_fields = fields

    def get_approver_name(self, approval: Approval) -> str:
        return approval.approver.get_full_name() or approval.approver.get_username()


class DocumentSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.IntegerField(source="uploaded_by_id", read_only=True)

    class Meta:
        model = RequestDocument
        fields = [
            "id",
            "doc_type",
            "name",
            "content_type",
            "size",
            "sha256",
            "uploaded_by",
            "uploaded_at",
        ]
        read_only_fields = fields


class ServiceRequestDetailSerializer(ServiceRequestSerializer):
    """One request: its form data (ID and phone numbers masked unless the caller may see
    personal data at the branch), approval levels and decisions, documents."""

    version = serializers.IntegerField(source="version.number", read_only=True)
    data = serializers.SerializerMethodField(help_text="The form data (see the request type).")
    approval_levels = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="The role deciding each level, fixed at submission.",
    )
    approvals = ApprovalSerializer(many=True, read_only=True)
    documents = DocumentSerializer(source="current_documents", many=True, read_only=True)
    ticket = serializers.IntegerField(source="ticket_id", read_only=True, allow_null=True)
    consultation = serializers.IntegerField(
        source="consultation_id", read_only=True, allow_null=True
    )

    class Meta(ServiceRequestSerializer.Meta):
        fields = [
            *ServiceRequestSerializer.Meta.fields,
            "version",
            "data",
            "approval_levels",
            "approvals",
            "documents",
            "ticket",
            "consultation",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_data(self, service_request: ServiceRequest) -> dict:
        request = self.context.get("request")
        if request is not None and can_act_at(request.user, REVEAL_PERM, service_request.branch_id):
            pii_shown(
                request,
                fields=eforms.personal_fields(service_request.version, service_request.data),
                subject=service_request,
                branch=service_request.branch,
                customer=service_request.customer,
            )
            return service_request.data
        return eforms.masked(service_request.version, service_request.data)


def _principal(serializer):
    request = serializer.context.get("request")
    return request.user if request is not None else None


class ForCustomerSerializer(serializers.Serializer):
    """Who and where, for a new request or bundle run; choices scoped to the caller."""

    # The querysets are scoped to the caller in get_fields (none without one).
    customer = serializers.PrimaryKeyRelatedField(
        queryset=customer_list(principal=None),
        error_messages={"does_not_exist": gettext_lazy("No such customer in your branches.")},
        help_text="Customer id.",
    )
    branch = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Branch.objects.none(),
        error_messages={"does_not_exist": gettext_lazy("You make no requests at this branch.")},
        help_text="Code of the branch where the customer is served.",
    )
    ticket = serializers.PrimaryKeyRelatedField(
        queryset=ticket_list(principal=None),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": gettext_lazy("No such ticket at your branches.")},
        help_text="Id of the queue ticket of the visit, when served at the counter.",
    )

    def get_fields(self):
        fields = super().get_fields()
        principal = _principal(self)
        if principal is not None:
            fields["customer"].queryset = customer_list(principal=principal)
            fields["branch"].queryset = Branch.objects.visible_to(principal, MAKE_PERM)
            fields["ticket"].queryset = ticket_list(principal=principal)
        return fields


class RequestCreateSerializer(ForCustomerSerializer):
    request_type = serializers.SlugRelatedField(
        slug_field="code",
        queryset=RequestType.objects.filter(is_active=True),
        error_messages={"does_not_exist": gettext_lazy("No such request type is offered.")},
        help_text="Request type code.",
    )
    data = serializers.DictField(
        required=False,
        default=dict,
        help_text="Form fields to start with (checked as a draft: types and formats); what the "
        "bank holds about the customer is prefilled.",
    )


class RequestUpdateSerializer(serializers.Serializer):
    data = serializers.DictField(
        help_text="Form fields to change (checked as a draft); a field given as null is cleared."
    )


class DecisionSerializer(serializers.Serializer):
    level = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The level you looked at: if another approver decided it meanwhile, the "
        "answer is 409 instead of a decision on the next level.",
    )


class ApproveSerializer(DecisionSerializer):
    note = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="At most 500 characters."
    )


class ReasonSerializer(DecisionSerializer):
    reason = serializers.CharField(
        allow_blank=True, help_text="Required (the customer is told); at most 500 characters."
    )


class RequestCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Required once the request was submitted; at most 500 characters.",
    )


class DocumentUploadSerializer(serializers.Serializer):
    doc_type = serializers.CharField(help_text="A document code of the request's form.")
    file = serializers.FileField(
        help_text="PDF, PNG, JPEG or WebP; the type is read from the bytes."
    )


class CoreResultSerializer(serializers.Serializer):
    result = serializers.ChoiceField(
        choices=[(s.value, s.label) for s in (RequestStatus.EXECUTED, RequestStatus.FAILED)]
    )
    reference = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Core banking's reference (required when executed).",
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Why it failed (when failed)."
    )


class RequestConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    status = serializers.CharField(help_text="The request's current state.")


class FormErrorsSerializer(serializers.Serializer):
    detail = serializers.CharField()
    data = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per form field, in the request's language.",
    )


CONFLICT = OpenApiResponse(
    RequestConflictSerializer,
    description="The request's state does not allow this step (or the level was decided).",
)
FORM_ERRORS = OpenApiResponse(FormErrorsSerializer, description="The form data breaks its rules.")
FOUR_EYES = OpenApiResponse(
    DetailSerializer,
    description="You may not decide this (your own request, a level of this round decided by "
    "you already, or a role you do not hold at the branch).",
)


def _step(description: str, request=None, responses=None):
    return extend_schema(
        request=request,
        responses=responses or {200: ServiceRequestDetailSerializer, 409: CONFLICT},
        description=description,
    )


@extend_schema_view(
    list=extend_schema(description="Requests of the caller's branches, newest first."),
    retrieve=extend_schema(description="One request with its form data, decisions, documents."),
)
class ServiceRequestViewSet(
    FormErrorsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Service requests. Every step is a POST action calling its service, on a request read
    through the caller's scope for that step first (another branch's request: 404)."""

    queryset = ServiceRequest.objects.all()
    pagination_class = CursorPagination
    serializer_class = ServiceRequestDetailSerializer
    filterset_class = RequestFilter
    permission_classes = [StaffOnlyActionPermissions]
    staff_actions = {
        "create",
        "partial_update",
        "submit",
        "approve",
        "return_request",
        "reject",
        "cancel",
        "documents",
    }
    staff_only_message = MADE_BY_STAFF
    action_perms = {
        "submit": EDIT_PERM,
        "cancel": EDIT_PERM,
        "documents": EDIT_PERM,
        "approve": APPROVE_PERM,
        "return_request": APPROVE_PERM,
        "reject": APPROVE_PERM,
        "core_result": CORE_BANKING_PERM,
    }
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        requests = request_list(self.request.user, required_perm(self, self.request.method))
        if self.action == "retrieve":
            return self._with_details(requests)
        # Lists, and the steps (their services lock the request again).
        return requests.order_by("-created_at", "-id")

    @staticmethod
    def _with_details(requests):
        return requests.select_related("version").prefetch_related(
            Prefetch("approvals", queryset=Approval.objects.select_related("approver")),
            Prefetch(
                "documents",
                queryset=RequestDocument.objects.filter(is_removed=False),
                to_attr="current_documents",
            ),
        )

    def get_serializer_class(self):
        return ServiceRequestSerializer if self.action == "list" else ServiceRequestDetailSerializer

    def _answer(self, service_request: ServiceRequest, code=status.HTTP_200_OK) -> Response:
        # Read again with everything the answer shows (the services return the locked row).
        fresh = self._with_details(request_list(self.request.user)).get(pk=service_request.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    @extend_schema(
        request=RequestCreateSerializer,
        responses={201: ServiceRequestDetailSerializer, 400: FORM_ERRORS},
        description="Start a draft for a customer (prefilled from the customer's record).",
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = RequestCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        service_request = request_create(
            actor=request.user,
            customer=data["customer"],
            request_type=data["request_type"],
            branch=data["branch"],
            data=data["data"],
            ticket=data.get("ticket"),
        )
        return self._answer(service_request, status.HTTP_201_CREATED)

    @extend_schema(
        request=RequestUpdateSerializer,
        responses={200: ServiceRequestDetailSerializer, 400: FORM_ERRORS, 409: CONFLICT},
        description="Change the form data of a draft or of a request returned for correction.",
    )
    def partial_update(self, request, *args, **kwargs):
        service_request = self.get_object()
        serializer = RequestUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        service_request = request_update(
            actor=request.user, request=service_request, data=serializer.validated_data["data"]
        )
        return self._answer(service_request)

    @_step(
        "Submit the draft (or resubmit a returned request): the whole form is checked and the "
        "required documents must be attached; the approval levels are fixed now. Without "
        "levels it is approved and sent to core banking at once.",
        responses={200: ServiceRequestDetailSerializer, 400: FORM_ERRORS, 409: CONFLICT},
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._answer(request_submit(actor=request.user, request=self.get_object()))

    @_step(
        "Approve the waiting level (four eyes: never your own request, one level per person "
        "and round). The last level sends the request to core banking.",
        ApproveSerializer,
        {200: ServiceRequestDetailSerializer, 403: FOUR_EYES, 409: CONFLICT},
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        serializer = ApproveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        service_request = request_approve(
            actor=request.user,
            request=self.get_object(),
            note=serializer.validated_data["note"],
            level=serializer.validated_data.get("level"),
        )
        return self._answer(service_request)

    @_step(
        "Return the request to its maker for correction (counted as rework), with a reason.",
        ReasonSerializer,
        {200: ServiceRequestDetailSerializer, 403: FOUR_EYES, 409: CONFLICT},
    )
    @idempotent
    @action(detail=True, methods=["post"], url_path="return")
    def return_request(self, request, pk=None):
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        service_request = request_return(
            actor=request.user,
            request=self.get_object(),
            reason=serializer.validated_data["reason"],
            level=serializer.validated_data.get("level"),
        )
        return self._answer(service_request)

    @_step(
        "Reject the request, with a reason the customer is told.",
        ReasonSerializer,
        {200: ServiceRequestDetailSerializer, 403: FOUR_EYES, 409: CONFLICT},
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        service_request = request_reject(
            actor=request.user,
            request=self.get_object(),
            reason=serializer.validated_data["reason"],
            level=serializer.validated_data.get("level"),
        )
        return self._answer(service_request)

    @_step("Withdraw the request before it is approved.", RequestCancelSerializer)
    @idempotent
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        serializer = RequestCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        service_request = request_cancel(
            actor=request.user,
            request=self.get_object(),
            reason=serializer.validated_data["reason"],
        )
        return self._answer(service_request)

    @_step(
        "Attach a document (multipart) to a draft or returned request; its type is read from "
        "its bytes, its size limited, its SHA-256 kept.",
        {"multipart/form-data": DocumentUploadSerializer},
        {201: DocumentSerializer, 409: CONFLICT},
    )
    @idempotent
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def documents(self, request, pk=None):
        service_request = self.get_object()
        serializer = DocumentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        document = document_attach(
            actor=request.user,
            request=service_request,
            doc_type=serializer.validated_data["doc_type"],
            uploaded_file=serializer.validated_data["file"],
        )
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)

    @_step(
        "Core banking's callback (API key scope transactions:core_banking): `executed` with its "
        "reference, or `failed` with a reason. The same result again answers 200 and changes "
        "nothing; another result for a finished request, or a request not sent, is a 409.",
        CoreResultSerializer,
        {200: ServiceRequestSerializer, 409: CONFLICT},
    )
    @idempotent
    @action(detail=True, methods=["post"], url_path="core-result")
    def core_result(self, request, pk=None):
        serializer = CoreResultSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        service_request, _changed = request_core_result(
            actor=request.user, request=self.get_object(), **serializer.validated_data
        )
        return Response(ServiceRequestSerializer(service_request).data)


# --- Bundle runs ------------------------------------------------------------------------------


class BundleRunSerializer(serializers.ModelSerializer):
    """One customer's bundle and the requests it made (their form data: see each request)."""

    bundle = serializers.SlugRelatedField(slug_field="code", read_only=True)
    branch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    created_by = serializers.IntegerField(source="created_by_id", read_only=True)
    shared_fields = serializers.SerializerMethodField(help_text="The fields entered once.")
    requests = ServiceRequestSerializer(many=True, read_only=True)

    class Meta:
        model = BundleRun
        fields = [
            "id",
            "bundle",
            "branch",
            "customer",
            "shared_fields",
            "requests",
            "created_by",
            "created_at",
            "confirmed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_shared_fields(self, run: BundleRun) -> list[str]:
        return sorted(run.shared_data)


class BundleRunCreateSerializer(ForCustomerSerializer):
    bundle = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Bundle.objects.filter(is_active=True),
        error_messages={"does_not_exist": gettext_lazy("No such bundle is offered.")},
        help_text="Bundle code.",
    )
    shared_data = serializers.DictField(
        required=False,
        default=dict,
        help_text="Values of the bundle's shared fields, entered once for every request.",
    )


class BundleFormErrorsSerializer(serializers.Serializer):
    detail = serializers.CharField()
    shared_data = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


@extend_schema_view(
    list=extend_schema(description="Bundle runs of the caller's branches, newest first."),
    retrieve=extend_schema(description="One bundle run with its requests."),
)
class BundleRunViewSet(
    FormErrorsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """A customer's bundle: create it (one draft per request type, shared fields entered once),
    fill each request (PATCH /requests/{id}), then confirm once."""

    queryset = BundleRun.objects.all()
    pagination_class = CursorPagination
    serializer_class = BundleRunSerializer
    permission_classes = [StaffOnlyActionPermissions]
    staff_actions = {"create", "confirm"}
    staff_only_message = MADE_BY_STAFF
    # A run has no permissions of its own: those of the requests it makes.
    action_perms = {
        "list": VIEW_PERM,
        "retrieve": VIEW_PERM,
        "create": MAKE_PERM,
        "confirm": EDIT_PERM,
    }
    lookup_value_regex = r"\d+"

    def form_errors_key(self) -> str:
        # At creation the shared fields are checked; at confirmation one request's form.
        return "shared_data" if self.action == "create" else "data"

    def get_queryset(self):
        return self._runs(required_perm(self, self.request.method))

    def _runs(self, perm: str):
        requests = ServiceRequest.objects.select_related("branch", "customer", "request_type")
        return (
            BundleRun.objects.visible_to(self.request.user, perm)
            .select_related("bundle", "branch")
            .prefetch_related(Prefetch("requests", queryset=requests.order_by("pk")))
            .order_by("-created_at", "-id")
        )

    def _answer(self, run: BundleRun, code=status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self._runs(VIEW_PERM).get(pk=run.pk)).data, status=code)

    @extend_schema(
        request=BundleRunCreateSerializer,
        responses={
            201: BundleRunSerializer,
            400: OpenApiResponse(
                BundleFormErrorsSerializer, description="A shared field is wrong."
            ),
        },
        description="Start a bundle for a customer: one draft per request type of the bundle.",
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = BundleRunCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        run = bundle_start(
            actor=request.user,
            bundle=data["bundle"],
            customer=data["customer"],
            branch=data["branch"],
            shared_data=data["shared_data"],
            ticket=data.get("ticket"),
        )
        return self._answer(run, status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={
            200: BundleRunSerializer,
            400: FORM_ERRORS,
            409: OpenApiResponse(DetailSerializer, description="Confirmed already."),
        },
        description="The customer's one confirmation: every request of the run is submitted, "
        "all or none (`detail` names the request type whose check failed).",
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self._answer(bundle_confirm(actor=request.user, run=self.get_object()))


# Included under /api/v1/ by bankservice/urls.py (by name: the kernel never imports a stage app).
router = DefaultRouter(trailing_slash=False)
router.include_root_view = False
router.register("request-types", RequestTypeViewSet, basename="request-type")
router.register("requests", ServiceRequestViewSet, basename="service-request")
router.register("bundles", BundleViewSet, basename="bundle")
router.register("bundle-runs", BundleRunViewSet, basename="bundle-run")
urlpatterns = router.urls
