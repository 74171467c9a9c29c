"""REST API of complaints, mounted under /api/v1/.

- `complaints`: list (filters), retrieve (with its clocks, extensions and a summary of its
  letters), create; every step of the lifecycle is a POST action calling its service
  (complaints/services.py): assign, acknowledge, investigate, wait, resume, propose, accept,
  decide, withdraw, reopen, merge, review, root-cause and extensions (a request).
- `complaint-extensions`: read; POST decide (approve or refuse a waiting extension).
- `letters` (read): the letters sent, per complaint (`?complaint=`), each with its text.
- `corrective-actions`: list, create, POST complete and cancel (complaints/corrective.py).
- `rule-packs` (with their clocks), `complaint-categories` and `root-causes`: read.

Scopes: `complaints:read` reads, `complaints:write` creates complaints (an intake system such as
online banking). Handling a complaint is done by people (recusal, four eyes on extensions), so
every step after intake is for members of staff, by their permissions at the complaint's branch.
The complainant's phone and e-mail are masked unless the caller may see personal data at the
complaint's branch. Create and every POST action honour `Idempotency-Key`.
"""

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from bankservice.branches.models import Branch
from bankservice.core.api_errors import DetailSerializer
from bankservice.core.api_filters import IsoDateTimeFilter
from bankservice.core.api_pagination import CursorPagination
from bankservice.core.api_permissions import StaffOnlyActionPermissions, required_perm
from bankservice.core.idempotency import idempotent
from bankservice.customers.models import Product
from bankservice.customers.selectors import customer_list
from bankservice.customers.services import contact_shown

from . import corrective, services
from .models import (
    ActionStatus,
    Category,
    Channel,
    Complaint,
    ComplaintExtension,
    ComplaintNote,
    ComplaintStatus,
    CorrectiveAction,
    Letter,
    PackClock,
    RootCause,
    RulePack,
)
from .selectors import (
    VIEW_PERM,
    action_list,
    complaint_clocks,
    complaint_list,
    extension_list,
    letter_list,
    overdue,
)

ADD_PERM = "complaints.add_complaint"
HANDLE_PERM = "complaints.handle_complaint"
ASSIGN_PERM = "complaints.assign_complaint"
APPROVE_PERM = "complaints.approve_extension"
BY_STAFF = gettext_lazy(
    "Complaints are handled by members of staff, not with an API key: only reading and intake "
    "are open to API keys."
)
User = get_user_model()


# --- Configuration (read) ---------------------------------------------------------------------


class PackClockSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text="In the caller's language.")
    extends = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = PackClock
        fields = [
            "code",
            "name",
            "nature",
            "starts_on",
            "duration",
            "unit",
            "counting",
            "non_working_end",
            "met_by",
            "is_window",
            "pausable",
            "warn_fraction",
            "applies_to",
            "extends",
            "requires_approval",
            "notify_complainant",
            "citation",
        ]
        read_only_fields = fields


class RulePackSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text="In the caller's language.")
    calendar = serializers.SlugRelatedField(slug_field="code", read_only=True)
    clocks = PackClockSerializer(many=True, read_only=True)

    class Meta:
        model = RulePack
        fields = [
            "id",
            "code",
            "name",
            "name_zh",
            "name_en",
            "jurisdiction",
            "calendar",
            "is_active",
            "recuse_role_chain",
            "clocks",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(description="The rule packs, each with its clocks."),
    retrieve=extend_schema(description="One rule pack by its code, with its clocks."),
)
class RulePackViewSet(viewsets.ReadOnlyModelViewSet):
    """The regulators' complaint deadlines as data (read by whoever reads complaints)."""

    queryset = RulePack.objects.all()
    serializer_class = RulePackSerializer
    action_perms = {"list": VIEW_PERM, "retrieve": VIEW_PERM}
    lookup_field = "code"
    lookup_value_regex = r"[\w-]+"

    def get_queryset(self):
        clocks = PackClock.objects.select_related("extends").order_by("id")
        return (
            RulePack.objects.select_related("calendar")
            .prefetch_related(Prefetch("clocks", queryset=clocks))
            .order_by("code")
        )


class CategorySerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text="In the caller's language.")
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Category
        fields = ["id", "code", "parent", "name", "name_zh", "name_en", "regulator_code"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(description="Active categories and sub-categories (`parent` set)."),
    retrieve=extend_schema(description="One category by its code."),
)
class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Category.objects.all()
    serializer_class = CategorySerializer
    lookup_field = "code"
    lookup_value_regex = r"[\w-]+"
    pagination_class = None

    def get_queryset(self):
        return Category.objects.filter(is_active=True).select_related("parent").order_by("code")


class RootCauseSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text="In the caller's language.")

    class Meta:
        model = RootCause
        fields = ["id", "code", "name", "name_zh", "name_en"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(description="Active root causes."),
    retrieve=extend_schema(description="One root cause by its code."),
)
class RootCauseViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = RootCause.objects.all()
    serializer_class = RootCauseSerializer
    lookup_field = "code"
    lookup_value_regex = r"[\w-]+"
    pagination_class = None

    def get_queryset(self):
        return RootCause.objects.filter(is_active=True).order_by("code")


# --- Complaints -------------------------------------------------------------------------------


class ComplaintSerializer(serializers.ModelSerializer):
    """A complaint as lists show it (the description and the clocks: see the single one)."""

    status_label = serializers.CharField(source="get_status_display", read_only=True)
    branch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    subcategory = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    product = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    pack = serializers.SlugRelatedField(slug_field="code", read_only=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True, allow_null=True)
    complainant = serializers.SerializerMethodField(
        help_text="The customer's name, or the contact's."
    )
    contact_phone = serializers.SerializerMethodField(
        help_text="Masked unless you may see personal data at the branch."
    )
    contact_email = serializers.SerializerMethodField(
        help_text="Masked unless you may see personal data at the branch."
    )
    assigned_to = serializers.IntegerField(
        source="assigned_to_id", read_only=True, allow_null=True, help_text="User id."
    )

    class Meta:
        model = Complaint
        fields = [
            "id",
            "reference",
            "status",
            "status_label",
            "branch",
            "pack",
            "channel",
            "category",
            "subcategory",
            "product",
            "customer",
            "complainant",
            "contact_phone",
            "contact_email",
            "received_at",
            "assigned_to",
            "is_repeat",
            "repeat_of",
            "escalation_level",
            "decided_at",
            "ended_at",
        ]
        read_only_fields = fields

    def get_complainant(self, complaint: Complaint) -> str:
        return complaint.customer.full_name if complaint.customer_id else complaint.contact_name

    def _who(self, complaint: Complaint) -> dict:
        # Once per complaint for both fields: one audit event when they are shown in full.
        shown = self.__dict__.setdefault("_shown", {})
        if complaint.pk not in shown:
            shown[complaint.pk] = contact_shown(self.context.get("request"), complaint)
        return shown[complaint.pk]

    def get_contact_phone(self, complaint: Complaint) -> str:
        return self._who(complaint)["phone"]

    def get_contact_email(self, complaint: Complaint) -> str:
        return self._who(complaint)["email"]


class ClockSerializer(serializers.Serializer):
    """One of the complaint's clocks: the kernel deadline and the pack clock it runs."""

    id = serializers.IntegerField()
    code = serializers.CharField(help_text="The pack clock's code.")
    name = serializers.CharField()
    nature = serializers.CharField(help_text="regulatory or internal.")
    is_window = serializers.BooleanField(help_text="A window passes; it is never late.")
    state = serializers.CharField(help_text="open, met, breached or cancelled.")
    started_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    warn_at = serializers.DateTimeField(allow_null=True)
    paused_at = serializers.DateTimeField(allow_null=True)
    met_at = serializers.DateTimeField(allow_null=True)
    breached_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    extended_count = serializers.IntegerField()


class ExtensionSerializer(serializers.ModelSerializer):
    complaint = serializers.IntegerField(source="complaint_id", read_only=True)
    clock = serializers.SlugRelatedField(slug_field="code", read_only=True)
    extends = serializers.CharField(source="clock.extends.code", read_only=True)
    requested_by = serializers.IntegerField(source="requested_by_id", read_only=True)
    decided_by = serializers.IntegerField(source="decided_by_id", read_only=True, allow_null=True)

    class Meta:
        model = ComplaintExtension
        fields = [
            "id",
            "complaint",
            "clock",
            "extends",
            "status",
            "reason",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "old_due_at",
            "new_due_at",
        ]
        read_only_fields = fields


