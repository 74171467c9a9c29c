"""REST API of the knowledge base, mounted under /api/v1/ by consultation/api.py.

Published articles only (writing and review happen on the staff pages). `GET kb/articles/?q=`
searches (ranked, with highlighted snippets), without `q` lists newest first; both filter by
category and product code. "Was this helpful?" is a person's answer, so API keys (systems) may
read but not give feedback.
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from bankservice.core.idempotency import idempotent
from consultation.models import Article

from .search import search_articles
from .selectors import active_attachments_prefetch, published_articles
from .services import READ_PERM, feedback_give, search_log_record

SEARCH_LIMIT = 50


class _ArticleBase(serializers.ModelSerializer):
    title = serializers.SerializerMethodField(
        help_text="In the request's language, else the other."
    )
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    products = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    version = serializers.IntegerField(source="published.number", read_only=True)
    published_at = serializers.DateTimeField(source="published.published_at", read_only=True)

    def get_title(self, article) -> str:
        return article.published.title


class ArticleListSerializer(_ArticleBase):
    score = serializers.SerializerMethodField(help_text="0..1, only when searching with q.")
    snippet = serializers.SerializerMethodField(
        help_text="HTML: matched terms in <mark>, the rest escaped; only when searching with q."
    )

    class Meta:
        model = Article
        fields = [
            "id",
            "kind",
            "title",
            "category",
            "products",
            "tags",
            "version",
            "published_at",
            "use_count",
            "score",
            "snippet",
        ]

    @extend_schema_field({"type": "number", "format": "float", "nullable": True})
    def get_score(self, article) -> float | None:
        hit = getattr(article, "hit", None)
        return hit.score if hit else None

    def get_snippet(self, article) -> str | None:
        hit = getattr(article, "hit", None)
        return str(hit.snippet) if hit else None


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    url = serializers.SerializerMethodField()

    def get_url(self, attachment) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("consultation:kb-attachment", args=[attachment.pk])
        )


class ArticleDetailSerializer(_ArticleBase):
    title_zh = serializers.CharField(source="published.title_zh", read_only=True)
    title_en = serializers.CharField(source="published.title_en", read_only=True)
    body_zh = serializers.CharField(source="published.body_zh", read_only=True)
    body_en = serializers.CharField(source="published.body_en", read_only=True)
    attachments = AttachmentSerializer(source="active_attachments", many=True, read_only=True)

    class Meta:
        model = Article
        fields = [
            "id",
            "kind",
            "title",
            "title_zh",
            "title_en",
            "body_zh",
            "body_en",
            "category",
            "products",
            "tags",
            "version",
            "published_at",
            "view_count",
            "use_count",
            "helpful_count",
            "not_helpful_count",
            "attachments",
        ]


class FeedbackSerializer(serializers.Serializer):
    helpful = serializers.BooleanField()
    comment = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class FeedbackResultSerializer(serializers.Serializer):
    helpful = serializers.BooleanField()
    helpful_count = serializers.IntegerField()
    not_helpful_count = serializers.IntegerField()


SEARCH_PARAMETERS = [
    OpenApiParameter("q", str, description="Question or keywords, Chinese or English."),
    OpenApiParameter("category", str, description="Category code."),
    OpenApiParameter("product", str, description="Product code."),
]


class ArticleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Published knowledge articles: read by staff and API keys with consultation:read."""

    queryset = Article.objects.all()
    action_perms = {"feedback": READ_PERM}
    lookup_value_regex = r"\d+"
    filter_backends = []

    def get_serializer_class(self):
        if self.action == "list":
            return ArticleListSerializer
        if self.action == "feedback":
            return FeedbackSerializer
        return ArticleDetailSerializer

    def get_queryset(self):
        params = self.request.query_params
        rows = published_articles(
            category=params.get("category") or None, product=params.get("product") or None
        )
        if self.action != "list":
            rows = rows.prefetch_related(active_attachments_prefetch())
        return rows

    @extend_schema(parameters=SEARCH_PARAMETERS)
    def list(self, request, *args, **kwargs):
        query = (request.query_params.get("q") or "").strip()[:200]
        if not query:
            return super().list(request, *args, **kwargs)
        hits = search_articles(
            query,
            category=request.query_params.get("category") or None,
            product=request.query_params.get("product") or None,
            limit=SEARCH_LIMIT,
        )
        is_staff = not getattr(request.user, "is_api_client", False)
        search_log_record(
            query=query,
            user=request.user if is_staff else None,
            hits=hits,
            source="search" if is_staff else "api",
        )
        articles = self.get_queryset().in_bulk([hit.article_id for hit in hits])
        ranked = []
        for hit in hits:
            if hit.article_id in articles:
                article = articles[hit.article_id]
                article.hit = hit
                ranked.append(article)
        page = self.paginate_queryset(ranked)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=FeedbackSerializer, responses=FeedbackResultSerializer)
    @idempotent
    @action(detail=True, methods=["post"])
    def feedback(self, request, pk=None):
        """Was this article helpful? A second answer replaces the first (people only)."""
        if getattr(request.user, "is_api_client", False):
            raise PermissionDenied(gettext_lazy("Feedback is given by a person, not an API key."))
        article = self.get_object()
        serializer = FeedbackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        given = feedback_give(actor=request.user, article=article, **serializer.validated_data)
        article.refresh_from_db(fields=["helpful_count", "not_helpful_count"])
        return Response(
            FeedbackResultSerializer(
                {
                    "helpful": given.helpful,
                    "helpful_count": article.helpful_count,
                    "not_helpful_count": article.not_helpful_count,
                }
            ).data
        )


router = DefaultRouter(trailing_slash=False)
router.include_root_view = False
router.register("kb/articles", ArticleViewSet, basename="kb-article")
urlpatterns = router.urls
