"""The compact toxicity classifier (trained on MLMA French tweets) that backs the ``insult`` risk flag.

Same linear model as the offline sentiment (moderation/sentiment_model.py) with two classes, plus seven
caller-computed features (:func:`toxicity_features`): risk-lexicon hit counts and how many @handles and links
the message carries. Texts are first written the way the training tweets were (:func:`normalise`: lowercase, links and
@handles as ``@url`` / ``@user``), so that a city's mentions reach the model in the form it learnt from. Why:
docs/decisions/0011-toxicity-model.md. Its probability is re-centred so that the decision threshold chosen by
cross-validation on the training split maps to 0.5: ``p' = σ(logit(p) − logit(threshold))``; 0.5 is then the
"toxic" line everywhere (flags, eval, queue).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from moderation.lexicon import STRONG, RiskLexicon
from moderation.sentiment_model import MODEL_DIR, LinearTextModel
from moderation.text import HANDLE, URL, fold_with_offsets

DEFAULT_TOXICITY_PATH = MODEL_DIR / "toxicity_offline.npz"
_WORD = re.compile(r"[a-z0-9]+")
USER, LINK = "@user", "@url"  # MLMA's placeholders for a handle and a link
EXTRA_V1 = "risk_lexicon_counts_v1"  # model 1: 6 lexicon counts on the raw text
EXTRA_V2 = "normalised+risk_lexicon_counts_v1+handles_links_v1"  # model 2: normalised text, 6 counts + 1


LEXICON_KINDS = ("insult", "hate", "threat")


def lexicon_features(text: str, lexicon: RiskLexicon) -> tuple[float, ...]:
    """log(1 + count) of strong, then weak, risk-lexicon hits for insult, hate and threat (6 features)."""
    hits = lexicon.scan_kinds(text, LEXICON_KINDS)
    strong = [sum(1 for h in hits.get(k, []) if h.strength == STRONG) for k in LEXICON_KINDS]
    weak = [sum(1 for h in hits.get(k, []) if h.strength != STRONG) for k in LEXICON_KINDS]
    return tuple(math.log1p(c) for c in strong + weak)


def normalise(text: str) -> str:
    """The text as the training tweets are written: links -> ``@url``, @handles -> ``@user``, lowercase."""
    return HANDLE.sub(lambda m: m.group(0) if m.group(0).lower() == LINK else USER, URL.sub(LINK, text)).lower()


def handles_and_links(text: str) -> float:
    """log(1 + number of @handles and links) of a normalised text (both are ``@…`` tokens there)."""
    return math.log1p(len(HANDLE.findall(text)))


def toxicity_features(text: str, lexicon: RiskLexicon) -> tuple[float, ...]:
    """The model's caller-computed features of a normalised text: lexicon counts, then handles and links (7)."""
    return (*lexicon_features(text, lexicon), handles_and_links(text))


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
            if self._v1(model):  # a model trained before normalisation and the handles feature
                model.extra_fn = lambda text: lexicon_features(text, lexicon)
            else:
                model.extra_fn = lambda text: toxicity_features(text, lexicon)
            self._model = model
        return self._model

    @staticmethod
    def _v1(model: LinearTextModel) -> bool:
        return model.meta.get("extra", EXTRA_V1) == EXTRA_V1

    @property
    def threshold(self) -> float:
        """Raw probability above which a text counts as toxic (from the model header)."""
        return float(self.model.meta.get("threshold", 0.5))

    @property
    def version(self) -> str:
        """``offline-toxicity-<n>+<data digest>[-fb<n>]+<file digest>``: the header's version, which digests the
        training data, and the digest of the file's bytes, so that a rebuild is never taken for the model it
        replaced (decision 0325). Stored with each score as ``risk_model_version``."""
        return self.model.file_version

    def raw_probabilities(self, texts: Sequence[str]) -> Any:
        """The classifier's probability of toxicity per text, before re-centring on the threshold."""
        model = self.model
        column = list(model.labels).index("toxic")
        return model.predict_proba(list(texts) if self._v1(model) else [normalise(t) for t in texts])[:, column]

    def probabilities(self, texts: Sequence[str]) -> list[float]:
        """Calibrated probability of toxicity per text (0.5 = the decision line)."""
        if not texts:
            return []
        raw = self.raw_probabilities(texts)
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
