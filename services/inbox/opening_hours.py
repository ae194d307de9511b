"""Opening-hours calendar: weekly hours, French public holidays, exceptions; business time between two instants.

Response times are counted in the hours the city promised, not in wall-clock time: a message sent on Friday at
17:00 and answered on Monday at 10:00 waited 2 business hours with the default ``lun-ven 09:00-18:00``.
Every computation happens on aware datetimes: each day's opening intervals are placed in Europe/Paris wall time
and converted to UTC, so a day with a daylight-saving change is counted with its real length.

Settings (see docs/dashboard.md): ``PARVIS_OPENING_HOURS`` (``"lun-ven 08:30-12:00,13:30-17:30; sam 09:00-12:00"``,
or ``"24/7"``), ``PARVIS_OPENING_EXCEPTIONS`` (``"2026-12-24 08:30-12:00; 2026-08-14 fermé"``),
``PARVIS_HOLIDAYS`` (``fr`` default, ``fr-alsace-moselle``/``fr-57``/``fr-67``/``fr-68``, the overseas
departments ``fr-971``...``fr-976``, ``none``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from core.clock import PARIS
from core.errors import ConfigError
from core.settings_schema import InboxSettings

Span = tuple[int, int]  # minutes since local midnight: [start, end), end <= 1440 (24:00)
DEFAULT_HOURS = "lun-ven 09:00-18:00"
_DAYS = {"lun": 0, "mon": 0, "mar": 1, "tue": 1, "mer": 2, "wed": 2, "jeu": 3, "thu": 3, "ven": 4, "fri": 4,
         "sam": 5, "sat": 5, "dim": 6, "sun": 6}
_CLOSED = {"fermé", "ferme", "closed", "-"}
_RANGE = re.compile(r"^(\d{1,2})[:h](\d{2})-(\d{1,2})[:h](\d{2})$")


# PARVIS_HOLIDAYS → the ``holidays`` package's subdivision of France (None: the national days only). Alsace-Moselle
# (57, and 67/68 as the Collectivité européenne d'Alsace « 6AE ») adds Good Friday and St Stephen's Day; the overseas
# departments add their abolition-of-slavery day.
HOLIDAY_REGIONS: dict[str, str | None] = {
    "fr": None, "fr-alsace-moselle": "57", "fr-57": "57", "fr-67": "6AE", "fr-68": "6AE", "fr-971": "971",
    "fr-972": "972", "fr-973": "973", "fr-974": "974", "fr-976": "976"}


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (``dateutil``, which the ``holidays`` package builds on)."""
    from dateutil.easter import easter

    return easter(year)


@lru_cache(maxsize=64)
def french_holidays(year: int, region: str = "fr") -> dict[date, str]:
    """Public holidays (jours fériés) of France for ``year``, in French, from the ``holidays`` package (maintained
    upstream: law changes, overseas days) rather than a hand-written list; ``region`` is a key of
    :data:`HOLIDAY_REGIONS`."""
    import holidays  # the package's first use costs ~0.15 s: loaded when a calendar is first needed

    days = holidays.France(years=year, subdiv=HOLIDAY_REGIONS[region], language="fr")
    return dict(sorted(days.items()))


