"""The assistant: import labelled examples, train a model, suggest an intent, a queue and articles.

Labels are intent codes or reception service codes. A label that names an `Intent` routes to the
intent's `service_code`; any other label is itself the service code. Either way the queue is the
active service of that code at the asking person's branch, read through reception's selectors.

Training data: the imported `TrainingExample`s, plus the titles (Chinese and English) of the
published knowledge articles, each as an example of the intent mapped to the article's category.
A title is a question the bank has already written down the answer to ("How do I report a lost
card?"), so it teaches the model the bank's own words. A category mapped to several intents says
nothing about which one, so its articles teach nothing. Article bodies are left out: long texts
about one thing would outweigh the short questions customers ask.

Every process keeps the active model in memory (loading and unpickling costs milliseconds to a
second). A version in the shared cache names the newest model's id; a suggestion reads it (one
cache round trip) and loads the model again only when it changed, so a model trained in any
process answers everywhere at once. A cold cache costs one query to read the newest id.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bankservice.branches.scope import ALL_BRANCHES, branch_ids_for, has_perm
from bankservice.core.errors import BadInput
from bankservice.events.services import record
from consultation.kb.search import SearchHit, search_articles
from consultation.kb.services import search_log_record
from consultation.models import Article, AssistantModel, Intent, TrainingExample
from reception.selectors import service_type_list

from . import engine

SUGGEST_PERM = "consultation.view_article"
TRAIN_PERM = "consultation.add_assistantmodel"
IMPORT_PERM = "consultation.add_trainingexample"
MAX_QUESTION_LENGTH = 500
MAX_LABEL_LENGTH = 60
ARTICLE_COUNT = 3
VERSION_KEY = "consultation:assistant:model"
SERVICE_PERM = "reception.view_servicetype"
NOT_YOUR_BRANCH = gettext_lazy("Not one of your branches.")


def _require(actor, perm: str) -> None:
    # actor None: the system (a management command run by whoever runs the server).
    if actor is not None and not has_perm(actor, perm):
        raise PermissionDenied(_("Your role does not allow this."))


# --- Labelled examples -----------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    text: str
    label: str


def examples_from_csv(data: bytes | str) -> list[Example]:
    """Parse a labelled CSV (header `text,label`, any other columns ignored). Raises BadInput
    naming the line of the first problem: a file that is not UTF-8 text, missing columns, an
    empty text or label, a label that is not a code (letters, digits, - and _)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadInput(_("The file is not UTF-8 text."), field="file") from exc
    try:
        reader = csv.DictReader(io.StringIO(data, newline=""), strict=True)
        columns = [c.strip().lower() for c in reader.fieldnames or []]
        missing = [c for c in ("text", "label") if c not in columns]
        if missing:
            raise BadInput(
                _("The file needs the columns text and label; missing: %(columns)s.")
                % {"columns": ", ".join(missing)},
                field="file",
            )
        reader.fieldnames = columns
        examples = []
        for row in reader:
            examples.append(_example(row, reader.line_num))
    except csv.Error as exc:
        raise BadInput(
            _("Line %(line)s is not valid CSV: %(error)s")
            % {"line": reader.line_num, "error": exc},
            field="file",
        ) from exc
    if not examples:
        raise BadInput(_("The file has no examples."), field="file")
    return examples


def _example(row: dict, line: int) -> Example:
    if None in row:  # more cells than columns: an unquoted comma
        raise BadInput(
            _("Line %(line)s has more cells than columns; quote texts that contain commas.")
            % {"line": line},
            field="file",
        )
    text = " ".join((row.get("text") or "").split())
    label = (row.get("label") or "").strip().lower()
    if not text:
        raise BadInput(_("Line %(line)s has no text.") % {"line": line}, field="file")
    if not label:
        raise BadInput(_("Line %(line)s has no label.") % {"line": line}, field="file")
    if len(label) > MAX_LABEL_LENGTH or not all(
        c.isascii() and (c.isalnum() or c in "-_") for c in label
    ):
        raise BadInput(
            _("Line %(line)s: the label %(label)s is not a code (letters, digits, - and _).")
            % {"line": line, "label": label[:MAX_LABEL_LENGTH]},
            field="file",
        )
    if len(text) > MAX_QUESTION_LENGTH:
        raise BadInput(
            _("Line %(line)s: the text is longer than %(max)s characters.")
            % {"line": line, "max": MAX_QUESTION_LENGTH},
            field="file",
        )
    return Example(text=text, label=label)


