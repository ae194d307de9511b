"""Priority of a mention in the inbox (0-100, higher first) and the periodic re-prioritisation.

``priority = 100 × min(1, 0.55·R + 0.15·S + 0.20·W + 0.10·A)`` where
- R = risk score (moderation/risk.py), in [0, 1];
- S = how negative it is: P(negative) from the sentiment model, in [0, 1];
- W = waiting pressure = min(waited / target, 2) / 2 — 0 on arrival, 0.5 at the response-time target
  (``PARVIS_RESPONSE_TARGET_H``, default 4 h), 1 at twice the target;
- A = author's reach = min(log10(1 + followers) / 6, 1) — 1 from a million followers.
Risk dominates on purpose: a threat or an urgent safety report outranks any benign message, however old.

Severe items — a flag ``threat``, ``self_harm`` or ``personal_data`` scored >= 0.5 — are lifted into the top band:
``priority = 90 + value / 10`` (90-100), so that a threat, a resident in distress or a phone number exposed in a
comment is not buried under a flood of reports of one known incident (a storm) in the inbox. The moderation queue
orders severe items first outright (core/repo/moderation_queue.py). Documented in docs/moderation.md and
docs/moderation-queue.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.models import OPEN_STATUSES, InboxItem

DEFAULT_TARGET_H = 4.0
SEVERE_KINDS = ("threat", "self_harm", "personal_data")  # same as core/repo/moderation_queue.SEVERE_KINDS
SEVERE_MIN_SCORE = 0.5
SEVERE_FLOOR = 90.0


def is_severe(flags: Iterable[dict[str, Any]]) -> bool:
    """Whether the flags hold a threat, self-harm or personal data scored >= SEVERE_MIN_SCORE."""
    return any(f.get("kind") in SEVERE_KINDS and float(f.get("score", 0) or 0) >= SEVERE_MIN_SCORE for f in flags)


@dataclass(frozen=True, slots=True, kw_only=True)
class PriorityWeights:
    """Weights of the four terms (they need not add up to 1; the result is capped at 100)."""

    risk: float = 0.55
    negativity: float = 0.15
    waiting: float = 0.20
    reach: float = 0.10


def waiting_pressure(created_at: datetime, now: datetime, target_h: float = DEFAULT_TARGET_H) -> float:
    """0 on arrival, 0.5 at the response-time target, 1 at twice the target (and after)."""
    waited_h = max(0.0, (now - created_at).total_seconds() / 3600)
    return min(waited_h / max(target_h, 1e-6), 2.0) / 2.0


def reach(followers: int | None) -> float:
    """``min(log10(1 + followers) / 6, 1)``; unknown reach counts as 0."""
    if not followers or followers < 0:
        return 0.0
    return min(math.log10(1 + followers) / 6.0, 1.0)


def negativity(label: str | None, confidence: float | None) -> float:
    """P(negative) recovered from a stored label and confidence (other classes share the remainder)."""
    if not label:
        return 0.0
    c = 0.0 if confidence is None else max(0.0, min(1.0, confidence))
    return c if label == "negative" else (1.0 - c) / 2.0


def priority(*, risk: float, p_negative: float, created_at: datetime, now: datetime, followers: int | None,
             target_h: float = DEFAULT_TARGET_H, weights: PriorityWeights = PriorityWeights(),
             severe: bool = False) -> float:
    """The formula of the module docstring, rounded to 0.01 (``severe``: lifted into the 90-100 band)."""
    value = (weights.risk * risk + weights.negativity * p_negative
             + weights.waiting * waiting_pressure(created_at, now, target_h) + weights.reach * reach(followers))
    out = 100.0 * min(1.0, max(0.0, value))
    if severe:
        out = SEVERE_FLOOR + out * (100.0 - SEVERE_FLOOR) / 100.0
    return round(out, 2)


def reprioritize(items: Iterable[InboxItem], now: datetime, *, target_h: float = DEFAULT_TARGET_H,
                 weights: PriorityWeights = PriorityWeights(), min_change: float = 0.5) -> list[tuple[str, float]]:
    """New priorities of open items whose waiting time moved them by at least ``min_change``.

    The worker calls this periodically and stores the result (``core.repo.update_priorities``), so messages
    rise in the inbox as they approach and pass the response-time target. Closed items are skipped.
    """
    changed = []
    for item in items:
        if item.status not in OPEN_STATUSES:
            continue
        value = priority(risk=item.risk_score, p_negative=negativity(item.sentiment, item.sentiment_confidence),
                         created_at=item.mention.created_at, now=now, followers=item.mention.author.followers,
                         target_h=target_h, weights=weights, severe=is_severe(item.risk_flags))
        if abs(value - item.priority) >= min_change:
            changed.append((item.uid, value))
    return changed
