"""REST API for appointments: list and read (scoped), free slots, book, and the steps
reschedule, cancel and check-in, each a POST calling one service.

An invalid step answers 409 with `{"detail", "status": <current state>}` like tickets; a slot
just taken answers 409 `{"detail"}`. Staff and API clients with reception:write book and change
appointments at their branches; check-in also issues a ticket, so it needs reception.add_ticket
too (checked by the ticket service).
"""

import datetime as dt

import django_filters
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from bankservice.branches.models import Branch
from bankservice.branches.scope import can_act_at
from bankservice.core.api_errors import DetailSerializer
from bankservice.core.api_pagination import CursorPagination
from bankservice.core.api_permissions import ScopedModelPermissions
from bankservice.core.idempotency import idempotent
from bankservice.core.masking import mask_email, mask_phone
from bankservice.customers.models import Customer
from bankservice.customers.selectors import customer_list

from . import advisors
from .api import TRANSITION_CONFLICT, TicketSerializer
from .appointments import (
    BOOK_PERM,
    CHANGE_PERM,
    VIEW_PERM,
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_list,
    appointment_reschedule,
    audit_contact_shown,
    available_slots,
    manage_path,
)
from .models import (
    AdvisorAvailability,
    AdvisorTimeOff,
    Appointment,
    AppointmentChannel,
    AppointmentStatus,
    ServiceType,
)

REVEAL_PERM = "customers.reveal_pii"
User = get_user_model()


class AdvisorRefSerializer(serializers.Serializer):
    """An advisor as customers see them: id and display name (first name, family initial)."""

    id = serializers.IntegerField()
    name = serializers.CharField()


class AppointmentSerializer(serializers.ModelSerializer):
    """An appointment. The contact's phone and e-mail are masked unless the caller may see
    personal data at the branch (customers.reveal_pii)."""

    branch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    service_type = serializers.IntegerField(source="service_type_id", read_only=True)
    service = serializers.CharField(source="service_type.code", read_only=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True, allow_null=True)
    contact_phone = serializers.SerializerMethodField()
    contact_email = serializers.SerializerMethodField()
    ticket = serializers.IntegerField(source="ticket_id", read_only=True, allow_null=True)
    ticket_number = serializers.CharField(
        source="ticket.number", read_only=True, allow_null=True, default=None
    )
    manage_url = serializers.SerializerMethodField(
        help_text="Path of the customer's page for the appointment (no login)."
    )
    advisor = serializers.SerializerMethodField(
        help_text="The advisor (services booked with an advisor), else null."
    )

    class Meta:
        model = Appointment
        fields = [
            "id",
            "reference",
            "status",
            "branch",
            "service_type",
            "service",
            "starts_at",
            "ends_at",
            "customer",
            "contact_name",
            "contact_phone",
            "contact_email",
            "language",
            "channel",
            "notes",
            "reschedule_count",
            "created_at",
            "reminded_at",
            "cancelled_at",
            "checked_in_at",
            "ticket",
            "ticket_number",
            "manage_url",
            "advisor",
            "advisor_chosen",
        ]
        read_only_fields = fields

    def _reveal(self, appointment: Appointment) -> bool:
        """Whether the caller may see the contact in full; if so, the look is audited."""
        request = self.context.get("request")
        if request is None or not can_act_at(request.user, REVEAL_PERM, appointment.branch_id):
            return False
        audit_contact_shown(request, appointment)
        return True

    def get_contact_phone(self, appointment: Appointment) -> str:
        value = appointment.contact_phone
        return value if self._reveal(appointment) else mask_phone(value)

    def get_contact_email(self, appointment: Appointment) -> str:
        value = appointment.contact_email
        return value if self._reveal(appointment) else mask_email(value)

    def get_manage_url(self, appointment: Appointment) -> str:
        return manage_path(appointment)

    @extend_schema_field(AdvisorRefSerializer(allow_null=True))
    def get_advisor(self, appointment: Appointment) -> dict | None:
        if appointment.advisor_id is None:
            return None
        return {"id": appointment.advisor_id, "name": advisors.display_name(appointment.advisor)}


