"""REST API for reception: service types, counters and tickets.

Every state change is a POST action that calls one service; status is never written through a
serializer. An invalid transition answers 409 with `{"detail", "status": <current state>}`.
Serving (counter actions and ticket transitions) is done by a member of staff signed in to a
counter, so API keys may issue and read tickets but not serve them.
"""

import django_filters
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
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
from bankservice.customers.models import Customer
from bankservice.customers.selectors import customer_list
from bankservice.customers.validators import normalize_phone

from .filters import TicketFilter
from .models import (
    Counter,
    CounterState,
    PriorityRule,
    ServiceType,
    Ticket,
    TicketStatus,
    VisitSource,
)
from .selectors import counter_list, service_type_list, ticket_list, ticket_position
from .services import (
    CONFIGURE_PERM,
    ISSUE_PERM,
    PRIORITY_RULE_FIELDS,
    SERVE_PERM,
    SERVICE_TYPE_FIELDS,
    counter_pause,
    counter_sign_in,
    counter_sign_out,
    priority_rule_for,
    priority_rule_update,
    service_type_create,
    service_type_update,
    ticket_call_next,
    ticket_complete,
    ticket_issue,
    ticket_no_show,
    ticket_park,
    ticket_recall,
    ticket_start,
    ticket_transfer,
    ticket_unpark,
)

SERVING_IS_FOR_STAFF = gettext_lazy(
    "Serving tickets needs a member of staff signed in to a counter."
)


# --- OpenAPI helpers --------------------------------------------------------------------------


class TransitionConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    status = serializers.CharField(
        required=False, help_text="The current state of the ticket or counter."
    )


TRANSITION_CONFLICT = OpenApiResponse(
    TransitionConflictSerializer,
    description="The current state does not allow this step; `status` says what it is.",
)


# --- Service types ----------------------------------------------------------------------------


class ServiceTypeSerializer(serializers.ModelSerializer):
    """A service customers queue for; services sharing a prefix share a number series."""

    branch = serializers.SlugRelatedField(slug_field="code", queryset=Branch.objects.all())
    name = serializers.CharField(read_only=True, help_text="The name in the request's language.")
    prefix = serializers.RegexField(
        r"^[A-Z]$", max_length=1, help_text="One capital letter: A, B, V …"
    )
    expected_service_minutes = serializers.IntegerField(
        min_value=1, max_value=32767, required=False, help_text="Expected service time (minutes)."
    )
    slot_minutes = serializers.IntegerField(
        min_value=5, max_value=240, required=False, help_text="Appointment slot length (minutes)."
    )
    slot_capacity = serializers.IntegerField(
        min_value=1, max_value=100, required=False, help_text="Appointments per slot."
    )

    class Meta:
        model = ServiceType
        fields = ["id", "branch", "name", *SERVICE_TYPE_FIELDS]
        read_only_fields = ["id"]
        # The service checks that the code is free at the branch (a field error, 400).
        validators = []

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:  # a service does not move to another branch
            fields["branch"].read_only = True
        return fields


class ServiceTypeFilter(django_filters.FilterSet):
    branch = django_filters.CharFilter(field_name="branch__code", label=gettext_lazy("Branch code"))

    class Meta:
        model = ServiceType
        fields = ["branch", "is_active", "category"]


@extend_schema_view(
    list=extend_schema(description="Services of the caller's branches."),
    create=extend_schema(description="Add a service (configuration: administrators)."),
    update=extend_schema(description="Change a service (configuration: administrators)."),
    partial_update=extend_schema(description="Change a service (configuration)."),
)
class ServiceTypeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Service types: read by staff and API clients with reception:read; written by staff who
    configure reception (API keys may not change configuration)."""

    queryset = ServiceType.objects.all()
    serializer_class = ServiceTypeSerializer
    filterset_class = ServiceTypeFilter
    permission_classes = [StaffOnlyActionPermissions]
    staff_actions = {"create", "update", "partial_update"}
    staff_only_message = gettext_lazy("Reception is configured by staff, not with an API key.")
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        perm = "reception.view_servicetype"
        if self.action in {"update", "partial_update"}:
            perm = CONFIGURE_PERM
        return service_type_list(principal=self.request.user, perm=perm).order_by(
            "branch__code", "sort_order", "code"
        )

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        branch = data.pop("branch")
        service_type = service_type_create(actor=request.user, branch=branch, data=data)
        return Response(self.get_serializer(service_type).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        service_type = self.get_object()
        serializer = self.get_serializer(
            service_type, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        service_type = service_type_update(
            actor=request.user, service_type=service_type, data=serializer.validated_data
        )
        return Response(self.get_serializer(service_type).data)


# --- Tickets ----------------------------------------------------------------------------------


def status_path(ticket: Ticket) -> str:
    """The customer's status page (no login: the token is the key)."""
    return f"/t/{ticket.public_token}/"


