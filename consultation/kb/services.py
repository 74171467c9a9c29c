"""Writes for the knowledge base: articles, their versions through review, attachments, feedback,
counters, the search log and the review-date sweep.

A version moves draft → in review → published, or in review → returned → (edited) → in review.
Whoever approves a version did not write it (checked here under the lock, and by a check
constraint). Publishing supersedes the previous published version and re-indexes the article.
Every change records a `consultation.article_*` event in its transaction.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bankservice.branches.models import StaffMembership
from bankservice.branches.scope import has_perm
from bankservice.core.errors import BadInput, Conflict
from bankservice.core.uploads import checked_upload
from bankservice.events.services import record
from bankservice.notify.services import Contact, notification_send
from consultation.models import (
    Article,
    ArticleAttachment,
    ArticleFeedback,
    ArticleVersion,
    SearchLog,
    VersionStatus,
)

from .search import index_article, normalize

READ_PERM = "consultation.view_article"
ADD_PERM = "consultation.add_article"
WRITE_PERM = "consultation.change_articleversion"
EDIT_ARTICLE_PERM = "consultation.change_article"
APPROVE_PERM = "consultation.approve_articleversion"
SEARCH_LOG_PERM = "consultation.view_searchlog"

# A version someone is still working on: an article has at most one (see version_start).
OPEN_STATES = (VersionStatus.DRAFT, VersionStatus.IN_REVIEW, VersionStatus.RETURNED)
EDITABLE_STATES = (VersionStatus.DRAFT, VersionStatus.RETURNED)

TEXT_FIELDS = ("title_zh", "title_en", "body_zh", "body_en", "change_note")
REVIEW_DUE_MESSAGE = "consultation.kb_review_due"


class InvalidTransition(Conflict):
    """The version is not in a state that allows this step."""


def _require(actor, perm: str) -> None:
    if not has_perm(actor, perm):
        raise PermissionDenied(_("Your role does not allow this."))


def _event(type_: str, actor, subject, **payload) -> None:
    record(type=f"consultation.{type_}", actor=actor, subject=subject, payload=payload)


def _clean_text(fields: dict) -> dict:
    text = {name: (fields.get(name) or "").strip() for name in TEXT_FIELDS}
    if not text["title_zh"] and not text["title_en"]:
        raise BadInput(_("Give a title in Chinese or English (or both)."), field="title_zh")
    if not text["body_zh"] and not text["body_en"]:
        raise BadInput(_("Write the text in Chinese or English (or both)."), field="body_zh")
    return text


def _lock_version(version_id: int) -> ArticleVersion:
    # Locked by every transition of the version: submit, approve and return race otherwise.
    return ArticleVersion.objects.select_for_update().select_related("article").get(pk=version_id)


# --- Articles and versions -----------------------------------------------------------------------


@transaction.atomic
def article_create(
    *,
    actor,
    kind: str,
    category,
    products=(),
    tags: list[str] | None = None,
    owner=None,
    review_due: dt.date,
    **text,
) -> ArticleVersion:
    """A new article with its first version, a draft written by `actor` (owner by default)."""
    _require(actor, ADD_PERM)
    fields = _clean_text(text)
    article = Article.objects.create(
        kind=kind,
        category=category,
        tags=list(tags or []),
        owner=owner or actor,
        review_due=review_due,
    )
    article.products.set(products)
    version = ArticleVersion.objects.create(article=article, number=1, author=actor, **fields)
    _event("article_created", actor, article, version=1)
    return version


@transaction.atomic
def article_update(
    *, actor, article: Article, kind: str, category, products, tags, owner, review_due: dt.date
) -> Article:
    """Change what an article is about and who looks after it (not its text: that is a version)."""
    _require(actor, EDIT_ARTICLE_PERM)
    article = Article.objects.select_for_update().get(pk=article.pk)
    article.kind, article.category, article.tags = kind, category, list(tags or [])
    article.owner, article.review_due = owner, review_due
    article.save(update_fields=["kind", "category", "tags", "owner", "review_due", "updated_at"])
    article.products.set(products)
    _event("article_updated", actor, article, review_due=review_due.isoformat())
    return article


@transaction.atomic
def version_start(*, actor, article: Article) -> ArticleVersion:
    """A new draft of an article, starting from its published text."""
    _require(actor, WRITE_PERM)
    # The article row is the lock for "at most one open version": two authors starting at once
    # would otherwise both pass the check.
    article = (
        Article.objects.select_for_update(of=("self",))
        .select_related("published")
        .get(pk=article.pk)
    )
    if article.is_archived:
        raise Conflict(_("The article is archived."))
    if article.versions.filter(status__in=OPEN_STATES).exists():
        raise Conflict(_("This article already has a version being written or reviewed."))
    source = article.published or article.versions.order_by("-number").first()
    number = (article.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = ArticleVersion.objects.create(
        article=article,
        number=number,
        author=actor,
        **{name: getattr(source, name) for name in TEXT_FIELDS if name != "change_note"},
    )
    _event("article_draft_started", actor, article, version=number)
    return version


@transaction.atomic
def version_edit(*, actor, version: ArticleVersion, **text) -> ArticleVersion:
    """Change the text of a draft or returned version (its author only)."""
    _require(actor, WRITE_PERM)
    version = _lock_version(version.pk)
    if version.author_id != actor.pk:
        raise PermissionDenied(_("Only the author edits a version."))
    if version.status not in EDITABLE_STATES:
        raise InvalidTransition(_("Only a draft or a returned version can be edited."))
    for name, value in _clean_text(text).items():
        setattr(version, name, value)
    version.save(update_fields=list(TEXT_FIELDS))
    _event("article_edited", actor, version.article, version=version.number)
    return version


@transaction.atomic
def version_submit(*, actor, version: ArticleVersion) -> ArticleVersion:
    """The author asks for review (a draft, or a returned version after changes)."""
    _require(actor, WRITE_PERM)
    version = _lock_version(version.pk)
    if version.author_id != actor.pk:
        raise PermissionDenied(_("Only the author submits a version."))
    if version.status not in EDITABLE_STATES:
        raise InvalidTransition(_("Only a draft or a returned version can be submitted."))
    version.status, version.submitted_at = VersionStatus.IN_REVIEW, timezone.now()
    version.save(update_fields=["status", "submitted_at"])
    _event("article_submitted", actor, version.article, version=version.number)
    return version


def _check_reviewer(actor, version: ArticleVersion) -> None:
    _require(actor, APPROVE_PERM)
    if version.author_id == actor.pk:
        raise PermissionDenied(_("You cannot review a version you wrote."))
    if version.status != VersionStatus.IN_REVIEW:
        raise InvalidTransition(_("This version is not waiting for review."))


@transaction.atomic
def version_approve(*, actor, version: ArticleVersion, note: str = "") -> ArticleVersion:
    """Publish a version reviewed by someone other than its author; the previous one is superseded
    and the search index rebuilt."""
    version = _lock_version(version.pk)
    _check_reviewer(actor, version)
    # The article row too: two approvals of two versions must not both become "published".
    article = Article.objects.select_for_update().get(pk=version.article_id)
    if article.is_archived:
        raise Conflict(_("The article is archived."))
    now = timezone.now()
    if article.published_id:
        ArticleVersion.objects.filter(pk=article.published_id).update(
            status=VersionStatus.SUPERSEDED
        )
    version.status, version.reviewer, version.reviewed_at = VersionStatus.PUBLISHED, actor, now
    version.review_note, version.published_at = note.strip(), now
    version.save(update_fields=["status", "reviewer", "reviewed_at", "review_note", "published_at"])
    article.published = version
    article.save(update_fields=["published", "updated_at"])
    index_article(article)
    _event("article_published", actor, article, version=version.number, author=version.author_id)
    return version


@transaction.atomic
def version_return(*, actor, version: ArticleVersion, note: str) -> ArticleVersion:
    """Send a version back to its author with a note saying what to change."""
    note = (note or "").strip()
    if not note:
        raise BadInput(_("Say what should change."), field="note")
    version = _lock_version(version.pk)
    _check_reviewer(actor, version)
    version.status, version.reviewer = VersionStatus.RETURNED, actor
    version.reviewed_at, version.review_note = timezone.now(), note
    version.save(update_fields=["status", "reviewer", "reviewed_at", "review_note"])
    _event("article_returned", actor, version.article, version=version.number)
    return version


@transaction.atomic
def article_archive(*, actor, article: Article) -> Article:
    """Withdraw an article: staff no longer see or find it; its history stays."""
    _require(actor, APPROVE_PERM)
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.is_archived:
        raise Conflict(_("The article is already archived."))
    article.is_archived = True
    article.save(update_fields=["is_archived", "updated_at"])
    # Open drafts and the published text are withdrawn with it.
    article.versions.filter(status__in=[*OPEN_STATES, VersionStatus.PUBLISHED]).update(
        status=VersionStatus.WITHDRAWN
    )
    index_article(article)
    _event("article_archived", actor, article)
    return article


# --- Attachments ---------------------------------------------------------------------------------


@transaction.atomic
def attachment_add(*, actor, article: Article, upload) -> ArticleAttachment:
    """Attach a file: its type is read from its bytes, its size limited, its checksum kept."""
    _require(actor, EDIT_ARTICLE_PERM)
    checked = checked_upload(
        upload,
        max_bytes=settings.KB_ATTACHMENT_MAX_BYTES,
        allowed=settings.KB_ATTACHMENT_TYPES,
        field="file",
    )
    attachment = ArticleAttachment(
        article=article,
        name=checked.name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=actor,
    )
    attachment.file.save("upload", ContentFile(checked.data), save=False)
    attachment.save()
    _event(
        "article_attachment_added",
        actor,
        article,
        name=attachment.name,
        sha256=attachment.sha256,
        size=attachment.size,
    )
    return attachment


@transaction.atomic
def attachment_remove(*, actor, attachment: ArticleAttachment) -> None:
    """Hide an attachment (the file is kept: published versions may have pointed to it)."""
    _require(actor, EDIT_ARTICLE_PERM)
    updated = ArticleAttachment.objects.filter(pk=attachment.pk, is_removed=False).update(
        is_removed=True
    )
    if updated:
        _event("article_attachment_removed", actor, attachment.article, name=attachment.name)


# --- Feedback and counters -----------------------------------------------------------------------


@transaction.atomic
def feedback_give(*, actor, article: Article, helpful: bool, comment: str = "") -> ArticleFeedback:
    """Record "was this helpful?" for the published version; a second answer replaces the first.

    The counters move by F() deltas: +1 for a new answer, +1/-1 when it changes, nothing when it
    repeats. Two clicks of the same person racing: the second insert fails on the unique
    constraint inside a savepoint and becomes a change of the first row, locked.
    """
    _require(actor, READ_PERM)
    if article.is_archived or not article.published_id:
        raise Conflict(_("This article is not published."))
    rows = ArticleFeedback.objects.select_for_update()
    lookup = {"version_id": article.published_id, "user": actor}
    feedback = rows.filter(**lookup).first()
    if feedback is None:
        try:
            with transaction.atomic():
                feedback = ArticleFeedback.objects.create(
                    article=article, helpful=helpful, comment=comment.strip(), **lookup
                )
        except IntegrityError:
            feedback = rows.get(**lookup)
        else:
            field = "helpful_count" if helpful else "not_helpful_count"
            Article.objects.filter(pk=article.pk).update(**{field: F(field) + 1})
            _event("article_feedback", actor, article, helpful=helpful)
            return feedback
    if feedback.helpful != helpful:
        up, down = (
            ("helpful_count", "not_helpful_count")
            if helpful
            else ("not_helpful_count", "helpful_count")
        )
        Article.objects.filter(pk=article.pk).update(**{up: F(up) + 1, down: F(down) - 1})
        _event("article_feedback", actor, article, helpful=helpful, changed=True)
    feedback.helpful = helpful
    if comment.strip():
        feedback.comment = comment.strip()
    feedback.save(update_fields=["helpful", "comment"])
    return feedback


def article_viewed(*, article_id: int) -> None:
    """Count a reading of the article (not an audited change: no event)."""
    Article.objects.filter(pk=article_id).update(view_count=F("view_count") + 1)


def articles_record_use(*, article_ids: list[int]) -> None:
    """Count the articles used to answer a consultation (the caller records its own event)."""
    if article_ids:
        Article.objects.filter(pk__in=set(article_ids)).update(use_count=F("use_count") + 1)


# --- Search log ----------------------------------------------------------------------------------


def staff_branch_id(user) -> int | None:
    """The branch a staff member works at (their first branch membership), for the search log."""
    return (
        StaffMembership.objects.filter(user=user, branch__isnull=False)
        .order_by("id")
        .values_list("branch_id", flat=True)
        .first()
    )


def search_log_record(*, query: str, user, hits, source: str = "search") -> SearchLog:
    """Keep a staff search and how well it was answered (for the unanswered-questions page)."""
    return SearchLog.objects.create(
        query=query[:200],
        normalized=normalize(query)[:200],
        user=user,
        branch_id=staff_branch_id(user),
        source=source,
        result_count=len(hits),
        top_score=max((hit.score for hit in hits), default=0),
    )


def search_log_opened(*, log_id: int, user, article_id: int) -> None:
    """Note the first article opened from one of the user's own searches."""
    SearchLog.objects.filter(pk=log_id, user=user, opened_article__isnull=True).update(
        opened_article_id=article_id
    )


