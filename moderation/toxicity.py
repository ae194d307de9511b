"""The compact toxicity classifier (trained on MLMA French tweets) that backs the ``insult`` risk flag.

Same linear model as the offline sentiment (moderation/sentiment_model.py) with two classes. Its probability is
re-centred so that the decision threshold chosen by cross-validation on the training split maps to 0.5:
``p' = σ(logit(p) − logit(threshold))``; 0.5 is then the "toxic" line everywhere (flags, eval, queue).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

from moderation.lexicon import STRONG, RiskLexicon
from moderation.sentiment_model import MODEL_DIR, LinearTextModel
from moderation.text import fold_with_offsets

DEFAULT_TOXICITY_PATH = MODEL_DIR / "toxicity_offline.npz"
_WORD = re.compile(r"[a-z0-9]+")


LEXICON_KINDS = ("insult", "hate", "threat")


def lexicon_features(text: str, lexicon: RiskLexicon) -> tuple[float, ...]:
    """log(1 + count) of strong, then weak, risk-lexicon hits for insult, hate and threat (6 features)."""
    hits = lexicon.scan_kinds(text, LEXICON_KINDS)
    strong = [sum(1 for h in hits.get(k, []) if h.strength == STRONG) for k in LEXICON_KINDS]
    weak = [sum(1 for h in hits.get(k, []) if h.strength != STRONG) for k in LEXICON_KINDS]
    return tuple(math.log1p(c) for c in strong + weak)


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


class ToxicityModel:
    """Scores texts for toxicity and points at the words that weigh most towards it."""

    def __init__(self, path: Path = DEFAULT_TOXICITY_PATH, lexicon: RiskLexicon | None = None) -> None:
        self.path = path
        self.lexicon = lexicon
        self._model: LinearTextModel | None = None

    @property
    def model(self) -> LinearTextModel:
        """The loaded model (read on first use)."""
        if self._model is None:
            model = LinearTextModel.load(self.path)
            lexicon = self.lexicon or RiskLexicon.load()
            model.extra_fn = lambda text: lexicon_features(text, lexicon)
            self._model = model
        return self._model

    @property
    def threshold(self) -> float:
        """Raw probability above which a text counts as toxic (from the model header)."""
        return float(self.model.meta.get("threshold", 0.5))

    @property
    def version(self) -> str:
        """Model version from its header."""
        return self.model.version

    def probabilities(self, texts: Sequence[str]) -> list[float]:
        """Calibrated probability of toxicity per text (0.5 = the decision line)."""
        if not texts:
            return []
        model = self.model
        column = list(model.labels).index("toxic")
        raw = model.predict_proba(texts)[:, column]
        shift = _logit(self.threshold)
        return [1.0 / (1.0 + math.exp(-(_logit(float(p)) - shift))) for p in raw]

    def predict_scores(self, texts: Sequence[str]) -> list[tuple[float, tuple[tuple[int, int], ...]]]:
        """``(probability, spans of the most toxic-weighted words)`` per text."""
        probs = self.probabilities(texts)
        return [(p, self.trigger_spans(t) if p >= 0.5 else ()) for t, p in zip(texts, probs, strict=True)]

    def trigger_spans(self, text: str, top: int = 3) -> tuple[tuple[int, int], ...]:
        """Spans of the (at most ``top``) words whose own weight pushes most towards "toxic"."""
        model = self.model
        column = list(model.labels).index("toxic")
        other = 1 - column
        folded, index = fold_with_offsets(text)
        scored = []
        for m in _WORD.finditer(folded):
            i = model.word_vocab.get("w:" + m.group(0))
            if i is None:
                continue
            weight = float(model.word_w[i, column] - model.word_w[i, other])
            if weight > 0.5:
                scored.append((weight, index[m.start()], index[m.end() - 1] + 1))
        scored.sort(reverse=True)
        return tuple(sorted((s, e) for _, s, e in scored[:top]))
