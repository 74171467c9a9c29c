"""/api/v1/events: the event stream, read-only; poll with `after=<last id seen>`."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import pagination, serializers, viewsets

from .filters import EventFilter
from .models import Event
from .selectors import event_list


class SubjectSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="app_label.model, e.g. customers.customer")
    id = serializers.CharField()


class EventSerializer(serializers.ModelSerializer):
    """The same shape as a webhook body (docs/webhooks.md), plus who acted."""

    actor = serializers.CharField(source="actor_label", read_only=True)
    branch = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True, allow_null=True)
    subject = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = [
            "id",
            "type",
            "occurred_at",
            "actor",
            "branch",
            "customer",
            "subject",
            "payload",
        ]

    @extend_schema_field(SubjectSerializer(allow_null=True))
    def get_subject(self, event) -> dict | None:
        if event.subject_type is None:
            return None
        return {
            "type": f"{event.subject_type.app_label}.{event.subject_type.model}",
            "id": event.subject_id,
        }


class EventStreamPagination(pagination.CursorPagination):
    """Oldest first by id, so `after` plus the `next` link follow the stream without gaps."""

    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class EventViewSet(viewsets.ReadOnlyModelViewSet):
    """Events within the caller's scope (auditors, managers, and API clients with events:read)."""

    queryset = Event.objects.all()
    serializer_class = EventSerializer
    filterset_class = EventFilter
    pagination_class = EventStreamPagination
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return event_list(principal=self.request.user)