def _services(principal, perm: str):
    return ServiceType.objects.visible_to(principal, perm).select_related("branch__calendar")


class AppointmentBookSerializer(serializers.Serializer):
    service_type = serializers.PrimaryKeyRelatedField(
        queryset=ServiceType.objects.none(),
        error_messages={"does_not_exist": gettext_lazy("No such service at your branches.")},
        help_text="Id of a bookable service of a branch where the caller books.",
    )
    starts_at = serializers.DateTimeField(help_text="Start of a free slot (GET slots).")
    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.none(),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": gettext_lazy("No such customer in your branches.")},
        help_text="Id of the customer; leave out to book for a contact (name and phone/e-mail).",
    )
    contact_name = serializers.CharField(
        allow_blank=True, max_length=80, required=False, default=""
    )
    contact_phone = serializers.CharField(
        allow_blank=True, max_length=32, required=False, default=""
    )
    contact_email = serializers.CharField(
        allow_blank=True, max_length=254, required=False, default=""
    )
    consent_sms = serializers.BooleanField(required=False, default=False)
    consent_email = serializers.BooleanField(required=False, default=False)
    notes = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)
    language = serializers.ChoiceField(
        choices=["en", "zh-hans"], required=False, default="", allow_blank=True
    )
    advisor = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
        error_messages={"does_not_exist": gettext_lazy("No such advisor.")},
        help_text="Services booked with an advisor: the advisor's id (GET slots lists the free "
        "ones); leave out for any free advisor.",
    )

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["service_type"].queryset = _services(request.user, BOOK_PERM)
            fields["customer"].queryset = customer_list(principal=request.user, merged=True)
        return fields


class RescheduleSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(help_text="Start of another free slot of the service.")


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class SlotQuerySerializer(serializers.Serializer):
    service_type = serializers.PrimaryKeyRelatedField(
        queryset=ServiceType.objects.none(),
        error_messages={"does_not_exist": gettext_lazy("No such service at your branches.")},
    )
    date = serializers.DateField()
    advisor = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
        error_messages={"does_not_exist": gettext_lazy("No such advisor.")},
    )

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["service_type"].queryset = _services(request.user, VIEW_PERM)
        return fields


class SlotSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    capacity = serializers.IntegerField()
    remaining = serializers.IntegerField(help_text="Places left; 0: full.")
    advisors = AdvisorRefSerializer(
        many=True,
        help_text="Services with an advisor: the free advisors, in the order "
        "'any advisor' takes them.",
    )


class AppointmentFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=AppointmentStatus.choices)
    service_type = django_filters.NumberFilter(
        field_name="service_type", label=gettext_lazy("Service type id")
    )
    branch = django_filters.CharFilter(field_name="branch__code", label=gettext_lazy("Branch code"))
    date = django_filters.DateFilter(
        field_name="starts_at", lookup_expr="date", label=gettext_lazy("Day (server time zone)")
    )
    customer = django_filters.NumberFilter(field_name="customer", label=gettext_lazy("Customer"))
    advisor = django_filters.NumberFilter(field_name="advisor", label=gettext_lazy("Advisor"))

    class Meta:
        model = Appointment
        fields = ["status", "service_type", "branch", "date", "customer", "advisor"]


def _step(description: str, request=None):
    return extend_schema(
        request=request,
        responses={
            200: AppointmentSerializer,
            400: OpenApiResponse(description="Bad input: field errors."),
            409: TRANSITION_CONFLICT,
        },
        description=description,
    )


class AppointmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Appointments of the caller's branches. Create books one; each step after that is a POST
    action."""

    queryset = Appointment.objects.all()
    pagination_class = CursorPagination
    serializer_class = AppointmentSerializer
    filterset_class = AppointmentFilter
    permission_classes = [ScopedModelPermissions]
    action_perms = {
        "reschedule": CHANGE_PERM,
        "cancel": CHANGE_PERM,
        "check_in": CHANGE_PERM,
        "slots": VIEW_PERM,
    }
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        perm = CHANGE_PERM if self.action in {"reschedule", "cancel", "check_in"} else VIEW_PERM
        return appointment_list(principal=self.request.user, perm=perm).order_by("starts_at", "id")

    def get_serializer_class(self):
        return AppointmentBookSerializer if self.action == "create" else AppointmentSerializer

    def _answer(self, appointment: Appointment, code=status.HTTP_200_OK) -> Response:
        appointment = self.get_queryset().get(pk=appointment.pk)
        return Response(
            AppointmentSerializer(appointment, context=self.get_serializer_context()).data,
            status=code,
        )

    @extend_schema(
        request=AppointmentBookSerializer,
        responses={
            201: AppointmentSerializer,
            400: OpenApiResponse(description="Not a slot, outside the booking window, bad data."),
            409: OpenApiResponse(DetailSerializer, description="The slot is taken, or overlaps."),
        },
        description="Book a free slot for a customer (id) or a contact (name, phone/e-mail).",
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        api_client = getattr(request.user, "is_api_client", False)
        appointment = appointment_book(
            actor=request.user,
            channel=AppointmentChannel.API if api_client else AppointmentChannel.STAFF,
            **data,
        )
        return self._answer(appointment, status.HTTP_201_CREATED)

    @_step("Move the appointment to another free slot of its service.", RescheduleSerializer)
    @idempotent
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        appointment = self.get_object()
        serializer = RescheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        appointment_reschedule(
            actor=request.user,
            appointment=appointment,
            starts_at=serializer.validated_data["starts_at"],
        )
        return self._answer(appointment)

    @_step("Cancel the appointment; the place is free again.", CancelSerializer)
    @idempotent
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        appointment = self.get_object()
        serializer = CancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        appointment_cancel(
            actor=request.user, appointment=appointment, reason=serializer.validated_data["reason"]
        )
        return self._answer(appointment)

    @extend_schema(
        request=None,
        responses={201: TicketSerializer, 409: TRANSITION_CONFLICT},
        description=(
            "The customer has arrived: issues the queue ticket (with the appointment's priority "
            "while within the check-in window; an ordinary walk-in ticket when later). Too "
            "early, already checked in, cancelled or no-show: 409."
        ),
    )
    @idempotent
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk=None):
        ticket = appointment_check_in(actor=request.user, appointment=self.get_object())
        return Response(TicketSerializer(ticket).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter("service_type", int, required=True, description="Service id."),
            OpenApiParameter("date", dt.date, required=True, description="Local day."),
            OpenApiParameter(
                "advisor", int, required=False, description="Only this advisor's free slots."
            ),
        ],
        responses={200: SlotSerializer(many=True)},
        description="Slots of a bookable service on a day, with the places left (booking window "
        "only: not too soon, not too far ahead).",
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def slots(self, request):
        query = SlotQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        service_type, advisor = (
            query.validated_data["service_type"],
            query.validated_data["advisor"],
        )
        advisors.check_advisor(service_type, advisor)
        slots = available_slots(
            service_type=service_type,
            day=query.validated_data["date"],
            now=timezone.now(),
            advisor=advisor,
        )
        return Response(
            SlotSerializer(
                [
                    {
                        "starts_at": s.starts_at,
                        "ends_at": s.ends_at,
                        "capacity": s.capacity,
                        "remaining": s.remaining,
                        "advisors": [{"id": a.id, "name": a.name} for a in s.advisors],
                    }
                    for s in slots
                ],
                many=True,
            ).data
        )


# --- Advisor calendars --------------------------------------------------------------------------


class AvailabilitySerializer(serializers.ModelSerializer):
    """A weekly period when an advisor takes appointments at a branch, for some services."""

    advisor = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        error_messages={"does_not_exist": gettext_lazy("No such advisor.")},
    )
    branch = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Branch.objects.none(),
        error_messages={"does_not_exist": gettext_lazy("No such branch among yours.")},
    )
    service_types = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=ServiceType.objects.none(),
        help_text="Ids of the branch's services booked with an advisor.",
    )

    class Meta:
        model = AdvisorAvailability
        fields = [
            "id",
            "advisor",
            "branch",
            "service_types",
            "weekday",
            "starts",
            "ends",
            "valid_from",
            "valid_until",
        ]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["branch"].queryset = Branch.objects.visible_to(request.user, advisors.ADD_PERM)
            fields["service_types"].child_relation.queryset = _services(
                request.user, advisors.ADD_PERM
            )
        return fields


class AvailabilityFilter(django_filters.FilterSet):
    advisor = django_filters.NumberFilter(field_name="advisor", label=gettext_lazy("Advisor"))
    branch = django_filters.CharFilter(field_name="branch__code", label=gettext_lazy("Branch code"))

    class Meta:
        model = AdvisorAvailability
        fields = ["advisor", "branch"]


class AdvisorAvailabilityViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Advisors' weekly availability at the caller's branches; branch managers add and remove
    periods (a change is a new period, so there is no update)."""

    queryset = AdvisorAvailability.objects.all()
    serializer_class = AvailabilitySerializer
    filterset_class = AvailabilityFilter
    permission_classes = [ScopedModelPermissions]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        perm = advisors.DELETE_PERM if self.action == "destroy" else advisors.VIEW_PERM
        return (
            AdvisorAvailability.objects.visible_to(self.request.user, perm)
            .prefetch_related("service_types")
            .select_related("branch")
            .order_by("advisor_id", "weekday", "starts", "id")
        )

    @extend_schema(
        responses={
            201: AvailabilitySerializer,
            400: OpenApiResponse(description="Bad times, services or advisor; overlaps."),
        }
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = advisors.availability_add(actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        advisors.availability_delete(actor=self.request.user, availability=instance)


class TimeOffSerializer(serializers.ModelSerializer):
    """An advisor away: no appointments then, at any branch."""

    advisor = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        error_messages={"does_not_exist": gettext_lazy("No such advisor.")},
    )

    class Meta:
        model = AdvisorTimeOff
        fields = ["id", "advisor", "starts_at", "ends_at", "reason"]


class TimeOffCreatedSerializer(TimeOffSerializer):
    clashing_appointments = serializers.ListField(
        child=serializers.IntegerField(),
        read_only=True,
        help_text="Ids of booked appointments in that time: move or cancel them.",
    )

    class Meta(TimeOffSerializer.Meta):
        fields = [*TimeOffSerializer.Meta.fields, "clashing_appointments"]


class AdvisorTimeOffViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Advisors' time off: the caller's own, and that of the advisors at their branches."""

    queryset = AdvisorTimeOff.objects.all()
    serializer_class = TimeOffSerializer
    permission_classes = [ScopedModelPermissions]
    filterset_fields = ["advisor"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        user = self.request.user
        perm = "reception.view_advisortimeoff"
        visible = AdvisorTimeOff.objects.filter(
            advisor__in=advisors.advisors_visible_to(user, perm)
        )
        if not getattr(user, "is_api_client", False):
            visible = visible | AdvisorTimeOff.objects.filter(advisor=user)
        return visible.order_by("starts_at", "id")

    @extend_schema(
        responses={
            201: TimeOffCreatedSerializer,
            400: OpenApiResponse(description="Bad times."),
            403: OpenApiResponse(description="Not your own time off and not a manager there."),
        }
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not advisors.may_see_calendar(request.user, data["advisor"]):
            raise serializers.ValidationError({"advisor": [gettext_lazy("No such advisor.")]})
        time_off, clashes = advisors.time_off_add(actor=request.user, **data)
        time_off.clashing_appointments = [a.pk for a in clashes]
        return Response(TimeOffCreatedSerializer(time_off).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        advisors.time_off_delete(actor=self.request.user, time_off=instance)
