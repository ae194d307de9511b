"""Europe/Paris wall-clock times for the calendar, stored as UTC, correct across daylight-saving changes.

Decisions (docs/publishing.md, "Heure de Paris"):
- a time that does not exist (the last Sunday of March, 02:00-02:59: clocks jump to 03:00) is refused for a
  one-off post with a French message suggesting 03:00; for a *recurring* rule the occurrence of that one day
  is published at the same instant zoneinfo gives (02:30 -> 03:30 CEST), so that the series never skips a day;
- a time that exists twice (the last Sunday of October, 02:00-02:59) means the first occurrence (CEST,
  ``fold=0``) unless the caller passes ``fold=1`` for the second one (CET).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from core.clock import PARIS
from core.errors import ValidationError


def is_nonexistent(local: datetime) -> bool:
    """True if the naive Paris wall-clock time ``local`` is skipped by the spring-forward change."""
    aware = local.replace(tzinfo=PARIS)
    return aware.astimezone(UTC).astimezone(PARIS).replace(tzinfo=None) != local


def is_ambiguous(local: datetime) -> bool:
    """True if the naive Paris wall-clock time ``local`` happens twice (the autumn change)."""
    first = local.replace(tzinfo=PARIS, fold=0).utcoffset()
    second = local.replace(tzinfo=PARIS, fold=1).utcoffset()
    return first != second and not is_nonexistent(local)


def paris_to_utc(local: datetime, *, fold: int = 0) -> datetime:
    """The UTC instant of a Paris wall-clock time; refuses times that do not exist (ValidationError).

    ``local`` may be naive (read as Paris time) or aware (converted as is). For a time that happens twice,
    ``fold=0`` (default) is the first, summer-time occurrence, ``fold=1`` the second.
    """
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    if is_nonexistent(local):
        raise ValidationError(reason="time_skipped_by_dst", time=f"{local:%H:%M}", day=f"{local:%d/%m/%Y}")
    return local.replace(tzinfo=PARIS, fold=fold).astimezone(UTC)


def occurrence_utc(day: date, at: time) -> datetime:
    """UTC instant of a recurring occurrence on ``day`` at Paris time ``at`` (gap: shifted forward, fold: first)."""
    # fold=0: the first of a doubled hour; a missing hour (02:30 on the spring-forward day) is read with the
    # winter offset, i.e. published at 03:30 summer time.
    return datetime.combine(day, at).replace(tzinfo=PARIS, fold=0).astimezone(UTC)


def utc_to_paris(instant: datetime) -> datetime:
    """The aware Paris time of a UTC instant (for display and week/month grouping)."""
    return instant.astimezone(PARIS)


def parse_hhmm(text: str) -> time:
    """``"09:00"`` -> time(9, 0); ValidationError (reason ``time_unreadable``) otherwise."""
    try:
        hours, minutes = text.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError as err:
        raise ValidationError(reason="time_unreadable", text=text) from err


def paris_day_bounds(day: date) -> tuple[datetime, datetime]:
    """UTC bounds ``[start, end)`` of a Paris calendar day (23 or 25 hours long on DST days)."""
    start = datetime.combine(day, time(0)).replace(tzinfo=PARIS).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0)).replace(tzinfo=PARIS).astimezone(UTC)
    return start, end