# --- Review dates --------------------------------------------------------------------------------


def _owner_branch(owner):
    membership = (
        StaffMembership.objects.filter(user=owner, branch__isnull=False)
        .select_related("branch")
        .order_by("id")
        .first()
    )
    return membership.branch if membership else None


def articles_flag_review_due(*, today: dt.date | None = None, batch: int = 200) -> int:
    """Tell owners their articles passed the review date, once per review date; returns how many.

    The owner gets an e-mail through notify (as a contact at their branch: staff are not
    customers) when they have an address and a branch; the flag and the "due for review" list
    show it on the KB pages either way.
    """
    today = today or timezone.localdate()
    flagged = 0
    while True:
        with transaction.atomic():
            due = list(
                Article.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("owner", "published")
                .filter(review_due__lt=today, is_archived=False)
                # Told on a day after the review date it was about: a later review date (set
                # since) has not been told yet.
                .filter(
                    Q(expiry_notified_on__isnull=True) | Q(expiry_notified_on__lte=F("review_due"))
                )
                .order_by("review_due", "id")[:batch]
            )
            if not due:
                return flagged
            for article in due:
                article.expiry_notified_on = today
                article.save(update_fields=["expiry_notified_on"])
                _notify_owner(article)
                _event("article_review_due", None, article, review_due=str(article.review_due))
            flagged += len(due)


def _notify_owner(article: Article) -> None:
    owner = article.owner
    branch = _owner_branch(owner)
    if not owner.email or branch is None:
        return
    notification_send(
        contact=Contact(
            name=owner.get_full_name() or owner.get_username(),
            email=owner.email,
            language=settings.LANGUAGE_CODE,
            consent_email=True,
        ),
        branch=branch,
        channel="email",
        template=REVIEW_DUE_MESSAGE,
        context={
            "title": str(article),
            "review_due": article.review_due.isoformat(),
            "article_id": article.pk,
        },
        dedupe_key=f"kb:review-due:{article.pk}:{article.review_due.isoformat()}",
    )
