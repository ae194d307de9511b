"""Dashboard metrics computed from storage rows: response-time percentiles in opening hours, crisis periods.

Percentiles use linear interpolation between closest ranks (numpy's default): the median of 1 h and 3 h is 2 h.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from core.repo.stats import ResponseRow

NEGATIVE = "negative"
UNKNOWN = "unknown"
_SENTIMENTS = {"negative": NEGATIVE, "neg": NEGATIVE, "négatif": NEGATIVE, "negatif": NEGATIVE,
               "positive": "positive", "pos": "positive", "positif": "positive",
               "neutral": "neutral", "neu": "neutral", "neutre": "neutral", "": UNKNOWN}
AGE_BUCKETS: tuple[tuple[str, float], ...] = (("< 4 h", 4), ("4-24 h", 24), ("1-3 j", 72), ("3-7 j", 168),
                                              ("> 7 j", math.inf))
UNASSIGNED = "Non attribué"


def sentiment_key(label: str | None) -> str:
    """Normalise a stored sentiment label to positive / neutral / negative / unknown (others kept, lowercased)."""
    text = (label or "").strip().lower()
    return _SENTIMENTS.get(text, text)


def _stats(business_h: Any, wall_h: Any, target_h: float) -> dict[str, Any]:
    import numpy as np

    n = int(len(business_h))
    if not n:
        return {"answered": 0, "median_h": None, "p90_h": None, "within_target": None, "median_wall_h": None}
    return {"answered": n,
            "median_h": round(float(np.percentile(business_h, 50)), 2),
            "p90_h": round(float(np.percentile(business_h, 90)), 2),
            "within_target": round(float(np.mean(business_h <= target_h)), 4),
            "median_wall_h": round(float(np.percentile(wall_h, 50)), 2)}


def response_summary(rows: Sequence[ResponseRow], config: Any, agents: Mapping[int, str]) -> dict[str, Any]:
    """First-response time in opening hours (median, p90, share within target): overall, per channel, per agent."""
    import numpy as np

    if not rows:
        return {"overall": _stats([], [], config.target_h), "by_channel": [], "by_agent": []}
    created = np.array([r[0] for r in rows], dtype=float)
    responded = np.array([r[1] for r in rows], dtype=float)
    clock = config.hours.clock(datetime.fromtimestamp(float(created.min()), UTC),
                               datetime.fromtimestamp(float(max(responded.max(), created.max())), UTC))
    business_h = clock.elapsed(created, responded) / 3600
    wall_h = np.maximum(responded - created, 0) / 3600
    channels = np.array([r[2] for r in rows], dtype=object)
    responders = np.array([-1 if r[4] is None else r[4] for r in rows], dtype=np.int64)
    by_channel = []
    for channel in sorted(set(channels.tolist())):
        mask = channels == channel
        by_channel.append({"channel": channel, **_stats(business_h[mask], wall_h[mask], config.target_h)})
    by_agent = []
    for agent_id in sorted(set(responders.tolist())):
        mask = responders == agent_id
        name = agents.get(agent_id, f"Agent {agent_id}") if agent_id >= 0 else UNASSIGNED
        by_agent.append({"agent_id": agent_id if agent_id >= 0 else None, "agent": name,
                         **_stats(business_h[mask], wall_h[mask], config.target_h)})
    by_agent.sort(key=lambda r: (r["agent_id"] is None, r["agent"]))
    return {"overall": _stats(business_h, wall_h, config.target_h), "by_channel": by_channel, "by_agent": by_agent}


def _hour(key: str) -> datetime:
    return datetime.strptime(key, "%Y-%m-%dT%H").replace(tzinfo=UTC)


def crisis_periods(alerts_by_hour: Mapping[str, int], *, since: datetime, until: datetime, multiple: float,
                   min_alerts: int) -> list[dict[str, Any]]:
    """Hours whose alerts (negative or flagged mentions) reach ``multiple`` x the window's usual hourly rate
    and at least ``min_alerts``, merged into periods (a single quiet hour inside a crisis does not split it)."""
    hours = max(1.0, (until - since).total_seconds() / 3600)
    usual = sum(alerts_by_hour.values()) / hours
    threshold = max(multiple * usual, float(min_alerts))
    hot = sorted(k for k, v in alerts_by_hour.items() if v >= threshold and v > 0)
    periods: list[list[str]] = []
    for key in hot:
        if periods and _hour(key) - _hour(periods[-1][-1]) <= timedelta(hours=2):
            periods[-1].append(key)
        else:
            periods.append([key])
    out = []
    for keys in periods:
        peak = max(keys, key=lambda k: alerts_by_hour[k])
        out.append({"start": _hour(keys[0]), "end": _hour(keys[-1]) + timedelta(hours=1), "hours": len(keys),
                    "alerts": sum(alerts_by_hour[k] for k in keys), "peak_at": _hour(peak),
                    "peak_alerts": alerts_by_hour[peak], "usual_per_hour": round(usual, 2),
                    "threshold": round(threshold, 2)})
    return out
