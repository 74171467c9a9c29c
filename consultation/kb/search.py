"""Knowledge-base search: one inverted index that works the same on SQLite and PostgreSQL.

Chinese has no spaces, so text is cut into overlapping character bigrams ("外汇额度" → 外汇, 汇额,
额度); Latin text into lower-case words with a light plural folding. `SearchTerm` holds each
published article's terms with a BM25 term weight (title terms count more than body terms). A
query is cut the same way; every query token is a *group* (an English word not in the vocabulary
widens to the vocabulary words within edit distance 1, or 2 for long words). One SQL statement
sums weight × idf per article and counts the groups it covers; the score multiplies the
saturated sum by the square of the covered fraction, so an article holding the whole phrase
ranks above one that repeats a single word of it.
"""

from __future__ import annotations

import math
import re
import unicodedata
import uuid
from collections import Counter
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, Count, F, FloatField, IntegerField, Sum, Value, When
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from rapidfuzz import process
from rapidfuzz.distance import OSA

from consultation.models import Article, SearchTerm

# BM25 constants. The average length is fixed instead of measured so that indexing one article
# never rewrites the weights of the others (articles are of similar length: a page or two).
K1 = 1.2
B = 0.75
AVERAGE_LENGTH = 120
TITLE_WEIGHT = 3
# A typo correction counts less than the word as typed.
EXPANSION_WEIGHT = 0.7
MAX_EXPANSIONS = 4
# score = covered² × raw / (raw + SATURATION): one rare title word scores about 0.7.
SATURATION = 3.0
MAX_QUERY_TERMS = 40
TERM_LENGTH = 40

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[a-z0-9]+|[{_CJK}]+")
_LATIN = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "my",
        "of",
        "on",
        "or",
        "the",
        "to",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    ]
)


def normalize(text: str) -> str:
    """Full-width forms folded, lower case, spacing collapsed (also the SearchLog key)."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def fold_word(word: str) -> str:
    """Light English plural folding: cards → card, policies → policy, address stays."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _tokens(text: str) -> list[tuple[str, int, int]]:
    """(term, start, end) in `text` (already normalized): words, bigrams and lone characters."""
    out = []
    for match in _TOKEN.finditer(text):
        run, start = match.group(), match.start()
        if _LATIN.fullmatch(run):
            if run not in STOPWORDS:
                out.append((fold_word(run)[:TERM_LENGTH], start, match.end()))
        elif len(run) == 1:
            out.append((run, start, start + 1))
        else:
            out.extend((run[i : i + 2], start + i, start + i + 2) for i in range(len(run) - 1))
    return out


def tokenize(text: str) -> list[str]:
    """The index terms of a text, in order, with repeats."""
    return [term for term, _start, _end in _tokens(normalize(text))]


def is_latin(term: str) -> bool:
    return bool(_LATIN.fullmatch(term))


# --- Index ---------------------------------------------------------------------------------------


def _weights(title: str, body: str) -> dict[str, float]:
    counts: Counter[str] = Counter()
    for term in tokenize(title):
        counts[term] += TITLE_WEIGHT
    for term in tokenize(body):
        counts[term] += 1
    length = sum(counts.values()) or 1
    norm = K1 * (1 - B + B * length / AVERAGE_LENGTH)
    return {term: tf * (K1 + 1) / (tf + norm) for term, tf in counts.items()}


def _terms(article: Article) -> list[SearchTerm]:
    version = article.published if article.published_id else None
    if version is None or article.is_archived:
        return []
    weights = _weights(
        f"{version.title_zh} {version.title_en}", f"{version.body_zh}\n{version.body_en}"
    )
    return [SearchTerm(article=article, term=t, weight=w) for t, w in weights.items()]


def index_article(article: Article) -> None:
    """Rebuild the article's terms from its published version (none if archived or unpublished)."""
    SearchTerm.objects.filter(article=article).delete()
    SearchTerm.objects.bulk_create(_terms(article))
    index_changed()


def index_rebuild(*, batch: int = 500, progress=None) -> int:
    """Rebuild the whole index (after a change of the tokeniser); `progress(done, total)` is
    called after each batch. Returns the number of terms written."""
    ids = list(Article.objects.order_by("pk").values_list("pk", flat=True))
    written = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        with transaction.atomic():
            SearchTerm.objects.filter(article_id__in=chunk).delete()
            articles = Article.objects.select_related("published").filter(pk__in=chunk)
            terms = [term for article in articles for term in _terms(article)]
            SearchTerm.objects.bulk_create(terms, batch_size=5000)
        written += len(terms)
        if progress:
            progress(min(start + batch, len(ids)), len(ids))
    index_changed()
    return written