def training_examples_import(*, actor, examples: Iterable[Example], source: str = "") -> int:
    """Store labelled examples, skipping any already stored (same text and label); returns how
    many were new."""
    _require(actor, IMPORT_PERM)
    unique = {(e.text, e.label): e for e in examples}
    with transaction.atomic():
        existing = set(
            TrainingExample.objects.filter(text__in={t for t, _label in unique}).values_list(
                "text", "label"
            )
        )
        new = [
            TrainingExample(text=e.text, label=e.label, source=source[:60])
            for key, e in unique.items()
            if key not in existing
        ]
        TrainingExample.objects.bulk_create(new, ignore_conflicts=True)
        record(
            type="consultation.assistant_examples_imported",
            actor=actor,
            payload={"new": len(new), "given": len(unique), "source": source[:60]},
        )
    return len(new)


def _article_examples() -> list[Example]:
    """The published articles' titles as examples of the one intent mapped to their category."""
    intents_of: dict[int, list[str]] = {}
    for code, category_id in Intent.objects.filter(category__isnull=False).values_list(
        "code", "category_id"
    ):
        intents_of.setdefault(category_id, []).append(code)
    single = {cat: codes[0] for cat, codes in intents_of.items() if len(codes) == 1}
    rows = Article.objects.filter(
        published__isnull=False, is_archived=False, category_id__in=single
    ).values_list("category_id", "published__title_zh", "published__title_en")
    return [
        Example(text=title, label=single[category_id])
        for category_id, *titles in rows
        for title in titles
        if title
    ]


def assistant_train(
    *,
    actor,
    backend: str = engine.DEFAULT_BACKEND,
    progress: Callable[[str], None] | None = None,
) -> AssistantModel:
    """Train a model on every stored example and the published articles; the new model answers
    suggestions in every process from the commit on (older ones are kept, inactive)."""
    _require(actor, TRAIN_PERM)
    say = progress or (lambda _message: None)
    examples = [Example(t, lb) for t, lb in TrainingExample.objects.values_list("text", "label")]
    from_articles = _article_examples()
    examples += from_articles
    labels = sorted({e.label for e in examples})
    if len(labels) < 2:
        raise BadInput(
            _("Training needs examples of at least two labels; import some first."),
            field="examples",
        )
    say(
        _("Training on %(examples)s examples (%(articles)s from articles), %(labels)s labels…")
        % {"examples": len(examples), "articles": len(from_articles), "labels": len(labels)}
    )
    model = engine.new_backend(backend)
    started = time.perf_counter()
    model.fit([e.text for e in examples], [e.label for e in examples])
    seconds = round(time.perf_counter() - started, 2)
    say(_("Trained in %(seconds)s s.") % {"seconds": seconds})
    blob = engine.dumps(model)
    with transaction.atomic():
        AssistantModel.objects.filter(is_active=True).update(is_active=False)
        row = AssistantModel.objects.create(
            backend=model.name,
            example_count=len(examples),
            label_count=len(labels),
            metrics={"train_seconds": seconds, "article_examples": len(from_articles)},
            blob=blob,
        )
        record(
            type="consultation.assistant_trained",
            actor=actor,
            subject=row,
            payload={
                "backend": row.backend,
                "examples": row.example_count,
                "labels": row.label_count,
                "train_seconds": seconds,
            },
        )
        transaction.on_commit(lambda: cache.set(VERSION_KEY, row.pk, timeout=None))
    return row


# --- The model in memory -----------------------------------------------------------------------


class _Loaded:
    """This process's model: (AssistantModel id, the backend), replaced as one pair."""

    state: tuple[int | None, engine.Backend | None] = (None, None)


_loaded = _Loaded()


def _newest_model_id() -> int | None:
    model_id = cache.get(VERSION_KEY)
    if model_id is None:
        model_id = (
            AssistantModel.objects.filter(is_active=True)
            .order_by("-created_at", "-id")
            .values_list("id", flat=True)
            .first()
        )
        if model_id is not None:
            cache.add(VERSION_KEY, model_id, timeout=None)
    return model_id


