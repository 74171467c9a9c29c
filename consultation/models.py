"""Consultations, the knowledge base and the assistant.

- A `Consultation` records what a customer asked, which articles answered it and what came of it
  (the outcome hands the customer on to processing, care or complaints).
- The knowledge base: an `Article` has versions; a version is written, reviewed by someone else,
  approved and published; staff read only the published version. `SearchTerm` is the search
  index of published versions (words and Chinese character bigrams; see search.py).
- The assistant learns from `TrainingExample`s and the published articles; a trained model is an
  `AssistantModel` row, so every web process and worker loads the same one.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bankservice.branches.scope import ScopedQuerySet
from bankservice.core.language import in_language

# --- Knowledge base ------------------------------------------------------------------------------


class Category(models.Model):
    """A subject of the knowledge base; consultations are tagged with the same ones (topics)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=80)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return in_language(self.name_zh, self.name_en)


class ArticleKind(models.TextChoices):
    QA = "qa", _("Question and answer")
    PRODUCT_SHEET = "product", _("Product sheet")
    PROCEDURE = "procedure", _("Procedure")


class Article(models.Model):
    """A knowledge article: what stays the same across its versions.

    `published` points at the version staff read (None until one is approved); the counters are
    bumped with F() expressions so concurrent readers never lose a count.
    """

    kind = models.CharField(
        _("kind"), max_length=10, choices=ArticleKind.choices, default=ArticleKind.QA
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="articles", verbose_name=_("category")
    )
    products = models.ManyToManyField(
        "customers.Product", blank=True, related_name="articles", verbose_name=_("products")
    )
    tags = models.JSONField(_("tags"), default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_articles",
        verbose_name=_("owner"),
    )
    review_due = models.DateField(_("review by"))
    published = models.OneToOneField(
        "ArticleVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="published_of",
        verbose_name=_("published version"),
    )
    is_archived = models.BooleanField(_("archived"), default=False)
    # The owner was told the review date passed (once per review date; cleared on a new one).
    expiry_notified_on = models.DateField(null=True, blank=True)
    view_count = models.PositiveIntegerField(_("views"), default=0)
    use_count = models.PositiveIntegerField(_("used in consultations"), default=0)
    helpful_count = models.PositiveIntegerField(_("helpful"), default=0)
    not_helpful_count = models.PositiveIntegerField(_("not helpful"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-updated_at", "id"]
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge articles")
        indexes = [
            models.Index(fields=["review_due"], name="article_review_due_idx"),
            models.Index(fields=["category", "is_archived"], name="article_category_idx"),
        ]

    def __str__(self) -> str:
        return self.published.title if self.published_id else f"#{self.pk}"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    RETURNED = "returned", _("Returned for changes")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ArticleVersion(models.Model):
    """One version of an article's text, in Chinese, English or both.

    draft → in review → published (approved by someone other than the author) or returned → draft
    again. Publishing supersedes the previous published version; nothing is ever deleted, so the
    history of what staff were told, and when, is kept.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    body_zh = models.TextField(_("text (Chinese)"), blank=True)
    body_en = models.TextField(_("text (English)"), blank=True)
    change_note = models.CharField(_("what changed"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="authored_article_versions",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviewed_article_versions",
        verbose_name=_("reviewer"),
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=500, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    class Meta:
        ordering = ["article", "-number"]
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        permissions = [("approve_articleversion", _("Can review and publish article versions"))]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="articleversion_unique"),
            models.CheckConstraint(
                condition=~Q(title_zh="") | ~Q(title_en=""), name="articleversion_has_title"
            ),
            # Four eyes: whoever reviewed a version did not write it.
            models.CheckConstraint(
                condition=Q(reviewer__isnull=True) | ~Q(reviewer=models.F("author")),
                name="articleversion_reviewer_not_author",
            ),
        ]
        indexes = [models.Index(fields=["status", "submitted_at"], name="articleversion_queue_idx")]

    def __str__(self) -> str:
        return f"{self.title} (v{self.number})"

    @property
    def title(self) -> str:
        return in_language(self.title_zh, self.title_en)

    @property
    def body(self) -> str:
        return in_language(self.body_zh, self.body_en)


def attachment_path(instance: "ArticleAttachment", filename: str) -> str:
    # A random name: the original is kept in `name`, never used as a path.
    return f"kb/{instance.article_id}/{secrets.token_hex(8)}"


class ArticleAttachment(models.Model):
    """A file that goes with an article (a rate sheet, a form, a brochure)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    is_removed = models.BooleanField(default=False)

    class Meta:
        ordering = ["article", "name"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name


class SearchTerm(models.Model):
    """The search index: the terms of each article's published version with their weight.

    Rebuilt for an article when a version is published or the article archived; terms are
    lower-case words (English, digits) and overlapping character bigrams of Chinese text.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="terms")
    term = models.CharField(max_length=40)
    weight = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["term", "article"], name="searchterm_unique"),
        ]
        indexes = [
            # Ranking reads (term, article, weight) of every posting of the query's terms: with
            # the weight in the index it never visits the table (about 40% faster at 20,000
            # articles, bench/kb_search.py).
            models.Index(fields=["term", "article", "weight"], name="searchterm_ranking_idx"),
        ]

    def __str__(self) -> str:
        return self.term


class ArticleFeedback(models.Model):
    """ "Was this helpful?": one answer per person and version (a second click changes it)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    version = models.ForeignKey(ArticleVersion, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    helpful = models.BooleanField()
    comment = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "user"], name="articlefeedback_once"),
        ]

    def __str__(self) -> str:
        return f"{self.article_id}: {self.helpful}"


class SearchLog(models.Model):
    """A search staff ran (or the assistant answered), for the "asked but not answered" list."""

    query = models.CharField(max_length=200)
    # Lower-case with the spacing collapsed: the same question typed twice counts twice.
    normalized = models.CharField(max_length=200, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    branch = models.ForeignKey(
        "branches.Branch", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=10, default="search")
    result_count = models.PositiveIntegerField()
    top_score = models.FloatField(default=0)
    opened_article = models.ForeignKey(
        Article, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.query


# --- Consultations -------------------------------------------------------------------------------


class Channel(models.TextChoices):
    COUNTER = "counter", _("At the counter")
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Online chat")
    VIDEO = "video", _("Video")


class Outcome(models.TextChoices):
    ANSWERED = "answered", _("Answered")
    PROCESSING = "processing", _("Referred to processing")
    FOLLOW_UP = "follow_up", _("Follow-up needed")
    COMPLAINT = "complaint", _("Complaint raised")
    ADVISOR = "advisor", _("Referred to another advisor")


class ConsultationStatus(models.TextChoices):
    OPEN = "open", _("In progress")
    CLOSED = "closed", _("Closed")


class HandoffStatus(models.TextChoices):
    """The next step an outcome asks for: created by the other stage's service, or waiting for
    that stage to be installed (then created when it is: nothing is lost)."""

    NONE = "none", _("None needed")
    PENDING = "pending", _("Waiting")
    DONE = "done", _("Created")
    FAILED = "failed", _("Failed")


class Consultation(models.Model):
    """A customer's question and what came of it, linked to the visit and ticket it came from."""

    branch = models.ForeignKey(
        "branches.Branch", on_delete=models.PROTECT, related_name="consultations"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consultations",
        verbose_name=_("customer"),
    )
    # Anonymous: a contact instead of a customer record (masked like a customer's).
    contact_name = models.CharField(_("name"), max_length=80, blank=True)
    contact_phone = models.CharField(_("phone"), max_length=20, blank=True)
    contact_email = models.EmailField(_("e-mail"), blank=True)
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="consultations",
        verbose_name=_("advisor"),
    )
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, default=Channel.COUNTER
    )
    # The journey: wait (ticket, visit) → consultation → outcome.
    visit = models.ForeignKey(
        "reception.Visit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consultations",
    )
    ticket = models.ForeignKey(
        "reception.Ticket",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consultations",
    )
    question = models.TextField(_("what the customer asked"), blank=True)
    topics = models.ManyToManyField(
        Category, blank=True, related_name="consultations", verbose_name=_("topics")
    )
    products = models.ManyToManyField(
        "customers.Product", blank=True, related_name="consultations", verbose_name=_("products")
    )
    articles = models.ManyToManyField(
        Article, blank=True, related_name="consultations", verbose_name=_("articles used")
    )
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=ConsultationStatus.choices,
        default=ConsultationStatus.OPEN,
    )
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    outcome_note = models.CharField(_("outcome note"), max_length=500, blank=True)
    referred_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referred_consultations",
        verbose_name=_("referred to"),
    )
    handoff_status = models.CharField(
        max_length=8, choices=HandoffStatus.choices, default=HandoffStatus.NONE
    )
    # What the hand-off created: "<app>.<model>:<pk>" (e.g. "care.callback:12").
    handoff_ref = models.CharField(max_length=60, blank=True)
    handoff_error = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    # Bumped by every change of what was asked and answered; an edit made from an older copy
    # (the advisor and a branch manager both editing) is refused (optimistic check).
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = ScopedQuerySet.as_manager()
    scope_branch_field = "branch_id"

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", outcome="", ended_at__isnull=True)
                | (Q(status="closed", ended_at__isnull=False) & ~Q(outcome="")),
                name="consultation_closed_has_outcome",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="consultation_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["branch", "-started_at"], name="consultation_branch_idx"),
            models.Index(fields=["advisor", "status"], name="consultation_advisor_idx"),
            models.Index(
                fields=["handoff_status"],
                condition=Q(handoff_status="pending"),
                name="consultation_handoff_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_channel_display()}"


# --- Assistant -----------------------------------------------------------------------------------


class Intent(models.Model):
    """What a customer's question is about, and where the assistant routes it.

    A label of the training examples. `service_code` names the reception service (by code, the
    same at every branch) a customer with this need should queue for.
    """

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)
    service_code = models.SlugField(_("service to route to"), max_length=30, blank=True)
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="intents"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("intent")
        verbose_name_plural = _("intents")

    def __str__(self) -> str:
        return in_language(self.name_zh, self.name_en) or self.code


class TrainingExample(models.Model):
    """A labelled question the assistant learns from (imported by `assistant_train`)."""

    text = models.TextField()
    label = models.SlugField(max_length=60, db_index=True)
    source = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["text", "label"], name="trainingexample_unique")
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.text[:40]}"


class AssistantModel(models.Model):
    """A trained assistant; the newest active row answers suggestions."""

    backend = models.CharField(max_length=30)
    created_at = models.DateTimeField(auto_now_add=True)
    example_count = models.PositiveIntegerField()
    label_count = models.PositiveIntegerField()
    metrics = models.JSONField(default=dict, blank=True)
    blob = models.BinaryField()
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = "created_at"

    def __str__(self) -> str:
        return f"{self.backend} {self.created_at:%Y-%m-%d %H:%M}"
