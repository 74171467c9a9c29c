"""/api/v1/events: the event stream, read-only; poll with `after=<last id seen>`."""

from rest_framework import pagination, serializers, viewsets

from .filters import EventFilter
from .models import Event
from .selectors import event_list


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label", read_only=True)
    branch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True, allow_null=True)
    object_type = serializers.SerializerMethodField()
    object_id = serializers.CharField(source="subject_id", read_only=True)

    class Meta:
        model = Event
        fields = [
            "id",
            "type",
            "occurred_at",
            "actor",
            "branch",
            "customer",
            "object_type",
            "object_id",
            "payload",
        ]

    def get_object_type(self, event) -> str | None:
        if event.subject_type is None:
            return None
        return f"{event.subject_type.app_label}.{event.subject_type.model}"


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
