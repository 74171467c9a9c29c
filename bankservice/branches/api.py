"""REST API for branches (read-only; configured in the admin)."""

from rest_framework import serializers, viewsets

from .models import Branch, OpeningHours
from .selectors import branch_list


class OpeningHoursSerializer(serializers.ModelSerializer):
    class Meta:
        model = OpeningHours
        fields = ["weekday", "opens_at", "closes_at"]


class BranchSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    calendar = serializers.SlugRelatedField(slug_field="code", read_only=True)
    opening_hours = OpeningHoursSerializer(many=True, read_only=True)

    class Meta:
        model = Branch
        fields = [
            "id",
            "code",
            "name",
            "region",
            "time_zone",
            "address",
            "calendar",
            "is_active",
            "opening_hours",
        ]


class BranchViewSet(viewsets.ReadOnlyModelViewSet):
    """Branches the caller may see."""

    queryset = Branch.objects.all()
    serializer_class = BranchSerializer
    lookup_value_regex = r"\d+"
    filterset_fields = ["code", "region__code", "is_active"]

    def get_queryset(self):
        return branch_list(principal=self.request.user).order_by("code")
