"""REST resources of the consultation stage, mounted under /api/v1/.

Consultations: list (filters), retrieve, create, PATCH what was asked and answered, and
`POST /consultations/{id}/close`. A consultation is held by a member of staff, so API keys read
them (consultation:read) but do not create, change or close them. The customer's phone and e-mail
are masked unless the caller may see personal data at the branch.
"""

from django.contrib.auth import get_user_model
from django.urls import include, path
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from bankservice.branches.models import Branch
from bankservice.core.api_errors import DetailSerializer
from bankservice.core.api_pagination import CursorPagination
from bankservice.core.api_permissions import StaffOnlyActionPermissions
from bankservice.core.idempotency import idempotent
from bankservice.customers.models import Customer, Product
from bankservice.customers.selectors import customer_list
from bankservice.customers.services import contact_shown

from .filters import ConsultationFilter
from .models import Article, Category, Channel, Consultation, Outcome
from .selectors import consultation_detail_list
from .services import (
    CHANGE_PERM,
    START_PERM,
    VIEW_PERM,
    consultation_close,
    consultation_start,
    consultation_update,
)


class ConsultationSerializer(serializers.ModelSerializer):
    """A consultation. `name`, `phone` and `email` are the customer's (or the anonymous
    contact's); phone and e-mail masked unless the caller may see personal data there."""

    branch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True, allow_null=True)
    name = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    email = serializers.SerializerMethodField()
    advisor = serializers.IntegerField(source="advisor_id", read_only=True)
    referred_to = serializers.IntegerField(source="referred_to_id", read_only=True, allow_null=True)
    ticket = serializers.IntegerField(
        source="ticket_id", read_only=True, allow_null=True, help_text="Queue ticket id."
    )
    visit = serializers.IntegerField(source="visit_id", read_only=True, allow_null=True)
    topics = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    products = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    articles = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Consultation
        fields = [
            "id",
            "branch",
            "channel",
            "status",
            "customer",
            "name",
            "phone",
            "email",
            "advisor",
            "ticket",
            "visit",
            "question",
            "topics",
            "products",
            "articles",
            "notes",
            "version",
            "outcome",
            "outcome_note",
            "referred_to",
            "handoff_status",
            "handoff_ref",
            "started_at",
            "ended_at",
        ]
        read_only_fields = fields

    def _who(self, consultation: Consultation) -> dict:
        # Once per consultation for the three fields.
        shown = self.__dict__.setdefault("_shown", {})
        if consultation.pk not in shown:
            shown[consultation.pk] = contact_shown(self.context.get("request"), consultation)
        return shown[consultation.pk]

    def get_name(self, consultation: Consultation) -> str:
        return self._who(consultation)["name"]

    def get_phone(self, consultation: Consultation) -> str:
        return self._who(consultation)["phone"]

    def get_email(self, consultation: Consultation) -> str:
        return self._who(consultation)["email"]


class ConsultationCreateSerializer(serializers.Serializer):
    ticket = serializers.IntegerField(
        required=False,
        help_text="Id of the ticket you are serving at your counter: the consultation takes "
        "its branch, visit and customer (channel counter). Leave out for phone, chat, video.",
    )
    branch = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Branch.objects.none(),
        required=False,
        help_text="Branch code (without a ticket).",
        error_messages={"does_not_exist": gettext_lazy("No such branch of yours.")},
    )
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.PHONE)
    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.none(),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": gettext_lazy("No such customer in your branches.")},
        help_text="Customer id; or give a contact instead.",
    )
    contact_name = serializers.CharField(required=False, allow_blank=True, max_length=80)
    contact_phone = serializers.CharField(required=False, allow_blank=True, max_length=32)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    question = serializers.CharField(required=False, allow_blank=True, max_length=4000)

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["branch"].queryset = Branch.objects.visible_to(request.user, START_PERM)
            fields["customer"].queryset = customer_list(principal=request.user)
        return fields