class TicketSerializer(serializers.ModelSerializer):
    """A ticket. The queue position costs queries, so lists and the issue answer leave it null
    (a kiosk issues many tickets a minute; the customer's status page shows the place): the
    other single-ticket answers (retrieve, the actions) give it while the ticket waits."""

    branch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    service_type = serializers.IntegerField(source="service_type_id", read_only=True)
    service = serializers.CharField(source="service_type.code", read_only=True)
    counter = serializers.IntegerField(
        source="counter.number",
        read_only=True,
        allow_null=True,
        help_text="Number of the counter the ticket is called to or served at.",
    )
    reserved_counter = serializers.IntegerField(
        source="reserved_counter.number",
        read_only=True,
        allow_null=True,
        help_text="Transferred or parked to this counter: only it calls the ticket.",
    )
    customer = serializers.IntegerField(
        source="visit.customer_id", read_only=True, allow_null=True, help_text="Customer id."
    )
    source = serializers.ChoiceField(
        source="visit.source", choices=VisitSource.choices, read_only=True
    )
    transferred_from = serializers.IntegerField(
        source="transferred_from_id", read_only=True, allow_null=True
    )
    status_url = serializers.SerializerMethodField(
        help_text="Path of the customer's status page (no login)."
    )
    position = serializers.SerializerMethodField(
        help_text="Place in the service's queue (1: next) while waiting; null in lists and when "
        "issuing (the status page at `status_url` shows it)."
    )
    estimated_wait_seconds = serializers.SerializerMethodField(
        help_text="Expected wait from now while waiting; null in lists and when issuing."
    )

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "status",
            "branch",
            "service_type",
            "service",
            "counter",
            "reserved_counter",
            "customer",
            "source",
            "business_date",
            "arrived_at",
            "issued_at",
            "called_at",
            "serving_started_at",
            "finished_at",
            "recall_count",
            "outcome",
            "priority_reasons",
            "is_appointment",
            "transferred_from",
            "status_url",
            "position",
            "estimated_wait_seconds",
        ]
        read_only_fields = fields

    def _place(self, ticket: Ticket):
        # Computed once per ticket for both fields; lists pass queue_position=False.
        if not self.context.get("queue_position", True):
            return None
        places = self.__dict__.setdefault("_places", {})
        if ticket.pk not in places:
            places[ticket.pk] = ticket_position(ticket)
        return places[ticket.pk]

    def get_status_url(self, ticket: Ticket) -> str:
        return status_path(ticket)

    def get_position(self, ticket: Ticket) -> int | None:
        place = self._place(ticket)
        return place.ahead + 1 if place else None

    def get_estimated_wait_seconds(self, ticket: Ticket) -> int | None:
        place = self._place(ticket)
        return round(place.estimated_wait.total_seconds()) if place else None


# A ModelSerializer builds its fields per instance, which costs more than the rest of an answer
# (~4 ms here against 0.3 ms to represent a ticket). An answer without the queue position needs
# nothing per request, so this one instance serves them all: to_representation() keeps no state
# between calls, and its context never changes.
_TICKET_WITHOUT_POSITION = TicketSerializer(context={"queue_position": False})


def ticket_answer(ticket: Ticket, *, position: bool = True) -> dict:
    """A ticket as the API shows it; with its queue position (queries) only when asked for and
    the ticket waits."""
    if position and ticket.status == TicketStatus.WAITING:
        return TicketSerializer(ticket).data
    return _TICKET_WITHOUT_POSITION.to_representation(ticket)


def _principal(serializer) -> object | None:
    request = serializer.context.get("request")
    return request.user if request is not None else None


