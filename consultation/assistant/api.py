"""REST resources of this part, mounted under /api/v1/ by consultation/api.py:
`POST /api/v1/assistant/suggest`."""

from django.conf import settings
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, throttling
from rest_framework.response import Response
from rest_framework.views import APIView

from bankservice.branches.scope import has_perm
from bankservice.core.api_permissions import IsAuthenticatedPrincipal

from .services import MAX_QUESTION_LENGTH, SUGGEST_PERM, assistant_suggest


class CanSuggest(IsAuthenticatedPrincipal):
    """Staff who read the knowledge base, API clients with the consultation:read scope."""

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and has_perm(request.user, SUGGEST_PERM)


class PrincipalRateThrottle(throttling.SimpleRateThrottle):
    """Per person or API client (the shared cache counts across workers): a suggestion costs a
    model run and a search, so a runaway integration must not starve the branches."""

    scope = "assistant"

    def get_rate(self) -> str | None:
        return settings.ASSISTANT_API_RATE

    def get_cache_key(self, request, view) -> str:
        user = request.user
        ident = f"client-{user.client.pk}" if getattr(user, "is_api_client", False) else user.pk
        return self.cache_format % {"scope": self.scope, "ident": ident}


class SuggestRequestSerializer(serializers.Serializer):
    text = serializers.CharField(
        max_length=MAX_QUESTION_LENGTH, help_text="The customer's question, Chinese or English."
    )
    branch = serializers.IntegerField(
        required=False,
        help_text="Branch id to route at (one of the caller's branches). Without it: the "
        "caller's only branch, or no queue (only its code) when the caller has several.",
    )


class SuggestedArticleSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="article_id")
    title = serializers.CharField()
    snippet = serializers.CharField(help_text="HTML: the matching words are in <mark>.")
    score = serializers.FloatField(help_text="0..1")


class SuggestedServiceSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    code = serializers.CharField()
    name = serializers.CharField()


class SuggestionSerializer(serializers.Serializer):
    intent = serializers.CharField(
        source="label", allow_null=True, help_text="Intent or service code; null when unsure."
    )
    confidence = serializers.FloatField(help_text="Probability of the best intent, 0..1.")
    unsure = serializers.BooleanField(
        help_text="True below the confidence threshold: no intent or queue is suggested."
    )
    service_code = serializers.CharField(
        allow_blank=True, help_text="The service to queue for (empty when unsure)."
    )
    service_type = SuggestedServiceSerializer(
        allow_null=True, help_text="That service at the branch, when it offers it."
    )
    articles = SuggestedArticleSerializer(many=True)


class SuggestView(APIView):
    """Suggest the intent, the queue and knowledge articles for a customer's question."""

    permission_classes = [CanSuggest]
    throttle_classes = [PrincipalRateThrottle]

    @extend_schema(
        operation_id="assistant_suggest",
        request=SuggestRequestSerializer,
        responses={
            200: SuggestionSerializer,
            400: OpenApiResponse(description="Empty or too long text; a branch not yours."),
            403: OpenApiResponse(description="No permission to read the knowledge base."),
            429: OpenApiResponse(description="Too many questions in a minute."),
        },
        tags=["assistant"],
    )
    # Not @idempotent: a question, not a change (see tests/api/test_idempotency_everywhere.py).
    def post(self, request):
        serializer = SuggestRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        suggestion = assistant_suggest(
            principal=request.user,
            text=serializer.validated_data["text"],
            branch_id=serializer.validated_data.get("branch"),
        )
        return Response(SuggestionSerializer(suggestion).data)


urlpatterns = [path("assistant/suggest", SuggestView.as_view(), name="api-assistant-suggest")]