class ConsultationUpdateSerializer(serializers.Serializer):
    """Any of these; lists replace the current ones."""

    question = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=8000)
    topics = serializers.SlugRelatedField(
        slug_field="code",
        many=True,
        required=False,
        queryset=Category.objects.filter(is_active=True),
        help_text="Category codes.",
    )
    products = serializers.SlugRelatedField(
        slug_field="code",
        many=True,
        required=False,
        queryset=Product.objects.filter(is_active=True),
        help_text="Product codes.",
    )
    articles = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=Article.objects.filter(published__isnull=False, is_archived=False),
        help_text="Ids of published knowledge articles used to answer.",
    )
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="The version this change starts from (as read); a consultation changed since "
        "is refused with 409 and nothing is saved. Omitted: no check.",
    )


class ConsultationCloseSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    outcome_note = serializers.CharField(required=False, allow_blank=True, max_length=500)
    referred_to = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text='User id of an advisor of the branch (outcome "advisor").',
    )


CONFLICT = OpenApiResponse(DetailSerializer, description="The consultation is closed already.")


@extend_schema_view(
    list=extend_schema(description="Consultations of the caller's branches, newest first."),
    retrieve=extend_schema(description="One consultation."),
)
class ConsultationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Consultations: what customers asked, which articles answered them and what came of it."""

    queryset = Consultation.objects.all()
    pagination_class = CursorPagination
    serializer_class = ConsultationSerializer
    filterset_class = ConsultationFilter
    permission_classes = [StaffOnlyActionPermissions]
    staff_actions = {"create", "partial_update", "close"}
    staff_only_message = gettext_lazy("Consultations are held by a member of staff, not a key.")
    action_perms = {"close": CHANGE_PERM}
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        perm = CHANGE_PERM if self.action in {"partial_update", "close"} else VIEW_PERM
        return consultation_detail_list(principal=self.request.user, perm=perm).order_by(
            "-started_at", "-id"
        )

    def _answer(self, consultation: Consultation, code=status.HTTP_200_OK) -> Response:
        # Read again with everything the answer shows (the services return the locked row).
        fresh = consultation_detail_list(principal=self.request.user).get(pk=consultation.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    @extend_schema(
        request=ConsultationCreateSerializer,
        responses={201: ConsultationSerializer, 409: CONFLICT},
        description="Start a consultation: from the ticket you serve, or by phone, chat, video.",
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = ConsultationCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        consultation = consultation_start(
            actor=request.user,
            ticket=data.get("ticket"),
            channel=data["channel"],
            branch=data.get("branch"),
            customer=data.get("customer"),
            contact_name=data.get("contact_name", ""),
            contact_phone=data.get("contact_phone", ""),
            contact_email=data.get("contact_email", ""),
            question=data.get("question", ""),
        )
        return self._answer(consultation, status.HTTP_201_CREATED)

    @extend_schema(
        request=ConsultationUpdateSerializer,
        responses={200: ConsultationSerializer, 409: CONFLICT},
        description="Change the question, notes, topics, products or articles used.",
    )
    def partial_update(self, request, *args, **kwargs):
        consultation = self.get_object()
        serializer = ConsultationUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        consultation = consultation_update(
            actor=request.user,
            consultation=consultation,
            data=data,
            version=data.pop("version", None),
        )
        return self._answer(consultation)

    @extend_schema(
        request=ConsultationCloseSerializer,
        responses={200: ConsultationSerializer, 409: CONFLICT},
        description="Close with an outcome; processing, follow-up and complaint hand the "
        "customer on to that stage (`handoff_status`), advisor refers to another advisor.",
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        consultation = self.get_object()
        serializer = ConsultationCloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        consultation = consultation_close(
            actor=request.user,
            consultation=consultation,
            outcome=data["outcome"],
            outcome_note=data.get("outcome_note", ""),
            referred_to=data.get("referred_to"),
        )
        return self._answer(consultation)


router = DefaultRouter(trailing_slash=False)
router.include_root_view = False
router.register("consultations", ConsultationViewSet, basename="consultation")

urlpatterns = [
    path("", include("consultation.kb.api")),
    path("", include("consultation.assistant.api")),
    *router.urls,
]