class LetterSummarySerializer(serializers.ModelSerializer):
    complaint = serializers.IntegerField(source="complaint_id", read_only=True)
    extension = serializers.IntegerField(source="extension_id", read_only=True, allow_null=True)

    class Meta:
        model = Letter
        fields = ["id", "complaint", "kind", "language", "channel", "subject", "extension"]
        fields += ["created_at"]
        read_only_fields = fields


class LetterSerializer(LetterSummarySerializer):
    class Meta(LetterSummarySerializer.Meta):
        fields = [*LetterSummarySerializer.Meta.fields, "body"]
        read_only_fields = fields


class ComplaintNoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = ComplaintNote
        fields = ["id", "kind", "text", "author", "created_at"]
        read_only_fields = fields


class ComplaintDetailSerializer(ComplaintSerializer):
    """One complaint with its handling, its clocks, extensions, letters (without text) and case
    notes."""

    staff_complained_about = serializers.IntegerField(
        source="staff_complained_about_id", read_only=True, allow_null=True
    )
    root_cause = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    clocks = serializers.SerializerMethodField()
    extensions = ExtensionSerializer(many=True, read_only=True)
    letters = LetterSummarySerializer(many=True, read_only=True)
    notes = ComplaintNoteSerializer(many=True, read_only=True)

    class Meta(ComplaintSerializer.Meta):
        fields = [
            *ComplaintSerializer.Meta.fields,
            "description",
            "desired_outcome",
            "amount",
            "currency",
            "is_payment_services",
            "staff_complained_about",
            "assigned_at",
            "acknowledged_at",
            "resolution_proposal",
            "decision_reasons",
            "redress_amount",
            "reopened_count",
            "escalated_at",
            "merged_into",
            "review_of",
            "root_cause",
            "root_cause_note",
            "clocks",
            "extensions",
            "letters",
            "notes",
        ]
        read_only_fields = fields

    @extend_schema_field(ClockSerializer(many=True))
    def get_clocks(self, complaint: Complaint) -> list:
        by_kind = {f"complaint.{clock.code}": clock for clock in complaint.pack.clocks.all()}
        rows = []
        for deadline in complaint_clocks(complaint):
            clock = by_kind.get(deadline.kind)
            rows.append(
                {
                    "id": deadline.pk,
                    "code": deadline.kind.removeprefix("complaint."),
                    "name": clock.name if clock else deadline.kind,
                    "nature": clock.nature if clock else "",
                    "is_window": clock.is_window if clock else False,
                    "state": deadline.state,
                    "started_at": deadline.started_at,
                    "due_at": deadline.due_at,
                    "warn_at": deadline.warn_at,
                    "paused_at": deadline.paused_at,
                    "met_at": deadline.met_at,
                    "breached_at": deadline.breached_at,
                    "cancelled_at": deadline.cancelled_at,
                    "extended_count": deadline.extended_count,
                }
            )
        return ClockSerializer(rows, many=True).data


def _principal(serializer):
    request = serializer.context.get("request")
    return request.user if request is not None else None


class ComplaintCreateSerializer(serializers.Serializer):
    """A complaint as received; the service checks the rest (contact details, categories)."""

    branch = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Branch.objects.none(),
        error_messages={"does_not_exist": gettext_lazy("You take no complaints at this branch.")},
        help_text="Code of the branch that received the complaint.",
    )
    channel = serializers.ChoiceField(choices=Channel.choices)
    category = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Category.objects.all(),
        error_messages={"does_not_exist": gettext_lazy("No such category.")},
    )
    subcategory = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Category.objects.all(),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": gettext_lazy("No such category.")},
    )
    description = serializers.CharField(max_length=5000)
    desired_outcome = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    customer = serializers.PrimaryKeyRelatedField(
        queryset=customer_list(principal=None),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": gettext_lazy("No such customer in your branches.")},
        help_text="Customer id; or give the contact's name and a phone or an e-mail.",
    )
    contact_name = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )
    contact_phone = serializers.CharField(
        max_length=30, required=False, allow_blank=True, default=""
    )
    contact_email = serializers.CharField(
        max_length=254, required=False, allow_blank=True, default=""
    )
    product = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Product.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": gettext_lazy("No such product.")},
    )
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True, default="")
    received_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When it was received; now if not given."
    )
    staff_complained_about = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": gettext_lazy("No such member of staff.")},
        help_text="User id of the member of staff the complaint is about.",
    )
    is_payment_services = serializers.BooleanField(required=False, default=False)
    language = serializers.ChoiceField(
        choices=[("zh-hans", "zh-hans"), ("en", "en")],
        required=False,
        allow_blank=True,
        default="",
        help_text="A contact's language for letters (a customer's letters follow the customer's).",
    )

    def get_fields(self):
        fields = super().get_fields()
        principal = _principal(self)
        if principal is not None:
            fields["customer"].queryset = customer_list(principal=principal)
            fields["branch"].queryset = Branch.objects.visible_to(principal, ADD_PERM)
        return fields


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RequiredNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, help_text="Required.")