# --- What each process keeps: the vocabulary and document frequencies ---------------------------

INDEX_VERSION_KEY = "kb:index:version"
# The vocabulary of a version is shared through the cache: built once (after the commit that
# changed the index), not once per process.
VOCABULARY_TIMEOUT = 24 * 3600
MAX_KEPT_FREQUENCIES = 50_000


class _IndexState:
    """The vocabulary (distinct Latin terms) and the document frequencies this process has read,
    all under one index version; replaced whole when the version changes."""

    def __init__(self, version: str, words: tuple[str, ...]):
        self.version = version
        self.words = words
        self.word_set = frozenset(words)
        self.frequencies: dict[str, int] = {}
        self.total: int | None = None


class _Process:
    state: _IndexState | None = None


def _vocabulary_key(version: str) -> str:
    return f"kb:vocabulary:{version}"


def _load_words() -> tuple[str, ...]:
    terms = SearchTerm.objects.values_list("term", flat=True).distinct()
    return tuple(sorted(t for t in terms.iterator(chunk_size=5000) if is_latin(t)))


def _share_new_version() -> None:
    version = uuid.uuid4().hex
    cache.set(_vocabulary_key(version), _load_words(), timeout=VOCABULARY_TIMEOUT)
    cache.set(INDEX_VERSION_KEY, version, timeout=None)


def index_changed() -> None:
    """Every process forgets what it read of the index: at once (this transaction sees its own
    change), and after commit under a version whose vocabulary is built and shared (another
    process may have read the old rows in between)."""
    cache.set(INDEX_VERSION_KEY, uuid.uuid4().hex, timeout=None)
    transaction.on_commit(_share_new_version)


