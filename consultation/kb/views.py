"""Staff pages of the knowledge base: search, reading, writing, review, history, attachments and
the unanswered-questions list. Thin: forms validate, services write, selectors read."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from bankservice.core.decorators import require_perm
from bankservice.core.errors import DomainError
from bankservice.core.uploads import INLINE_TYPES

from . import selectors
from .forms import (
    ApproveForm,
    ArticleDetailsForm,
    AttachmentForm,
    FeedbackForm,
    NewArticleForm,
    PeriodForm,
    ReturnForm,
    SearchForm,
    VersionForm,
)
from .search import search_articles
from .services import (
    ADD_PERM,
    APPROVE_PERM,
    EDIT_ARTICLE_PERM,
    READ_PERM,
    SEARCH_LOG_PERM,
    WRITE_PERM,
    article_archive,
    article_create,
    article_update,
    article_viewed,
    attachment_add,
    attachment_remove,
    feedback_give,
    search_log_opened,
    search_log_record,
    version_approve,
    version_edit,
    version_return,
    version_start,
    version_submit,
)

HOME_LIST_SIZE = 20


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _apply_errors(form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


# --- Reading -------------------------------------------------------------------------------------


@require_GET
@require_perm(READ_PERM)
def home(request):
    """Search box and filters; results with snippets (htmx swaps only the results)."""
    form = SearchForm(request.GET or None)
    hits, log, recent = [], None, []
    if form.is_valid() and form.cleaned_data["q"].strip():
        data = form.cleaned_data
        hits = search_articles(
            data["q"],
            category=data["category"].code if data["category"] else None,
            product=data["product"].code if data["product"] else None,
        )
        log = search_log_record(query=data["q"].strip(), user=request.user, hits=hits)
    elif form.is_valid() or not request.GET:
        data = form.cleaned_data if form.is_bound else {}
        category, product = data.get("category"), data.get("product")
        recent = list(
            selectors.published_articles(
                category=category.code if category else None,
                product=product.code if product else None,
            )[:HOME_LIST_SIZE]
        )
    context = {"form": form, "hits": hits, "log": log, "recent": recent}
    if _is_htmx(request):
        return render(request, "consultation/kb/_results.html", context)
    user = request.user
    context.update(
        can_write=selectors.can_write(user),
        can_approve=selectors.can_approve(user),
        due=selectors.due_for_review(user),
        drafts=selectors.my_open_versions(user) if selectors.can_write(user) else [],
        queue_size=len(selectors.review_queue(user)) if selectors.can_approve(user) else 0,
    )
    return render(request, "consultation/kb/home.html", context)


@require_GET
@require_perm(READ_PERM)
def article_detail(request, article_id: int):
    """The published text in the active language (the other one if missing), attachments,
    "was this helpful?" and how often it was used."""
    article = selectors.access_article(request.user, article_id)
    log_id = request.GET.get("from_search", "")
    if log_id.isdigit():
        search_log_opened(log_id=int(log_id), user=request.user, article_id=article.pk)
    if article.published_id and not article.is_archived:
        article_viewed(article_id=article.pk)
    writer = selectors.can_write(request.user)
    context = {
        "article": article,
        "version": article.published,
        "my_feedback": selectors.user_feedback(request.user, article),
        "can_write": writer,
        "can_approve": selectors.can_approve(request.user),
        "open_version": selectors.open_version(article) if writer else None,
        "attachment_form": AttachmentForm() if writer else None,
        "inline_types": INLINE_TYPES,
    }
    return render(request, "consultation/kb/article.html", context)


@require_POST
@require_perm(READ_PERM)
def feedback(request, article_id: int):
    """Record "was this helpful?"; htmx replaces the buttons with the new counts."""
    article = selectors.access_article(request.user, article_id)
    form = FeedbackForm(request.POST)
    error = None
    if form.is_valid():
        try:
            feedback_give(
                actor=request.user,
                article=article,
                helpful=form.cleaned_data["helpful"],
                comment=form.cleaned_data["comment"],
            )
        except DomainError as exc:
            error = exc.message
    else:
        error = _("Choose yes or no.")
    article.refresh_from_db(fields=["helpful_count", "not_helpful_count"])
    if _is_htmx(request):
        context = {
            "article": article,
            "my_feedback": selectors.user_feedback(request.user, article),
            "feedback_error": error,
        }
        return render(
            request, "consultation/kb/_feedback.html", context, status=400 if error else 200
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Thank you for your feedback."))
    return redirect("consultation:kb-article", article_id=article.pk)


@require_GET
@require_perm(READ_PERM)
def attachment_download(request, attachment_id: int):
    """The file, for users who may read its article: inline for images and PDF (?inline=1)."""
    attachment = selectors.access_attachment(request.user, attachment_id)
    inline = request.GET.get("inline") == "1" and attachment.content_type in INLINE_TYPES
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=attachment.name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    # A file is never a page: no script of its own, whatever is in it.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- Writing -------------------------------------------------------------------------------------


@require_perm(ADD_PERM)
def article_new(request):
    """A new article and its first draft."""
    form = NewArticleForm(
        request.POST or None,
        initial={"owner": request.user, "review_due": timezone.localdate() + dt.timedelta(365)},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            version = article_create(
                actor=request.user,
                kind=data["kind"],
                category=data["category"],
                products=data["products"],
                tags=data["tags"],
                owner=data["owner"],
                review_due=data["review_due"],
                **{name: data[name] for name in VersionForm.base_fields},
            )
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Draft saved. Submit it for review when it is ready."))
            return redirect("consultation:kb-version", version_id=version.pk)
    return render(request, "consultation/kb/article_new.html", {"form": form})


@require_perm(EDIT_ARTICLE_PERM)
def article_edit(request, article_id: int):
    """Change an article's details (category, products, tags, owner, review date)."""
    article = selectors.access_article(request.user, article_id)
    initial = {
        "kind": article.kind,
        "category": article.category,
        "products": list(article.products.all()),
        "tags": ", ".join(article.tags),
        "owner": article.owner,
        "review_due": article.review_due,
    }
    form = ArticleDetailsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            article_update(actor=request.user, article=article, **form.cleaned_data)
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Article details saved."))
            return redirect("consultation:kb-article", article_id=article.pk)
    return render(request, "consultation/kb/article_edit.html", {"form": form, "article": article})