def active_model() -> tuple[int | None, engine.Backend | None]:
    """The newest trained model (id, backend), loaded once per process and on each new one."""
    model_id = _newest_model_id()
    loaded_id, backend = _loaded.state
    if model_id != loaded_id:
        blob = (
            AssistantModel.objects.filter(pk=model_id).values_list("blob", flat=True).first()
            if model_id is not None
            else None
        )
        backend = engine.loads(blob) if blob is not None else None
        _loaded.state = (model_id, backend)
    return _loaded.state


# --- Suggestions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    """What the assistant suggests for one question. `label` is None when it is unsure."""

    question: str
    label: str | None
    confidence: float
    intent: Intent | None
    service_code: str
    service_type: object | None  # reception's ServiceType at the branch, when there is one
    articles: list[SearchHit] = field(default_factory=list)
    alternatives: list[engine.Ranked] = field(default_factory=list)
    model_id: int | None = None
    log_id: int | None = None  # the SearchLog row: opening an article from here is noted on it

    @property
    def unsure(self) -> bool:
        return self.label is None

    @property
    def confidence_percent(self) -> int:
        return round(self.confidence * 100)


def suggest_branch(*, principal, branch_id: int | None):
    """The branch a suggestion routes at: the one asked for (it must be one of the principal's
    branches), else the principal's only branch, else None (no queue, only the service code)."""
    ids = branch_ids_for(principal, SUGGEST_PERM)
    if branch_id is not None:
        if ids is not ALL_BRANCHES and branch_id not in ids:
            raise BadInput(str(NOT_YOUR_BRANCH), field="branch")
        return branch_id
    if ids is not ALL_BRANCHES and len(ids) == 1:
        return next(iter(ids))
    return None


def _service_type(principal, branch_id: int | None, code: str):
    if branch_id is None or not code:
        return None
    return (
        service_type_list(principal=principal, perm=SERVICE_PERM)
        .filter(branch_id=branch_id, code=code, is_active=True)
        .first()
    )


def _articles(question: str, category: str | None) -> list[SearchHit]:
    """The best articles for the question; those of the suggested intent's category first."""
    hits = search_articles(question, limit=ARTICLE_COUNT * 3)
    if category:
        hits.sort(key=lambda hit: (hit.category != category, -hit.score))
    return hits[:ARTICLE_COUNT]


def clean_question(text) -> str:
    question = " ".join(str(text or "").split())
    if not question:
        raise BadInput(_("Type the customer's question."), field="text")
    if len(question) > MAX_QUESTION_LENGTH:
        raise BadInput(
            _("Keep the question under %(max)s characters.") % {"max": MAX_QUESTION_LENGTH},
            field="text",
        )
    return question


def assistant_suggest(*, principal, text: str, branch_id: int | None = None) -> Suggestion:
    """Suggest an intent (with a confidence), the queue at the branch and articles for a
    customer's question; unsure (no intent, no queue) below ASSISTANT_MIN_CONFIDENCE. The
    question is logged (source "assistant") for the KB owners' "asked but not answered" list."""
    if not has_perm(principal, SUGGEST_PERM):
        raise PermissionDenied(_("Your role does not allow this."))
    question = clean_question(text)
    branch_id = suggest_branch(principal=principal, branch_id=branch_id)
    model_id, backend = active_model()
    ranked = backend.rank([question], top=3)[0] if backend is not None else []
    best = ranked[0] if ranked else None
    label = best.label if best and best.probability >= settings.ASSISTANT_MIN_CONFIDENCE else None
    intent = Intent.objects.select_related("category").filter(code=label).first() if label else None
    service_code = (intent.service_code if intent else label) or ""
    category = intent.category.code if intent and intent.category else None
    articles = _articles(question, category)
    log = search_log_record(
        query=question,
        user=None if getattr(principal, "is_api_client", False) else principal,
        hits=articles,
        source="assistant",
    )
    return Suggestion(
        question=question,
        label=label,
        confidence=best.probability if best else 0.0,
        intent=intent,
        service_code=service_code,
        service_type=_service_type(principal, branch_id, service_code),
        articles=articles,
        alternatives=ranked,
        model_id=model_id,
        log_id=log.pk,
    )
