"""Crisis detector: are negative or risky mentions arriving much faster than usual?

The last hour's count of negative-or-risky mentions is compared with the usual hourly rate over the previous
``baseline_h`` hours (default a week). A crisis is on when the last hour has at least ``min_count`` such
mentions and more than ``multiple`` times the usual rate (``PARVIS_CRISIS_MULTIPLE``, default 3). The usual
rate has a floor of one a day, so that after a silent week a handful of messages is not yet a crisis.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_MULTIPLE = 3.0
DEFAULT_MIN_COUNT = 5
DEFAULT_BASELINE_H = 7 * 24
NEGATIVE_RISK_MIN = 0.5  # risk score from which a mention counts, whatever its sentiment


@dataclass(frozen=True, slots=True, kw_only=True)
class CrisisStatus:
    """What the crisis banner shows."""

    active: bool
    last_hour: int
    usual_per_hour: float
    ratio: float
    multiple: float

    def message_fr(self) -> str:
        """The banner text in French."""
        return (f"Alerte : {self.last_hour} messages négatifs ou à risque dans la dernière heure, "
                f"soit {self.ratio:.1f} fois le rythme habituel ({self.usual_per_hour:.1f} par heure).")


def counts_as_negative(sentiment: str | None, risk_score: float) -> bool:
    """A mention counts towards a crisis if it is negative or its risk score is at least 0.5."""
    return sentiment == "negative" or risk_score >= NEGATIVE_RISK_MIN


def detect_crisis(times: Iterable[datetime], now: datetime, *, multiple: float = DEFAULT_MULTIPLE,
                  min_count: int = DEFAULT_MIN_COUNT, baseline_h: float = DEFAULT_BASELINE_H) -> CrisisStatus:
    """Compare the last hour of ``times`` (negative-or-risky mentions) with the usual hourly rate."""
    hour_ago = now - timedelta(hours=1)
    baseline_start = hour_ago - timedelta(hours=baseline_h)
    last_hour = baseline = 0
    for t in times:
        if hour_ago <= t <= now:
            last_hour += 1
        elif baseline_start <= t < hour_ago:
            baseline += 1
    usual = max(baseline / baseline_h, 1.0 / 24.0)
    ratio = last_hour / usual
    return CrisisStatus(active=last_hour >= min_count and ratio > multiple, last_hour=last_hour,
                        usual_per_hour=round(usual, 3), ratio=round(ratio, 2), multiple=multiple)
