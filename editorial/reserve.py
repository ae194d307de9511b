"""Période de réserve (Code électoral L.52-1 and L.49): the dates, the eve blackout, and the volume check.

- The window opens on the first day of the sixth month before the ballot month (ballot on 15 March 2026:
  from 1 September 2025) and closes at the end of the last round.
- From midnight (Europe/Paris) on the eve of each round until the end of that round's day, nothing
  campaign-related may go out (L.49): the charter's reserve terms then *block* instead of warning.
- Communication must stay constant: :func:`volume_check` compares the number of messages published since
  the window opened with the same period a year earlier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from core.clock import PARIS
from editorial.charter import Election, ReserveSettings


def window_start(ballot: date) -> date:
    """First day of the sixth month before the ballot month."""
    month = ballot.month - 6
    year = ballot.year
    if month < 1:
        month += 12
        year -= 1
    return date(year, month, 1)


def blackout_bounds(ballot: date) -> tuple[datetime, datetime]:
    """From 00:00 Paris time on the eve of ``ballot`` to 00:00 the day after it (aware UTC datetimes)."""
    start = datetime.combine(ballot - timedelta(days=1), time(0, 0), tzinfo=PARIS)
    end = datetime.combine(ballot + timedelta(days=1), time(0, 0), tzinfo=PARIS)
    return start, end


@dataclass(frozen=True, slots=True)
class ReserveStatus:
    """Where ``now`` stands: inside a window, inside an eve/ballot-day blackout, for which election."""

    active: bool = False
    blackout: bool = False
    election: str = ""
    window_start: date | None = None
    window_end: date | None = None

    @property
    def label(self) -> str:
        """French one-liner for the UI banner."""
        if self.blackout:
            return f"Veille ou jour du scrutin ({self.election}) : aucune communication liée à la campagne."
        if self.active and self.window_start and self.window_end:
            return (f"Période de réserve ({self.election}) du {self.window_start:%d/%m/%Y} au "
                    f"{self.window_end:%d/%m/%Y} : validation de la direction obligatoire.")
        return ""


def _status_for(election: Election, now: datetime) -> ReserveStatus | None:
    first, last = election.rounds[0], election.rounds[-1]
    start = window_start(first)
    local_day = now.astimezone(PARIS).date()
    if not start <= local_day <= last:
        return None
    blackout = any(a <= now < b for a, b in (blackout_bounds(r) for r in election.rounds))
    return ReserveStatus(active=True, blackout=blackout, election=election.name, window_start=start,
                         window_end=last)


def reserve_status(settings: ReserveSettings, now: datetime) -> ReserveStatus:
    """The reserve status at ``now`` (a blackout wins over a plain window when elections overlap)."""
    found = [s for e in settings.elections if (s := _status_for(e, now)) is not None]
    if not found:
        return ReserveStatus()
    found.sort(key=lambda s: (not s.blackout, s.window_start))
    return found[0]


@dataclass(frozen=True, slots=True)
class VolumeCheck:
    """Messages published since the window opened vs the same dates a year earlier."""

    current: int
    previous: int
    ratio: float | None  # current / previous, None when there was nothing a year earlier
    warn: bool
    message: str


def same_period_last_year(start: date, end: date) -> tuple[date, date]:
    """The same calendar dates one year earlier (29 February becomes 28 February)."""
    def back(d: date) -> date:
        try:
            return d.replace(year=d.year - 1)
        except ValueError:
            return d.replace(year=d.year - 1, day=28)
    return back(start), back(end)


def volume_check(current: int, previous: int, *, tolerance: float = 0.3) -> VolumeCheck:
    """Warn when the posting volume departs from last year's by more than ``tolerance`` (0.3 = 30 %)."""
    if previous == 0:
        warn = current > 0
        msg = ("Aucune publication sur la même période l'an dernier : une hausse pendant la période de réserve "
               "peut être vue comme de la propagande.") if warn else ""
        return VolumeCheck(current, previous, None, warn, msg)
    ratio = current / previous
    warn = abs(ratio - 1) > tolerance
    msg = ""
    if warn:
        trend = "hausse" if ratio > 1 else "baisse"
        msg = (f"Volume de publication en {trend} de {round(abs(ratio - 1) * 100)}\u00a0% par rapport à la même "
               f"période l'an dernier ({current} contre {previous}) : la communication doit rester constante "
               "pendant la période de réserve.")
    return VolumeCheck(current, previous, ratio, warn, msg)
