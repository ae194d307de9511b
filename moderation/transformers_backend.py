"""Hugging Face transformers sentiment backend (imported only when configured: transformers and torch are heavy).

Any text-classification model id or local folder works. Labels come from the model's own ``config.id2label`` and
are mapped onto negative / neutral / positive: names such as ``Negative``/``neg``/``LABEL_0`` (three-label models
are read in the usual negative, neutral, positive order), and star ratings (1-2 stars negative, 3 neutral, 4-5
positive). Probabilities of labels mapped to the same class are added. Runs on the GPU when torch sees one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from moderation.sentiment import SentimentResult, results_from_probabilities
from moderation.sentiment_model import LABELS

log = logging.getLogger(__name__)
DEFAULT_MODEL = "cardiffnlp/twitter-xlm-roberta-base-sentiment"
_NAMES = {"negative": "negative", "neg": "negative", "negatif": "negative", "négatif": "negative",
          "neutral": "neutral", "neu": "neutral", "neutre": "neutral", "positive": "positive", "pos": "positive",
          "positif": "positive"}


def map_labels(id2label: dict[int, str]) -> dict[int, str]:
    """Map a model's ``id2label`` onto :data:`LABELS`; ValueError if a label cannot be placed."""
    n = len(id2label)
    out: dict[int, str] = {}
    for i, raw in id2label.items():
        name = str(raw).strip().lower()
        stars = re.match(r"^(\d)\s*stars?$", name)
        generic = re.match(r"^label_(\d+)$", name)
        if name in _NAMES:
            out[int(i)] = _NAMES[name]
        elif stars:
            k = int(stars.group(1))
            out[int(i)] = "negative" if k <= 2 else "neutral" if k == 3 else "positive"
        elif generic and n == 3:
            out[int(i)] = LABELS[int(generic.group(1))]
        elif generic and n == 2:
            out[int(i)] = ("negative", "positive")[int(generic.group(1))]
        else:
            raise ValueError(f"cannot map model label {raw!r} to negative/neutral/positive")
    return out


def pick_device(device: str | int | None = None) -> Any:
    """``device`` if given, else CUDA device 0 when available, else the CPU."""
    if device is not None:
        return device
    import torch

    return 0 if torch.cuda.is_available() else "cpu"


class TransformersSentiment:
    """A transformers ``text-classification`` pipeline, batched, returning :class:`SentimentResult`."""

    name = "transformers"

    def __init__(self, model: str, *, batch_size: int = 32, device: str | int | None = None,
                 max_length: int = 128) -> None:
        from transformers import pipeline

        self.model_name = model
        self.batch_size = batch_size
        self.max_length = max_length
        self.pipeline = pipeline("text-classification", model=model, device=pick_device(device))
        config = self.pipeline.model.config
        if config.id2label is None:
            raise ValueError(f"{model}: the model's configuration has no id2label")
        id2label = {int(i): str(name) for i, name in config.id2label.items()}
        self.label_map = map_labels(id2label)
        self._by_name = {id2label[i]: label for i, label in self.label_map.items()}
        self._version = f"transformers:{model}"

    @property
    def version(self) -> str:
        """``transformers:<model id or folder>``."""
        return self._version

    def raw(self, texts: Sequence[str]) -> list[Any]:
        """The pipeline's own output (every label's score), batched."""
        return list(self.pipeline(list(texts), batch_size=self.batch_size, truncation=True,
                                  max_length=self.max_length, top_k=None))

    def predict(self, texts: Sequence[str]) -> list[SentimentResult]:
        """Classify ``texts`` (empty strings are classified like any text)."""
        if not texts:
            return []
        rows = []
        for scores in self.raw(texts):
            probs = dict.fromkeys(LABELS, 0.0)
            for item in scores:
                probs[self._by_name[item["label"]]] += float(item["score"])
            rows.append([probs[label] for label in LABELS])
        return results_from_probabilities(rows, LABELS)