class AssignSerializer(serializers.Serializer):
    officer = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        error_messages={"does_not_exist": gettext_lazy("No such member of staff.")},
        help_text="User id of an officer who may handle the complaint.",
    )


class LetterChoiceSerializer(serializers.Serializer):
    send_letter = serializers.BooleanField(
        required=False, default=True, help_text="False when the letter was handed over."
    )


class ProposalSerializer(serializers.Serializer):
    proposal = serializers.CharField(max_length=5000)


class DecideSerializer(LetterChoiceSerializer):
    outcome = serializers.ChoiceField(
        choices=[
            (s.value, s.label)
            for s in (
                ComplaintStatus.UPHELD,
                ComplaintStatus.PARTIALLY_UPHELD,
                ComplaintStatus.REJECTED,
            )
        ]
    )
    reasons = serializers.CharField(max_length=5000)
    redress_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True
    )


class WithdrawSerializer(NoteSerializer):
    withdrawn_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="When the complainant withdrew; now if not given.",
    )


class ComplaintReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ComplaintMergeSerializer(serializers.Serializer):
    into = serializers.IntegerField(help_text="Id of the earlier open complaint it joins.")


class ReviewSerializer(ComplaintReasonSerializer):
    received_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When the review was asked for; now if not."
    )


class RootCauseChoiceSerializer(serializers.Serializer):
    root_cause = serializers.SlugRelatedField(
        slug_field="code",
        queryset=RootCause.objects.filter(is_active=True),
        error_messages={"does_not_exist": gettext_lazy("No such root cause.")},
    )
    note = serializers.CharField(max_length=5000)


class ClassifySerializer(serializers.Serializer):
    category = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Category.objects.all(),
        error_messages={"does_not_exist": gettext_lazy("No such category.")},
    )
    subcategory = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Category.objects.all(),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": gettext_lazy("No such category.")},
    )
    product = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Product.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": gettext_lazy("No such product.")},
    )


class CaseNoteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000)


class ExtensionRequestSerializer(ComplaintReasonSerializer):
    clock = serializers.SlugField(help_text="Code of the pack's extension clock to apply.")


class ExtensionDecideSerializer(NoteSerializer):
    approve = serializers.BooleanField()


CONFLICT = OpenApiResponse(
    DetailSerializer, description="The complaint's state does not allow this step now."
)
REFUSED = OpenApiResponse(
    DetailSerializer,
    description="You may not do this: your role at the branch, the complaint is assigned to "
    "someone else, or it is about you (or someone you report to, if the pack says so).",
)


def _step(description: str, request=None, responses=None):
    return extend_schema(
        request=request,
        responses=responses or {200: ComplaintDetailSerializer, 403: REFUSED, 409: CONFLICT},
        description=description,
    )