class TicketIssueSerializer(serializers.Serializer):
    service_type = serializers.PrimaryKeyRelatedField(
        queryset=ServiceType.objects.none(),
        error_messages={"does_not_exist": gettext_lazy("No such service at your branches.")},
        help_text="Id of a service of a branch where the caller issues tickets.",
    )
    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.none(),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": gettext_lazy("No such customer in your branches.")},
        help_text="Id of the customer, when identified (anonymous walk-ins leave it out).",
    )
    source = serializers.ChoiceField(
        choices=VisitSource.choices,
        required=False,
        help_text='Where the ticket was taken; default "api" for API keys, "greeter" for staff.',
    )
    sms_when_next = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Text the customer when nearly next: an identified customer at their own "
        "number (with their SMS consent), an anonymous walk-in at `contact_phone`.",
    )
    contact_phone = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=32,
        help_text="Mobile number of an anonymous walk-in for the SMS (consent for this ticket).",
    )

    def validate_contact_phone(self, value: str) -> str:
        return normalize_phone(value) if value.strip() else ""

    def validate(self, attrs):
        if attrs.get("customer") is not None or not attrs["sms_when_next"]:
            attrs["contact_phone"] = ""  # an identified customer is texted at their own number
        elif not attrs["contact_phone"]:
            raise serializers.ValidationError(
                {"contact_phone": _("Give a phone number for the SMS.")}
            )
        return attrs

    def get_fields(self):
        fields = super().get_fields()
        principal = _principal(self)
        if principal is not None:
            # The branch and its calendar: the service checks opening hours next.
            fields["service_type"].queryset = ServiceType.objects.visible_to(
                principal, ISSUE_PERM
            ).select_related("branch__calendar")
            fields["customer"].queryset = customer_list(principal=principal, merged=True)
        return fields


class TicketCompleteSerializer(serializers.Serializer):
    outcome = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="What was done: service marks, references.",
    )


class TicketTransferSerializer(serializers.Serializer):
    service_type = serializers.PrimaryKeyRelatedField(
        queryset=ServiceType.objects.none(),
        error_messages={"does_not_exist": gettext_lazy("No such service at your branches.")},
        help_text="Id of an active service of the ticket's branch.",
    )
    counter = serializers.PrimaryKeyRelatedField(
        queryset=Counter.objects.none(),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": gettext_lazy("No such counter at your branches.")},
        help_text="Id of one counter that serves the service: only it will call the ticket.",
    )

    def get_fields(self):
        fields = super().get_fields()
        principal = _principal(self)
        if principal is not None:
            fields["service_type"].queryset = ServiceType.objects.visible_to(principal, SERVE_PERM)
            fields["counter"].queryset = Counter.objects.visible_to(principal, SERVE_PERM)
        return fields


def _transition(description: str, request=None, responses=None):
    return extend_schema(
        request=request,
        responses=responses or {200: TicketSerializer, 409: TRANSITION_CONFLICT},
        description=description,
    )


class TicketViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Queue tickets of the caller's branches. Create issues a ticket; each step after that is
    a POST action (staff at a counter only). Most steps pass the id to their service, whose lock
    is then the one read of the ticket (scoped to the caller's branches: 404 otherwise)."""

    queryset = Ticket.objects.all()
    pagination_class = CursorPagination
    serializer_class = TicketSerializer
    filterset_class = TicketFilter
    permission_classes = [StaffOnlyActionPermissions]
    staff_only_message = SERVING_IS_FOR_STAFF
    staff_actions = {"recall", "start", "complete", "no_show", "transfer", "park", "unpark"}
    action_perms = dict.fromkeys(staff_actions, SERVE_PERM)
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        perm = SERVE_PERM if self.action in self.staff_actions else "reception.view_ticket"
        return (
            ticket_list(principal=self.request.user, perm=perm)
            .select_related("reserved_counter")
            .order_by("-business_date", "priority_at", "id")
        )

    def get_serializer_class(self):
        return TicketIssueSerializer if self.action == "create" else TicketSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "queue_position": self.action != "list"}

    def _answer(self, ticket: Ticket, code=status.HTTP_200_OK, *, position=True) -> Response:
        return Response(ticket_answer(ticket, position=position), status=code)

    @extend_schema(
        request=TicketIssueSerializer,
        responses={
            201: TicketSerializer,
            409: OpenApiResponse(DetailSerializer, description="The branch is closed now."),
        },
        description="Issue a ticket: the customer joins the service's queue.",
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        default_source = (
            VisitSource.API
            if getattr(request.user, "is_api_client", False)
            else VisitSource.GREETER
        )
        ticket = ticket_issue(
            actor=request.user,
            service_type=data["service_type"],
            customer=data.get("customer"),
            source=data.get("source") or default_source,
            sms_when_next=data["sms_when_next"],
            contact_phone=data["contact_phone"],
        )
        return self._answer(ticket, status.HTTP_201_CREATED, position=False)

    @_transition("Call the ticket again (the customer has not come yet).")
    @idempotent
    @action(detail=True, methods=["post"])
    def recall(self, request, pk=None):
        return self._answer(ticket_recall(actor=request.user, ticket=int(pk)))

    @_transition("The customer is at the counter: service begins.")
    @idempotent
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._answer(ticket_start(actor=request.user, ticket=int(pk)))

    @_transition("Service is done; `outcome` notes what was done.", TicketCompleteSerializer)
    @idempotent
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        serializer = TicketCompleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._answer(
            ticket_complete(
                actor=request.user, ticket=int(pk), outcome=serializer.validated_data["outcome"]
            )
        )

    @_transition("The called customer did not come.")
    @idempotent
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request, pk=None):
        return self._answer(ticket_no_show(actor=request.user, ticket=int(pk)))

    @_transition(
        "Send the visit on to another service (optionally one counter); the new ticket keeps the "
        "original arrival time. Answers the new ticket; this one becomes `transferred`.",
        TicketTransferSerializer,
        {201: TicketSerializer, 409: TRANSITION_CONFLICT},
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def transfer(self, request, pk=None):
        ticket = self.get_object()
        serializer = TicketTransferSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        new = ticket_transfer(
            actor=request.user,
            ticket=ticket,
            service_type=serializer.validated_data["service_type"],
            counter=serializer.validated_data.get("counter"),
        )
        return self._answer(new, status.HTTP_201_CREATED)

    @_transition("Set the visit aside (the customer fills in a form); the counter moves on.")
    @idempotent
    @action(detail=True, methods=["post"])
    def park(self, request, pk=None):
        return self._answer(ticket_park(actor=request.user, ticket=int(pk)))

    @_transition("The parked customer is ready: back in the queue for the counter that parked it.")
    @idempotent
    @action(detail=True, methods=["post"])
    def unpark(self, request, pk=None):
        return self._answer(ticket_unpark(actor=request.user, ticket=self.get_object()))


# --- Counters ---------------------------------------------------------------------------------


class CounterServiceSerializer(serializers.Serializer):
    service_type = serializers.IntegerField(source="service_type_id")
    code = serializers.CharField(source="service_type.code")
    preference = serializers.IntegerField(help_text="Lower is called first.")


class CounterSerializer(serializers.ModelSerializer):
    branch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    label = serializers.CharField(source="__str__", read_only=True)
    staff = serializers.IntegerField(
        source="staff_id", read_only=True, allow_null=True, help_text="Signed-in staff (user id)."
    )
    services = CounterServiceSerializer(source="service_links", many=True, read_only=True)

    class Meta:
        model = Counter
        fields = ["id", "branch", "number", "name", "label", "state", "staff", "services"]
        read_only_fields = fields


class CallNextSerializer(serializers.Serializer):
    ticket = TicketSerializer(allow_null=True, help_text="The called ticket; null if none.")
    detail = serializers.CharField()


class CounterFilter(django_filters.FilterSet):
    branch = django_filters.CharFilter(field_name="branch__code", label=gettext_lazy("Branch code"))
    state = django_filters.ChoiceFilter(choices=CounterState.choices)

    class Meta:
        model = Counter
        fields = ["branch", "state"]


def _counter_step(description: str):
    return extend_schema(
        request=None,
        responses={200: CounterSerializer, 409: TRANSITION_CONFLICT},
        description=description,
    )


class CounterViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Counters (service points) of the caller's branches; staff sign in to one and call
    tickets to it."""

    queryset = Counter.objects.all()
    serializer_class = CounterSerializer
    filterset_class = CounterFilter
    permission_classes = [StaffOnlyActionPermissions]
    staff_only_message = SERVING_IS_FOR_STAFF
    staff_actions = {"sign_in", "sign_out", "pause", "resume", "call_next"}
    action_perms = dict.fromkeys(staff_actions, SERVE_PERM)
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        perm = SERVE_PERM if self.action in self.staff_actions else "reception.view_counter"
        return counter_list(principal=self.request.user, perm=perm).order_by(
            "branch__code", "number"
        )

    def _answer(self, counter: Counter) -> Response:
        # Read again with the services the answer lists (the service returns the locked row).
        return Response(self.get_serializer(self.get_queryset().get(pk=counter.pk)).data)

    @_counter_step("Sign in to the counter and open it (leaving any other counter).")
    @idempotent
    @action(detail=True, methods=["post"], url_path="sign-in")
    def sign_in(self, request, pk=None):
        return self._answer(counter_sign_in(actor=request.user, counter=self.get_object()))

    @_counter_step("Close the counter; it must not be busy with a ticket.")
    @idempotent
    @action(detail=True, methods=["post"], url_path="sign-out")
    def sign_out(self, request, pk=None):
        return self._answer(counter_sign_out(actor=request.user, counter=self.get_object()))

    @_counter_step("Pause the counter: it calls nobody until resumed.")
    @idempotent
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._answer(counter_pause(actor=request.user, counter=self.get_object()))

    @_counter_step("Resume a paused counter.")
    @idempotent
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._answer(
            counter_pause(actor=request.user, counter=self.get_object(), paused=False)
        )

    @extend_schema(
        request=None,
        responses={200: CallNextSerializer, 409: TRANSITION_CONFLICT},
        description=(
            "Call the best waiting ticket to this counter. When nobody is waiting the answer is "
            '200 with `"ticket": null`.'
        ),
    )
    @idempotent
    @action(detail=True, methods=["post"], url_path="call-next")
    def call_next(self, request, pk=None):
        # By id: the service's lock is the one read of the counter, scoped to the caller.
        ticket = ticket_call_next(actor=request.user, counter=int(pk))
        if ticket is None:
            return Response({"ticket": None, "detail": _("Nobody is waiting.")})
        return Response(
            {
                "ticket": ticket_answer(ticket),
                "detail": _("%(number)s called to %(counter)s.")
                % {"number": ticket.number, "counter": ticket.counter},
            }
        )


# --- Priority rules ---------------------------------------------------------------------------


class PriorityRuleSerializer(serializers.ModelSerializer):
    """How a branch orders its queue: each weight moves a ticket ahead by that many minutes;
    after max_wait_minutes any ticket goes first; ratio_priority:ratio_standard (both 0: off)
    alternates priority and standard tickets at each counter."""

    branch = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = PriorityRule
        fields = ["branch", *PRIORITY_RULE_FIELDS]


@extend_schema_view(
    list=extend_schema(
        description="The priority rules of the caller's branches (defaults where "
        "a branch has not set its own)."
    ),
    retrieve=extend_schema(description="A branch's priority rule, by branch code."),
    update=extend_schema(description="Set a branch's priority rule (configuration)."),
    partial_update=extend_schema(description="Change some of a branch's priority weights."),
)
class PriorityRuleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """One rule per branch, addressed by the branch code; read by reception:read, written by
    staff who configure reception (API keys may not change configuration)."""

    queryset = PriorityRule.objects.all()
    serializer_class = PriorityRuleSerializer
    permission_classes = [StaffOnlyActionPermissions]
    staff_actions = {"update", "partial_update"}
    staff_only_message = gettext_lazy("Reception is configured by staff, not with an API key.")
    lookup_field = "branch"
    lookup_value_regex = r"[\w-]+"
    pagination_class = None

    def _branches(self):
        perm = "reception.view_priorityrule"
        if self.action in self.staff_actions:
            perm = "reception.change_priorityrule"
        return Branch.objects.visible_to(self.request.user, perm).order_by("code")

    def get_object(self):
        branch = get_object_or_404(self._branches(), code=self.kwargs["branch"])
        return priority_rule_for(branch)

    def list(self, request, *args, **kwargs):
        branches = list(self._branches())
        rules = {r.branch_id: r for r in PriorityRule.objects.filter(branch__in=branches)}
        answer = [rules.get(b.pk) or PriorityRule(branch=b) for b in branches]
        return Response(self.get_serializer(answer, many=True).data)

    def update(self, request, *args, **kwargs):
        rule = self.get_object()
        serializer = self.get_serializer(
            rule, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        rule = priority_rule_update(
            actor=request.user, branch=rule.branch, data=serializer.validated_data
        )
        return Response(self.get_serializer(rule).data)


# Included under /api/v1/ by bankservice/urls.py (by name: the kernel never imports a stage app).
router = DefaultRouter(trailing_slash=False)
router.include_root_view = False
router.register("service-types", ServiceTypeViewSet, basename="service-type")
router.register("counters", CounterViewSet, basename="counter")
router.register("tickets", TicketViewSet, basename="ticket")
router.register("priority-rules", PriorityRuleViewSet, basename="priority-rule")
# Imported here: appointment_api uses the serializers above.
from .appointment_api import (  # noqa: E402
    AdvisorAvailabilityViewSet,
    AdvisorTimeOffViewSet,
    AppointmentViewSet,
)

router.register("appointments", AppointmentViewSet, basename="appointment")
router.register("advisor-availability", AdvisorAvailabilityViewSet, basename="advisor-availability")
router.register("advisor-time-off", AdvisorTimeOffViewSet, basename="advisor-time-off")
urlpatterns = router.urls