@require_POST
@require_perm(WRITE_PERM)
def version_new(request, article_id: int):
    """Start a new draft from the published text."""
    article = selectors.access_article(request.user, article_id)
    try:
        version = version_start(actor=request.user, article=article)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("consultation:kb-article", article_id=article.pk)
    return redirect("consultation:kb-version-edit", version_id=version.pk)


@require_GET
@require_perm(WRITE_PERM)
def version_detail(request, version_id: int):
    """One version with the actions its state allows this user."""
    version = selectors.access_version(request.user, version_id)
    user = request.user
    is_author = version.author_id == user.pk
    context = {
        "version": version,
        "article": version.article,
        "is_author": is_author,
        "can_review": selectors.can_approve(user) and not is_author,
        "approve_form": ApproveForm(),
        "return_form": ReturnForm(),
    }
    return render(request, "consultation/kb/version.html", context)


@require_perm(WRITE_PERM)
def version_edit_view(request, version_id: int):
    """Edit the text of one's own draft or returned version."""
    version = selectors.access_version(request.user, version_id)
    if version.author_id != request.user.pk:
        raise PermissionDenied
    initial = {name: getattr(version, name) for name in VersionForm.base_fields}
    form = VersionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            version_edit(actor=request.user, version=version, **form.cleaned_data)
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Draft saved."))
            return redirect("consultation:kb-version", version_id=version.pk)
    return render(request, "consultation/kb/version_edit.html", {"form": form, "version": version})


def _transition(request, version_id: int, step, done: str):
    version = selectors.access_version(request.user, version_id)
    try:
        step(version)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("consultation:kb-version", version_id=version.pk)


@require_POST
@require_perm(WRITE_PERM)
def version_submit_view(request, version_id: int):
    return _transition(
        request,
        version_id,
        lambda v: version_submit(actor=request.user, version=v),
        _("Submitted for review."),
    )


@require_POST
@require_perm(APPROVE_PERM)
def version_approve_view(request, version_id: int):
    form = ApproveForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _transition(
        request,
        version_id,
        lambda v: version_approve(actor=request.user, version=v, note=note),
        _("Approved and published."),
    )


@require_POST
@require_perm(APPROVE_PERM)
def version_return_view(request, version_id: int):
    form = ReturnForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _transition(
        request,
        version_id,
        lambda v: version_return(actor=request.user, version=v, note=note),
        _("Returned to the author."),
    )


@require_POST
@require_perm(APPROVE_PERM)
def article_archive_view(request, article_id: int):
    article = selectors.access_article(request.user, article_id)
    try:
        article_archive(actor=request.user, article=article)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The article is withdrawn: staff no longer see it."))
    return redirect("consultation:kb-article", article_id=article.pk)


@require_POST
@require_perm(EDIT_ARTICLE_PERM)
def attachment_upload(request, article_id: int):
    article = selectors.access_article(request.user, article_id)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a file."))
    else:
        try:
            attachment_add(actor=request.user, article=article, upload=form.cleaned_data["file"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("File attached."))
    return redirect("consultation:kb-article", article_id=article.pk)


@require_POST
@require_perm(EDIT_ARTICLE_PERM)
def attachment_delete(request, attachment_id: int):
    attachment = selectors.access_attachment(request.user, attachment_id)
    attachment_remove(actor=request.user, attachment=attachment)
    messages.success(request, _("Attachment removed."))
    return redirect("consultation:kb-article", article_id=attachment.article_id)


# --- Review and history --------------------------------------------------------------------------


@require_GET
@require_perm(APPROVE_PERM)
def review_queue(request):
    """Versions waiting for this approver's decision."""
    return render(
        request,
        "consultation/kb/review_queue.html",
        {"versions": selectors.review_queue(request.user)},
    )


@require_GET
@require_perm(WRITE_PERM)
def history(request, article_id: int):
    """Every version of an article: who wrote it, who reviewed it, when, and the notes."""
    article = selectors.access_article(request.user, article_id)
    return render(
        request,
        "consultation/kb/history.html",
        {"article": article, "versions": selectors.article_history(article)},
    )


@require_GET
@require_perm(SEARCH_LOG_PERM)
def unanswered(request):
    """The questions staff searched for most that found no good answer, over a period."""
    form = PeriodForm(request.GET or None)
    days = form.cleaned_data["days"] if form.is_valid() else 30
    since = timezone.now() - dt.timedelta(days=days or 30)
    return render(
        request,
        "consultation/kb/unanswered.html",
        {"form": form, "questions": selectors.unanswered_questions(since=since), "days": days},
    )
