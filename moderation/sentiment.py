"""Sentiment backends: the shipped offline model (default) and any Hugging Face text-classification model.

``PARVIS_SENTIMENT_BACKEND`` = ``offline`` (default) or ``transformers``; ``PARVIS_SENTIMENT_MODEL`` = a model id
or local folder for the transformers backend (default ``cardiffnlp/twitter-xlm-roberta-base-sentiment``).
:func:`load_backend` never raises for a model that cannot be loaded: it logs one clear warning and returns the
offline backend, so ingest keeps scoring. Labels are always ``negative`` / ``neutral`` / ``positive``
(French display names in :data:`LABELS_FR`).
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
BACKENDS = ("offline", "transformers")


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
        """``offline-sentiment-<n>+<hash>`` from the model header."""
        return self.model.version

    def predict(self, texts: Sequence[str]) -> list[SentimentResult]:
        """Classify ``texts`` in one batch."""
        if not texts:
            return []
        model = self.model
        probs = model.predict_proba(texts)
        order = [model.labels.index(label) for label in LABELS]
        return results_from_probabilities(probs[:, order].tolist(), LABELS)


_warned: set[str] = set()


def load_backend(backend: str = "offline", model: str = "", *, batch_size: int = 32,
                 device: str | int | None = None) -> SentimentBackend:
    """The configured backend; a transformers model that cannot load falls back to offline (warned once)."""
    backend = (backend or "offline").strip().lower()
    if backend == "offline":
        return OfflineSentiment()
    if backend != "transformers":
        _warn_once(f"backend:{backend}", "unknown PARVIS_SENTIMENT_BACKEND %r (expected offline or transformers): "
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