def _index_state() -> _IndexState:
    version = cache.get(INDEX_VERSION_KEY)
    if version is None:
        cache.add(INDEX_VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(INDEX_VERSION_KEY)
    state = _Process.state
    if state is None or state.version != version:
        words = cache.get(_vocabulary_key(version))
        if words is None:
            words = _load_words()
            cache.set(_vocabulary_key(version), words, timeout=VOCABULARY_TIMEOUT)
        state = _Process.state = _IndexState(version, words)
    return state


def _document_frequencies(state: _IndexState, terms: set[str]) -> dict[str, int]:
    """How many articles hold each term (terms no article holds left out); read once a version."""
    missing = [t for t in terms if t not in state.frequencies]
    if missing:
        if len(state.frequencies) > MAX_KEPT_FREQUENCIES:
            state.frequencies.clear()
        found = dict(
            SearchTerm.objects.filter(term__in=missing)
            .values("term")
            .annotate(df=Count("id"))
            .values_list("term", "df")
        )
        state.frequencies.update({t: found.get(t, 0) for t in missing})
    return {t: df for t in terms if (df := state.frequencies.get(t, 0))}


def _article_total(state: _IndexState) -> int:
    if state.total is None:
        state.total = Article.objects.filter(published__isnull=False, is_archived=False).count()
    return state.total or 1


def _corrections(state: _IndexState, word: str) -> list[str]:
    """Vocabulary words within edit distance 1 (2 from eight letters on; a swap of two
    neighbours counts 1), nearest first."""
    if word in state.word_set or len(word) < 4 or word.isdigit():
        return []
    limit = 2 if len(word) >= 8 else 1
    found = process.extract(
        word, state.words, scorer=OSA.distance, score_cutoff=limit, limit=MAX_EXPANSIONS
    )
    return [choice for choice, _distance, _index in sorted(found, key=lambda f: (f[1], f[0]))]


# --- Query ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    """One ranked result: the title in the active language and a highlighted snippet."""

    article_id: int
    title: str
    snippet: SafeString
    score: float
    category: str
    kind: str = ""


@dataclass(frozen=True)
class _Query:
    groups: tuple[tuple[str, ...], ...]  # per query token: the term and its corrections

    @property
    def terms(self) -> set[str]:
        return {term for group in self.groups for term in group}


def parse_query(query: str, state: _IndexState) -> _Query:
    """Query tokens in order, each with its typo corrections; duplicates dropped."""
    groups, seen = [], set()
    for term in tokenize(query)[:MAX_QUERY_TERMS]:
        if term in seen:
            continue
        seen.add(term)
        groups.append((term, *_corrections(state, term)) if is_latin(term) else (term,))
    return _Query(groups=tuple(groups))


def search_articles(
    query: str,
    *,
    category: str | None = None,
    product: str | None = None,
    limit: int = 10,
) -> list[SearchHit]:
    """Published, non-archived articles matching `query`, best first (two queries, and up to
    two more for what this process has not read yet under the current index version)."""
    state = _index_state()
    parsed = parse_query(query, state)
    if not parsed.groups:
        return []
    frequencies = _document_frequencies(state, parsed.terms)
    # Groups no article holds at all (a bigram across two words of a sentence, a word nobody
    # wrote) say nothing about which article fits: they do not count against coverage.
    groups = [g for g in parsed.groups if any(t in frequencies for t in g)]
    if not groups:
        return []
    total = _article_total(state)
    term_idf, term_group = {}, {}
    for index, group in enumerate(groups):
        for position, term in enumerate(group):
            if term not in frequencies or term in term_group:
                continue
            df = frequencies[term]
            idf = math.log(1 + (total - df + 0.5) / (df + 0.5))
            term_idf[term] = idf * (1 if position == 0 else EXPANSION_WEIGHT)
            term_group[term] = index

    # The index holds published, non-archived articles only (index_article keeps it so): no join.
    rows = SearchTerm.objects.filter(term__in=term_idf)
    if category:
        rows = rows.filter(article__category__code=category)
    if product:
        rows = rows.filter(article__in=Article.objects.filter(products__code=product).values("pk"))
    idf_of = Case(
        *(When(term=t, then=Value(idf)) for t, idf in term_idf.items()), output_field=FloatField()
    )
    group_of = Case(
        *(When(term=t, then=Value(g)) for t, g in term_group.items()), output_field=IntegerField()
    )
    size = float(len(groups))
    ranked = (
        rows.values("article_id")
        .annotate(raw=Sum(F("weight") * idf_of), covered=Count(group_of, distinct=True))
        .annotate(
            rank=F("covered")
            * F("covered")
            * F("raw")
            / ((F("raw") + Value(SATURATION)) * Value(size * size)),
        )
        .order_by("-rank", "article_id")[:limit]
    )
    scores = {row["article_id"]: row["rank"] for row in ranked}
    if not scores:
        return []
    articles = Article.objects.select_related("published", "category").in_bulk(list(scores))
    matched = set(term_idf)
    return [
        SearchHit(
            article_id=article.pk,
            title=article.published.title,
            snippet=snippet(article.published, matched),
            score=round(min(1.0, max(0.0, scores[article.pk])), 4),
            category=article.category.code,
            kind=article.kind,
        )
        for article in (articles[pk] for pk in scores if pk in articles)
    ]


# --- Snippets ------------------------------------------------------------------------------------

SNIPPET_LENGTH = 160


def _fold_chars(text: str) -> str:
    """normalize() character by character, so positions in the result are positions in `text`."""
    out = []
    for char in text:
        folded = unicodedata.normalize("NFKC", char).lower()
        out.append(folded if len(folded) == 1 else char)
    return "".join(out)


def _spans(text: str, terms: set[str]) -> list[tuple[int, int]]:
    """Merged character spans of `text` whose terms are in `terms`."""
    spans: list[tuple[int, int]] = []
    for term, start, end in _tokens(_fold_chars(text)):
        if term in terms:
            if spans and start <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
            else:
                spans.append((start, end))
    return spans


def highlight(text: str, spans: list[tuple[int, int]], start: int, end: int) -> SafeString:
    """text[start:end], escaped, with the spans inside wrapped in <mark>."""
    out, cursor = [], start
    for s, e in spans:
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        out.append(escape(text[cursor:s]))
        out.append(f"<mark>{escape(text[s:e])}</mark>")
        cursor = e
    out.append(escape(text[cursor:end]))
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return mark_safe(prefix + "".join(out) + suffix)  # noqa: S308 - every piece escaped above


def snippet(version, terms: set[str]) -> SafeString:
    """A window of the body around its densest matches, in the active language when it has any."""
    english_first = (get_language() or "").startswith("en")
    bodies = (
        [version.body_en, version.body_zh] if english_first else [version.body_zh, version.body_en]
    )
    bodies = [b for b in bodies if b]
    if not bodies:
        return mark_safe("")
    for body in bodies:
        spans = _spans(body, terms)
        if spans:
            break
    else:
        body, spans = bodies[0], []
    if len(body) <= SNIPPET_LENGTH:
        return highlight(body, spans, 0, len(body))
    # The window starting at the span that has the most matched characters after it.
    best, best_start = -1, 0
    for s, _e in spans:
        covered = sum(
            min(e2, s + SNIPPET_LENGTH) - s2 for s2, e2 in spans if s <= s2 < s + SNIPPET_LENGTH
        )
        if covered > best:
            best, best_start = covered, s
    start = max(0, best_start - SNIPPET_LENGTH // 4)
    end = min(len(body), start + SNIPPET_LENGTH)
    start = max(0, end - SNIPPET_LENGTH)
    return highlight(body, spans, start, end)
