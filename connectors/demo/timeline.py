"""When things happen in the demo city: activity by hour and weekday, storms, guaranteed rare events.

Simulated time is cut into 10-minute slots; everything about a slot derives from ``mix(seed, ...)`` of its
number, never from the wall clock, so any window of time is generated the same way whoever asks first.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache

from connectors.demo.data import texts
from core.clock import PARIS

SLOT_S = 600
DAY_S = 86_400
SLOTS_PER_DAY = DAY_S // SLOT_S
MAX_SPAN_S = 36 * 3600  # a conversation never lasts longer than this after its first message
LOOKBACK_SLOTS = MAX_SPAN_S // SLOT_S + 2  # a slot's conversations end before this many slots later

ROOTS_PER_DAY = (15.0, 15.0, 14.0, 15.0, 15.0, 11.0, 9.0)  # new conversations, Monday..Sunday
_WEEKDAY_HOURS = (0.15, 0.08, 0.05, 0.04, 0.05, 0.12, 0.4, 0.85, 1.2, 1.3, 1.25, 1.2,
                  1.4, 1.5, 1.2, 1.1, 1.1, 1.3, 1.6, 1.7, 1.6, 1.3, 0.9, 0.45)
_WEEKEND_HOURS = (0.3, 0.2, 0.12, 0.08, 0.05, 0.05, 0.12, 0.3, 0.7, 1.1, 1.4, 1.5,
                  1.3, 1.2, 1.2, 1.3, 1.3, 1.3, 1.4, 1.5, 1.5, 1.3, 1.0, 0.6)

STORM_EPOCH_DAYS = 24  # storms 19 to 29 days apart: every 30-day window holds one whole storm peak
STORM_PEAK_S = 5 * 3600
STORM_PEAK_PER_HOUR = 14.0
STORM_AFTER_S = 26 * 3600
# Rare categories guaranteed once per epoch of N days (on top of their random background rate).
SPECIALS: dict[str, int] = {"menace": 10, "urgence": 7, "donnees_perso": 5, "spam": 4, "insulte_maire": 5}


# When the city publishes (Paris time): (hour, minute) -> (platform, chance on weekdays, chance on weekends).
CITY_POST_TIMES: dict[tuple[int, int], tuple[str, float, float]] = {
    (10, 30): ("facebook", 0.75, 0.4), (17, 30): ("facebook", 0.3, 0.3), (11, 0): ("x", 0.55, 0.3),
    (16, 0): ("x", 0.25, 0.25)}
STORM_ALERT_BEFORE_S = 6 * 3600  # the city's storm alert, before the wind rises
STORM_POINT_AFTER_S = 2 * 3600  # its "point de situation", during the storm


def mix(seed: int, *parts: object) -> int:
    """A stable 64-bit number from the seed and ``parts`` (no use of Python's randomised ``hash``)."""
    data = "|".join(map(str, (seed, *parts))).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


@dataclass(frozen=True, slots=True)
class Storm:
    """A named storm: a burst of messages during ``[start, end)`` and an aftermath until ``after_end``."""

    name: str
    start: int
    end: int
    after_end: int


@dataclass(frozen=True, slots=True)
class Moment:
    """One 10-minute slot of simulated time, seen from Valmont (Europe/Paris)."""

    slot: int
    ts: int
    dow: int
    hour: int
    minute: int
    month: int
    storm: Storm
    phase: str  # "" | "peak" | "after"


@lru_cache(maxsize=64)
def storm_of_epoch(seed: int, epoch: int) -> Storm:
    """The storm of a 24-day epoch: on its 5th to 10th day, starting between 11:00 and 15:50 UTC."""
    h = mix(seed, "storm", epoch)
    day = epoch * STORM_EPOCH_DAYS + 4 + h % 6
    start = day * DAY_S + (11 + (h >> 8) % 5) * 3600 + ((h >> 16) % 6) * SLOT_S
    names = texts().city["storms"]
    return Storm(name=names[(epoch + seed) % len(names)], start=start, end=start + STORM_PEAK_S,
                 after_end=start + STORM_PEAK_S + STORM_AFTER_S)


def moment(seed: int, slot: int) -> Moment:
    """Calendar facts about ``slot``."""
    ts = slot * SLOT_S
    local = datetime.fromtimestamp(ts, PARIS)
    storm = storm_of_epoch(seed, ts // DAY_S // STORM_EPOCH_DAYS)
    phase = "peak" if storm.start <= ts < storm.end else "after" if storm.end <= ts < storm.after_end else ""
    return Moment(slot=slot, ts=ts, dow=local.weekday(), hour=local.hour, minute=local.minute, month=local.month,
                  storm=storm, phase=phase)


def root_rate(m: Moment) -> float:
    """Expected number of ordinary new conversations in this slot."""
    hours = _WEEKDAY_HOURS if m.dow < 5 else _WEEKEND_HOURS
    return ROOTS_PER_DAY[m.dow] * hours[m.hour] / sum(hours) / 6.0


def city_may_post(m: Moment) -> bool:
    """Whether the city might publish during this slot (its usual hours, or the storm's alert times)."""
    alerts = (m.storm.start - STORM_ALERT_BEFORE_S, m.storm.start + STORM_POINT_AFTER_S)
    return (m.hour, m.minute) in CITY_POST_TIMES or any(m.ts <= t < m.ts + SLOT_S for t in alerts)


def storm_rate(m: Moment) -> float:
    """Expected number of extra storm messages in this slot."""
    if m.phase == "peak":
        return STORM_PEAK_PER_HOUR / 6.0
    if m.phase == "after":
        return 1.6 * _WEEKDAY_HOURS[m.hour] / 6.0
    return 0.0


def _multiplier(cat: str, dow: int, hour: int, month: int) -> float:
    weekend, night = dow >= 5, hour >= 22 or hour < 5
    if cat == "cantine":
        school = 0.05 if month in (7, 8) else 1.0
        return school * (1.6 if dow in (0, 1, 3, 4) else 0.5 if dow == 2 else 0.1)
    if cat == "horaires":
        return 1.4 if weekend else 1.0
    if cat == "evenements":
        return (1.4 if weekend else 1.0) * (1.6 if month == 12 else 1.4 if month == 6 else 1.0)
    if cat == "eclairage":
        return (1.5 if month in (10, 11, 12, 1, 2) else 0.8) * (1.8 if hour >= 17 or hour < 2 else 0.8)
    if cat in ("insulte_maire", "menace"):
        return 3.0 if night else 1.0
    if cat == "demarches":
        return 0.5 if weekend else 1.3
    if cat == "presse":
        return 0.1 if night else 0.2 if weekend else 1.0
    return 1.0


@cache
def category_table(dow: int, hour: int, month: int) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Categories of new conversations and their cumulative weights at that time."""
    names, cum, total = [], [], 0.0
    for name, cat in texts().categories.items():
        w = cat.weight * _multiplier(name, dow, hour, month)
        if w > 0:
            total += w
            names.append(name)
            cum.append(total)
    return tuple(names), tuple(cum)


def pick_category(rng: random.Random, m: Moment) -> str:
    """A category for a new conversation at moment ``m``."""
    names, cum = category_table(m.dow, m.hour, m.month)
    return names[bisect.bisect_right(cum, rng.random() * cum[-1])]


@lru_cache(maxsize=1024)
def _special_slot(seed: int, cat: str, epoch: int) -> int:
    days = SPECIALS[cat]
    return epoch * days * SLOTS_PER_DAY + mix(seed, "special", cat, epoch) % (days * SLOTS_PER_DAY)


def specials(seed: int, slot: int) -> list[str]:
    """Rare categories whose guaranteed occurrence falls in ``slot``."""
    return [cat for cat, days in SPECIALS.items()
            if _special_slot(seed, cat, slot // (days * SLOTS_PER_DAY)) == slot]


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson-distributed count (Knuth; fine for the small rates used here)."""
    if lam <= 0:
        return 0
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def poisson_positive(rng: random.Random, lam: float) -> int:
    """A Poisson count conditioned on being at least 1."""
    if lam > 0.5:
        while True:
            k = poisson(rng, lam)
            if k:
                return k
    k, term, total, u = 1, lam, 0.0, rng.random() * -math.expm1(-lam)  # invert the CDF of k >= 1
    term *= math.exp(-lam)
    while True:
        total += term
        if u <= total or k >= 50:
            return k
        k += 1
        term *= lam / k


def geometric(rng: random.Random, mean: float, cap: int = 40) -> int:
    """A count >= 0 with the given mean (geometric distribution), at most ``cap``."""
    if mean <= 0:
        return 0
    q, k = mean / (1.0 + mean), 0
    while k < cap and rng.random() < q:
        k += 1
    return k


def slot_of(dt: datetime) -> int:
    """The slot containing an aware datetime."""
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime {dt!r}: the demo generator needs timezone-aware times")
    return math.floor(dt.timestamp()) // SLOT_S


def utc(ts: float) -> datetime:
    """An aware UTC datetime from epoch seconds."""
    return datetime.fromtimestamp(ts, UTC)