def _parse_spans(text: str, where: str) -> tuple[Span, ...]:
    text = text.strip().lower()
    if text in _CLOSED:
        return ()
    spans = []
    for part in text.split(","):
        match = _RANGE.match(part.strip())
        if not match:
            raise ConfigError(f"{where}: cannot read hours {part.strip()!r} (expected e.g. 08:30-12:00)")
        h1, m1, h2, m2 = (int(x) for x in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if not (0 <= start < end <= 1440) or m1 > 59 or m2 > 59:
            raise ConfigError(f"{where}: invalid hours {part.strip()!r} (start before end, at most 24:00)")
        spans.append((start, end))
    spans.sort()
    for (_, e1), (s2, _) in zip(spans, spans[1:], strict=False):
        if s2 < e1:
            raise ConfigError(f"{where}: overlapping hours in {text!r}")
    return tuple(spans)


def _day_indexes(token: str, where: str) -> list[int]:
    token = token.strip().lower()
    if "-" in token:
        first, last = (t.strip()[:3] for t in token.split("-", 1))
        if first not in _DAYS or last not in _DAYS:
            raise ConfigError(f"{where}: unknown days {token!r} (use lun, mar, mer, jeu, ven, sam, dim)")
        a, b = _DAYS[first], _DAYS[last]
        return list(range(a, b + 1)) if a <= b else [*range(a, 7), *range(0, b + 1)]
    out = []
    for name in token.split("+"):
        key = name.strip()[:3]
        if key not in _DAYS:
            raise ConfigError(f"{where}: unknown day {name!r} (use lun, mar, mer, jeu, ven, sam, dim)")
        out.append(_DAYS[key])
    return out


def parse_weekly(spec: str) -> tuple[tuple[Span, ...], ...]:
    """``"lun-ven 08:30-12:00,13:30-17:30; sam 09:00-12:00"`` (or ``"24/7"``) -> 7 tuples of spans, Monday first."""
    if spec.strip().lower() in ("24/7", "toujours", "always"):
        return tuple(((0, 1440),) for _ in range(7))
    week: list[tuple[Span, ...]] = [() for _ in range(7)]
    for chunk in filter(None, (c.strip() for c in spec.split(";"))):
        days, _, hours = chunk.partition(" ")
        for index in _day_indexes(days, InboxSettings.key("opening_hours")):
            week[index] = _parse_spans(hours, InboxSettings.key("opening_hours"))
    return tuple(week)


def parse_exceptions(spec: str) -> dict[date, tuple[Span, ...]]:
    """``"2026-12-24 08:30-12:00; 2026-08-14 fermé"`` -> {date: spans} (an empty tuple means closed)."""
    out: dict[date, tuple[Span, ...]] = {}
    for chunk in filter(None, (c.strip() for c in spec.split(";"))):
        day_text, _, hours = chunk.partition(" ")
        try:
            day = date.fromisoformat(day_text.strip())
        except ValueError as err:
            raise ConfigError(f"{InboxSettings.key('opening_exceptions')}: bad date {day_text!r} "
                              "(expected YYYY-MM-DD)") from err
        out[day] = _parse_spans(hours or "fermé", InboxSettings.key("opening_exceptions"))
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class OpeningHours:
    """When the team is expected to answer: weekly spans, public holidays (closed) and dated exceptions."""

    weekly: tuple[tuple[Span, ...], ...] = field(default_factory=lambda: parse_weekly(DEFAULT_HOURS))
    exceptions: Mapping[date, tuple[Span, ...]] = field(default_factory=dict)
    holidays: str = "fr"  # a key of HOLIDAY_REGIONS, or none
    tz: ZoneInfo = PARIS

    @classmethod
    def parse(cls, hours: str = DEFAULT_HOURS, exceptions: str = "", holidays: str = "fr") -> OpeningHours:
        """Build from the text settings (ConfigError on a typo, naming the setting)."""
        if holidays != "none" and holidays not in HOLIDAY_REGIONS:
            raise ConfigError(f"{InboxSettings.key('holidays')} must be none or one of {', '.join(HOLIDAY_REGIONS)}, "
                              f"got {holidays!r}")
        return cls(weekly=parse_weekly(hours), exceptions=parse_exceptions(exceptions), holidays=holidays)

    @classmethod
    def from_settings(cls, settings: Any) -> OpeningHours:
        """From ``PARVIS_OPENING_HOURS``, ``PARVIS_OPENING_EXCEPTIONS`` and ``PARVIS_HOLIDAYS``."""
        inbox = settings.inbox
        return cls.parse(inbox.opening_hours, inbox.opening_exceptions, inbox.holidays)

    def holiday(self, day: date) -> str | None:
        """The public holiday's name on ``day``, if any (None when holidays are disabled)."""
        if self.holidays == "none":
            return None
        return french_holidays(day.year, self.holidays).get(day)

    def spans_on(self, day: date) -> tuple[Span, ...]:
        """Opening spans of a local calendar day: an exception wins, then a holiday (closed), then the week."""
        if day in self.exceptions:
            return self.exceptions[day]
        if self.holiday(day):
            return ()
        return self.weekly[day.weekday()]

    def _instant(self, day: date, minute: int) -> datetime:
        extra, minute = divmod(minute, 1440)
        local = datetime.combine(day + timedelta(days=extra), time(minute // 60, minute % 60), tzinfo=self.tz)
        return local.astimezone(UTC)

    def open_intervals(self, first: date, last: date) -> Iterator[tuple[datetime, datetime]]:
        """Opening intervals (aware UTC) of local days ``first``..``last`` inclusive, in order."""
        day = first
        while day <= last:
            for start, end in self.spans_on(day):
                yield self._instant(day, start), self._instant(day, end)
            day += timedelta(days=1)

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Opening-hours seconds between two aware instants (0 if ``end`` is before ``start``)."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("business_seconds needs timezone-aware datetimes")
        if end <= start:
            return 0.0
        first = start.astimezone(self.tz).date() - timedelta(days=1)
        last = end.astimezone(self.tz).date()
        total = 0.0
        for a, b in self.open_intervals(first, last):
            lo, hi = max(a, start), min(b, end)
            if hi > lo:
                total += (hi - lo).total_seconds()
        return total

    def clock(self, start: datetime, end: datetime) -> BusinessClock:
        """A vectorised business clock valid for instants between ``start`` and ``end``."""
        first = start.astimezone(self.tz).date() - timedelta(days=1)
        last = end.astimezone(self.tz).date() + timedelta(days=1)
        return BusinessClock([(a.timestamp(), b.timestamp()) for a, b in self.open_intervals(first, last)])


class BusinessClock:
    """Cumulative opening seconds over precomputed intervals: elapsed(a, b) for many pairs at once (numpy)."""

    def __init__(self, intervals: Sequence[tuple[float, float]]) -> None:
        import numpy as np

        self._np = np
        self.starts = np.array([a for a, _ in intervals] or [0.0], dtype=float)
        self.ends = np.array([b for _, b in intervals] or [0.0], dtype=float)
        lengths = self.ends - self.starts
        self.before = np.concatenate(([0.0], np.cumsum(lengths)[:-1]))

    def cumulative(self, epochs: Iterable[float]) -> Any:
        """Opening seconds from the clock's origin to each epoch second."""
        np = self._np
        t = np.asarray(epochs, dtype=float)
        i = np.searchsorted(self.starts, t, side="right") - 1
        inside = np.clip(t - self.starts[np.maximum(i, 0)], 0, (self.ends - self.starts)[np.maximum(i, 0)])
        return np.where(i < 0, 0.0, self.before[np.maximum(i, 0)] + inside)

    def elapsed(self, starts: Iterable[float], ends: Iterable[float]) -> Any:
        """Opening seconds between each pair of epoch seconds (0 where end precedes start)."""
        return self._np.maximum(self.cumulative(ends) - self.cumulative(starts), 0.0)
