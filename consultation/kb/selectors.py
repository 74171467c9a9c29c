"""Reads for the knowledge base, each a fixed number of queries.

The knowledge base is bank-wide: what a user may read depends on their role's permissions, not on
a branch. Readers see published, non-archived articles only; writers and approvers also see
drafts, versions in review and the history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Max, Prefetch, Q
from django.http import Http404
from django.utils import timezone

from bankservice.branches.scope import has_perm
from consultation.models import (
    Article,
    ArticleAttachment,
    ArticleFeedback,
    ArticleVersion,
    SearchLog,
    VersionStatus,
)

from .services import APPROVE_PERM, OPEN_STATES, READ_PERM, WRITE_PERM


def can_write(user) -> bool:
    return has_perm(user, WRITE_PERM)


def can_approve(user) -> bool:
    return has_perm(user, APPROVE_PERM)


def active_attachments_prefetch() -> Prefetch:
    """`article.active_attachments`: the attachments not removed."""
    return Prefetch(
        "attachments",
        queryset=ArticleAttachment.objects.filter(is_removed=False),
        to_attr="active_attachments",
    )


def published_articles(*, category: str | None = None, product: str | None = None):
    """Published, non-archived articles, newest first (the list of the API and the home page)."""
    rows = (
        Article.objects.filter(published__isnull=False, is_archived=False)
        .select_related("published", "category")
        .prefetch_related("products")
        .order_by("-published__published_at", "-id")
    )
    if category:
        rows = rows.filter(category__code=category)
    if product:
        rows = rows.filter(products__code=product)
    return rows


def access_article(user, article_id: int) -> Article:
    """An article the user may read: published ones for readers, any one for writers (404 else)."""
    if not has_perm(user, READ_PERM):
        raise Http404
    rows = Article.objects.select_related("published", "category", "owner").prefetch_related(
        "products", active_attachments_prefetch()
    )
    if not can_write(user):
        rows = rows.filter(published__isnull=False, is_archived=False)
    try:
        return rows.get(pk=article_id)
    except Article.DoesNotExist:
        raise Http404 from None


def access_version(user, version_id: int) -> ArticleVersion:
    """A version of any state, for writers and approvers only (readers see the published text)."""
    if not can_write(user):
        raise Http404
    try:
        return ArticleVersion.objects.select_related(
            "article__category", "article__published", "author", "reviewer"
        ).get(pk=version_id)
    except ArticleVersion.DoesNotExist:
        raise Http404 from None


def access_attachment(user, attachment_id: int) -> ArticleAttachment:
    """An attachment of an article the user may read (404 otherwise)."""
    attachment = ArticleAttachment.objects.filter(pk=attachment_id, is_removed=False).first()
    if attachment is None:
        raise Http404
    access_article(user, attachment.article_id)
    return attachment


def user_feedback(user, article: Article) -> bool | None:
    """The user's answer for the published version (None if not given)."""
    if not article.published_id:
        return None
    return (
        ArticleFeedback.objects.filter(version_id=article.published_id, user=user)
        .values_list("helpful", flat=True)
        .first()
    )


def article_history(article: Article) -> list[ArticleVersion]:
    """Every version of the article, newest first, with who wrote and reviewed it."""
    return list(article.versions.select_related("author", "reviewer").order_by("-number"))


def open_version(article: Article) -> ArticleVersion | None:
    """The version being written or reviewed, if any."""
    return article.versions.filter(status__in=OPEN_STATES).first()


def review_queue(user) -> list[ArticleVersion]:
    """Versions waiting for review that this user may decide (not their own), oldest first."""
    return list(
        ArticleVersion.objects.filter(status=VersionStatus.IN_REVIEW)
        .exclude(author=user)
        .select_related("article__category", "author")
        .order_by("submitted_at", "id")
    )


def my_open_versions(user) -> list[ArticleVersion]:
    """The user's drafts, versions in review and returned versions."""
    return list(
        ArticleVersion.objects.filter(author=user, status__in=OPEN_STATES)
        .select_related("article__category")
        .order_by("-created_at")
    )


def due_for_review(user, *, today: dt.date | None = None) -> list[Article]:
    """The user's articles whose review date has passed."""
    today = today or timezone.localdate()
    return list(
        Article.objects.filter(owner=user, is_archived=False, review_due__lt=today)
        .select_related("published", "category")
        .order_by("review_due", "id")
    )


@dataclass(frozen=True)
class UnansweredQuestion:
    """A question staff keep asking that the knowledge base does not answer well."""

    normalized: str
    example: str
    searches: int
    no_results: int
    weak: int
    opened: int
    staff_searches: int  # the rest were questions put to the assistant
    last_asked: dt.datetime


def unanswered_questions(
    *, since: dt.datetime, until: dt.datetime | None = None, limit: int = 50
) -> list[UnansweredQuestion]:
    """Most-asked searches in the period that found nothing, found only weak matches (best score
    under KB_GOOD_ANSWER_SCORE) or led nobody to open an article: one grouped query.

    Questions put to the assistant count too (a greeter does not open articles, so for those only
    no or weak matches count)."""
    threshold = settings.KB_GOOD_ANSWER_SCORE
    rows = SearchLog.objects.filter(created_at__gte=since, source__in=("search", "assistant"))
    if until is not None:
        rows = rows.filter(created_at__lt=until)
    grouped = (
        rows.values("normalized")
        .annotate(
            searches=Count("id"),
            no_results=Count("id", filter=Q(result_count=0)),
            weak=Count("id", filter=Q(result_count__gt=0, top_score__lt=threshold)),
            opened=Count("id", filter=Q(opened_article__isnull=False)),
            staff_searches=Count("id", filter=Q(source="search")),
            example=Max("query"),
            last_asked=Max("created_at"),
        )
        .filter(Q(no_results__gt=0) | Q(weak__gt=0) | Q(staff_searches__gt=0, opened=0))
        .order_by("-searches", "-last_asked")[:limit]
    )
    return [UnansweredQuestion(**row) for row in grouped]