class ComplaintFilter(django_filters.FilterSet):
    # No DISTINCT: a complaint has one status (django-filter's default would add it).
    status = django_filters.MultipleChoiceFilter(
        choices=ComplaintStatus.choices, distinct=False, label=gettext_lazy("Status")
    )
    branch = django_filters.CharFilter(method="filter_code", label=gettext_lazy("Branch code"))
    category = django_filters.CharFilter(method="filter_code", label=gettext_lazy("Category code"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=gettext_lazy("Channel"))
    product = django_filters.CharFilter(method="filter_code", label=gettext_lazy("Product code"))
    received_after = IsoDateTimeFilter(
        field_name="received_at", lookup_expr="gte", label=gettext_lazy("Received at or after")
    )
    received_before = IsoDateTimeFilter(
        field_name="received_at", lookup_expr="lt", label=gettext_lazy("Received before")
    )
    assigned_to = django_filters.NumberFilter(
        field_name="assigned_to_id", label=gettext_lazy("Officer (user id)")
    )
    repeat = django_filters.BooleanFilter(field_name="is_repeat", label=gettext_lazy("Repeat"))
    overdue = django_filters.BooleanFilter(
        method="filter_overdue",
        label=gettext_lazy("A regulatory deadline is past and unmet"),
    )

    class Meta:
        model = Complaint
        fields = [
            "status",
            "branch",
            "category",
            "channel",
            "product",
            "received_after",
            "received_before",
            "assigned_to",
            "repeat",
            "overdue",
        ]

    def filter_code(self, queryset, name, value):
        """By the id the code names, read first: on the id the planner walks the (branch |
        category, received) index in list order; through a join on the code it sorted every
        complaint of the branch or category (1,000,000 complaints, head office's list by category:
        776 -> 48 ms, bench/complaint_list.py)."""
        model = {"branch": Branch, "category": Category, "product": Product}[name]
        ids = list(model.objects.filter(code=value).values_list("pk", flat=True))
        return queryset.filter(**{f"{name}_id__in": ids})

    def filter_overdue(self, queryset, name, value):
        late = overdue(queryset)
        return late if value else queryset.exclude(pk__in=late.values("pk"))


@extend_schema_view(
    list=extend_schema(description="Complaints of the caller's branches, latest received first."),
    retrieve=extend_schema(
        description="One complaint with its clocks, extensions and letters (without their text)."
    ),
)
class ComplaintViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Complaints. Every step is a POST action calling its service, on a complaint read through
    the caller's scope for that step first (another branch's complaint: 404)."""

    queryset = Complaint.objects.all()
    pagination_class = CursorPagination
    serializer_class = ComplaintDetailSerializer
    filterset_class = ComplaintFilter
    permission_classes = [StaffOnlyActionPermissions]
    staff_only_message = BY_STAFF
    action_perms = {
        "list": VIEW_PERM,
        "retrieve": VIEW_PERM,
        "create": ADD_PERM,
        "assign": HANDLE_PERM,
        "acknowledge": HANDLE_PERM,
        "investigate": HANDLE_PERM,
        "wait": HANDLE_PERM,
        "resume": HANDLE_PERM,
        "propose": HANDLE_PERM,
        "accept": HANDLE_PERM,
        "decide": HANDLE_PERM,
        "withdraw": HANDLE_PERM,
        "reopen": ASSIGN_PERM,
        "merge": HANDLE_PERM,
        "review": HANDLE_PERM,
        "root_cause": HANDLE_PERM,
        "classify": HANDLE_PERM,
        "notes": HANDLE_PERM,
        "extensions": HANDLE_PERM,
    }
    # Every step but intake: people answer for a complaint's handling.
    staff_actions = set(action_perms) - {"list", "retrieve", "create"}
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        complaints = complaint_list(self.request.user, required_perm(self, self.request.method))
        if self.action == "retrieve":
            return self._with_details(complaints)
        return complaints.order_by("-received_at", "-id")

    @staticmethod
    def _with_details(complaints):
        return complaints.select_related("root_cause").prefetch_related(
            Prefetch("pack__clocks", queryset=PackClock.objects.order_by("id")),
            Prefetch(
                "extensions",
                queryset=ComplaintExtension.objects.select_related("clock", "clock__extends"),
            ),
            Prefetch("letters", queryset=Letter.objects.order_by("created_at", "id")),
            "notes",
        )

    def get_serializer_class(self):
        return ComplaintSerializer if self.action == "list" else ComplaintDetailSerializer

    def _answer(self, complaint: Complaint, code=status.HTTP_200_OK) -> Response:
        # Read again with everything the answer shows (the services return the locked row).
        fresh = self._with_details(complaint_list(self.request.user)).get(pk=complaint.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    @extend_schema(
        request=ComplaintCreateSerializer,
        responses={201: ComplaintDetailSerializer},
        description="Record a complaint as received: its pack's clocks start at `received_at`.",
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = ComplaintCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if data.get("received_at") is None:
            data.pop("received_at", None)
        complaint = services.complaint_create(actor=request.user, **data)
        return self._answer(complaint, status.HTTP_201_CREATED)

    def _body(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @_step("Give the complaint to an officer who may handle it.", AssignSerializer)
    @idempotent
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        body = self._body(AssignSerializer)
        return self._answer(
            services.complaint_assign(
                actor=request.user, complaint=self.get_object(), officer=body["officer"]
            )
        )

    @_step(
        "Acknowledge receipt (meets the acknowledgement clock); sends the acknowledgement "
        "letter unless `send_letter` is false.",
        LetterChoiceSerializer,
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        body = self._body(LetterChoiceSerializer)
        return self._answer(
            services.complaint_acknowledge(
                actor=request.user, complaint=self.get_object(), send_letter=body["send_letter"]
            )
        )

    @_step("Start the investigation (the complaint must be assigned).")
    @idempotent
    @action(detail=True, methods=["post"])
    def investigate(self, request, pk=None):
        return self._answer(
            services.complaint_investigate(actor=request.user, complaint=self.get_object())
        )

    @_step(
        "Wait for the customer (what is asked of them in `note`): internal targets pause, "
        "the regulator's clocks run on.",
        RequiredNoteSerializer,
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def wait(self, request, pk=None):
        body = self._body(RequiredNoteSerializer)
        return self._answer(
            services.complaint_wait_on_customer(
                actor=request.user, complaint=self.get_object(), note=body["note"]
            )
        )

    @_step("The customer replied: back to investigating, paused clocks resume.", NoteSerializer)
    @idempotent
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        body = self._body(NoteSerializer)
        return self._answer(
            services.complaint_customer_replied(
                actor=request.user, complaint=self.get_object(), note=body["note"]
            )
        )

    @_step("Propose a resolution to the customer.", ProposalSerializer)
    @idempotent
    @action(detail=True, methods=["post"])
    def propose(self, request, pk=None):
        body = self._body(ProposalSerializer)
        return self._answer(
            services.complaint_propose(
                actor=request.user, complaint=self.get_object(), proposal=body["proposal"]
            )
        )

    @_step("The customer accepted the proposal: resolved (a decision).")
    @idempotent
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._answer(
            services.complaint_accept(actor=request.user, complaint=self.get_object())
        )

    @_step(
        "Decide: upheld, partially upheld or rejected, with reasons and redress; meets the "
        "decision clocks and sends the final response.",
        DecideSerializer,
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        body = self._body(DecideSerializer)
        return self._answer(
            services.complaint_decide(actor=request.user, complaint=self.get_object(), **body)
        )

    @_step("The complainant withdrew the complaint: its clocks are cancelled.", WithdrawSerializer)
    @idempotent
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        body = self._body(WithdrawSerializer)
        return self._answer(
            services.complaint_withdraw(
                actor=request.user,
                complaint=self.get_object(),
                note=body["note"],
                withdrawn_at=body.get("withdrawn_at"),
            )
        )

    @_step("Reopen a decided complaint (managers), with a reason.", ComplaintReasonSerializer)
    @idempotent
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        body = self._body(ComplaintReasonSerializer)
        return self._answer(
            services.complaint_reopen(
                actor=request.user, complaint=self.get_object(), reason=body["reason"]
            )
        )

    @_step(
        "Merge this open complaint into an earlier open complaint of the same customer.",
        ComplaintMergeSerializer,
        {200: ComplaintDetailSerializer, 400: DetailSerializer, 403: REFUSED, 409: CONFLICT},
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        complaint = self.get_object()
        body = self._body(ComplaintMergeSerializer)
        into = self.get_queryset().filter(pk=body["into"]).first()
        if into is None:
            raise serializers.ValidationError(
                {"into": [gettext_lazy("No such complaint at your branches.")]}
            )
        return self._answer(
            services.complaint_merge(actor=request.user, complaint=complaint, into=into)
        )

    @_step(
        "The complainant asks for a review of the decision: a new complaint linked to this "
        "one (answered with 201 and the new complaint).",
        ReviewSerializer,
        {201: ComplaintDetailSerializer, 400: DetailSerializer, 403: REFUSED, 409: CONFLICT},
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        body = self._body(ReviewSerializer)
        review = services.complaint_request_review(
            actor=request.user,
            complaint=self.get_object(),
            reason=body["reason"],
            received_at=body.get("received_at"),
        )
        return self._answer(review, status.HTTP_201_CREATED)

    @_step("Record the root cause and the analysis.", RootCauseChoiceSerializer)
    @idempotent
    @action(detail=True, methods=["post"], url_path="root-cause")
    def root_cause(self, request, pk=None):
        body = self._body(RootCauseChoiceSerializer)
        return self._answer(
            services.complaint_set_root_cause(
                actor=request.user,
                complaint=self.get_object(),
                root_cause=body["root_cause"],
                note=body["note"],
            )
        )

    @_step(
        "Correct the category, sub-category and product of an open complaint.", ClassifySerializer
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def classify(self, request, pk=None):
        body = self._body(ClassifySerializer)
        return self._answer(
            services.complaint_classify(
                actor=request.user,
                complaint=self.get_object(),
                category=body["category"],
                subcategory=body.get("subcategory"),
                product=body.get("product"),
            )
        )

    @_step("Add a case note (kept on the case, never in the event stream).", CaseNoteSerializer)
    @idempotent
    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        body = self._body(CaseNoteSerializer)
        complaint = self.get_object()
        services.complaint_add_note(actor=request.user, complaint=complaint, text=body["text"])
        return self._answer(complaint)

    @_step(
        "Ask to extend the running clock to the pack's extension clock `clock`: applied at "
        "once, or waiting for a higher level's decision if the pack says so.",
        ExtensionRequestSerializer,
        {201: ExtensionSerializer, 400: DetailSerializer, 403: REFUSED, 409: CONFLICT},
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def extensions(self, request, pk=None):
        complaint = self.get_object()
        body = self._body(ExtensionRequestSerializer)
        clock = PackClock.objects.filter(
            pack_id=complaint.pack_id, code=body["clock"], extends__isnull=False
        ).first()
        if clock is None:
            raise serializers.ValidationError(
                {"clock": [gettext_lazy("The complaint's rule pack has no such extension.")]}
            )
        extension = services.extension_request(
            actor=request.user, complaint=complaint, clock=clock, reason=body["reason"]
        )
        fresh = extension_list(request.user).get(pk=extension.pk)
        return Response(ExtensionSerializer(fresh).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(description="Extensions of the caller's branches' complaints."),
    retrieve=extend_schema(description="One extension."),
)
class ExtensionViewSet(viewsets.ReadOnlyModelViewSet):
    """Extensions asked for; one waiting for approval is decided here by a higher level."""

    queryset = ComplaintExtension.objects.all()
    pagination_class = CursorPagination
    serializer_class = ExtensionSerializer
    permission_classes = [StaffOnlyActionPermissions]
    staff_actions = {"decide"}
    staff_only_message = BY_STAFF
    action_perms = {"decide": APPROVE_PERM}
    filterset_fields = ["complaint", "status"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        perm = required_perm(self, self.request.method)
        return extension_list(self.request.user, perm).order_by("-requested_at", "-id")

    @extend_schema(
        request=ExtensionDecideSerializer,
        responses={200: ExtensionSerializer, 403: REFUSED, 409: CONFLICT},
        description="Approve (applied now: the clock's due time moves, the complainant is told "
        "if the pack says so) or refuse a waiting extension; never your own request.",
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        serializer = ExtensionDecideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        extension = services.extension_decide(
            actor=request.user, extension=self.get_object(), **serializer.validated_data
        )
        return Response(self.get_serializer(extension_list(request.user).get(pk=extension.pk)).data)


class LetterFilter(django_filters.FilterSet):
    complaint = django_filters.NumberFilter(field_name="complaint_id", required=True)

    class Meta:
        model = Letter
        fields = ["complaint", "kind"]


@extend_schema_view(
    list=extend_schema(description="The letters of one complaint (`?complaint=<id>`), in order."),
    retrieve=extend_schema(description="One letter with its text, as sent."),
)
class LetterViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Letter.objects.all()
    pagination_class = CursorPagination
    filterset_class = LetterFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return letter_list(self.request.user).order_by("created_at", "id")

    def filter_queryset(self, queryset):
        # The complaint filter is required for the list only.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_serializer_class(self):
        return LetterSummarySerializer if self.action == "list" else LetterSerializer


# --- Corrective actions -----------------------------------------------------------------------


class ActionSerializer(serializers.ModelSerializer):
    complaint = serializers.IntegerField(source="complaint_id", read_only=True)
    branch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    root_cause = serializers.SlugRelatedField(slug_field="code", read_only=True)
    owner = serializers.IntegerField(source="owner_id", read_only=True, help_text="User id.")
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = CorrectiveAction
        fields = [
            "id",
            "complaint",
            "branch",
            "root_cause",
            "description",
            "owner",
            "due_date",
            "status",
            "status_label",
            "completed_at",
            "completion_note",
            "created_at",
        ]
        read_only_fields = fields


class ActionCreateSerializer(serializers.Serializer):
    complaint = serializers.IntegerField(help_text="Id of the complaint whose cause it treats.")
    root_cause = serializers.SlugRelatedField(
        slug_field="code",
        queryset=RootCause.objects.filter(is_active=True),
        error_messages={"does_not_exist": gettext_lazy("No such root cause.")},
    )
    description = serializers.CharField(max_length=2000)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        error_messages={"does_not_exist": gettext_lazy("No such member of staff.")},
        help_text="User id of who carries it out.",
    )
    due_date = serializers.DateField()


class ActionFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ActionStatus.choices, distinct=False)
    branch = django_filters.CharFilter(field_name="branch__code")
    complaint = django_filters.NumberFilter(field_name="complaint_id")
    owner = django_filters.NumberFilter(field_name="owner_id")

    class Meta:
        model = CorrectiveAction
        fields = ["status", "branch", "complaint", "owner"]


@extend_schema_view(
    list=extend_schema(description="Corrective actions of the caller's branches, by due date."),
    retrieve=extend_schema(description="One corrective action."),
)
class ActionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Measures against a root cause, with an owner and a due date, tracked to closure."""

    queryset = CorrectiveAction.objects.all()
    pagination_class = CursorPagination
    serializer_class = ActionSerializer
    filterset_class = ActionFilter
    permission_classes = [StaffOnlyActionPermissions]
    staff_actions = {"create", "complete", "cancel"}
    staff_only_message = BY_STAFF
    action_perms = {
        "complete": "complaints.change_correctiveaction",
        "cancel": "complaints.change_correctiveaction",
    }
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        perm = required_perm(self, self.request.method)
        return action_list(self.request.user, perm).order_by("due_date", "id")

    def _answer(self, corrective_action, code=status.HTTP_200_OK) -> Response:
        fresh = action_list(self.request.user).get(pk=corrective_action.pk)
        return Response(ActionSerializer(fresh).data, status=code)

    @extend_schema(
        request=ActionCreateSerializer,
        responses={201: ActionSerializer, 403: REFUSED},
        description="A corrective action for a complaint's root cause; its due date is tracked.",
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = ActionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        perm = "complaints.add_correctiveaction"
        complaint = complaint_list(request.user, perm).filter(pk=data.pop("complaint")).first()
        if complaint is None:
            raise serializers.ValidationError(
                {"complaint": [gettext_lazy("No such complaint at your branches.")]}
            )
        created = corrective.action_create(actor=request.user, complaint=complaint, **data)
        return self._answer(created, status.HTTP_201_CREATED)

    @extend_schema(
        request=RequiredNoteSerializer,
        responses={200: ActionSerializer, 403: REFUSED, 409: CONFLICT},
        description="Done: what was done (`note`).",
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        serializer = RequiredNoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        done = corrective.action_complete(
            actor=request.user, action=self.get_object(), note=serializer.validated_data["note"]
        )
        return self._answer(done)

    @extend_schema(
        request=ComplaintReasonSerializer,
        responses={200: ActionSerializer, 403: REFUSED, 409: CONFLICT},
        description="No longer needed (managers), with a reason.",
    )
    @idempotent
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        serializer = ComplaintReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cancelled = corrective.action_cancel(
            actor=request.user, action=self.get_object(), reason=serializer.validated_data["reason"]
        )
        return self._answer(cancelled)


# Included under /api/v1/ by bankservice/urls.py (by name: the kernel never imports a stage app).
router = DefaultRouter(trailing_slash=False)
router.include_root_view = False
router.register("complaints", ComplaintViewSet, basename="complaint")
router.register("complaint-extensions", ExtensionViewSet, basename="complaint-extension")
router.register("letters", LetterViewSet, basename="complaint-letter")
router.register("corrective-actions", ActionViewSet, basename="corrective-action")
router.register("rule-packs", RulePackViewSet, basename="rule-pack")
router.register("complaint-categories", CategoryViewSet, basename="complaint-category")
router.register("root-causes", RootCauseViewSet, basename="root-cause")
urlpatterns = router.urls
