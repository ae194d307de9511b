"""Opening-hours calendar: French public holidays, exceptions, business time across weekends and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.clock import PARIS
from core.config import Settings
from core.errors import ConfigError
from services.inbox.opening_hours import OpeningHours, easter_sunday, french_holidays


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def hours(oh: OpeningHours, a: datetime, b: datetime) -> float:
    return oh.business_seconds(a, b) / 3600


@pytest.mark.parametrize(("year", "easter"), [(2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)),
                                              (2026, date(2026, 4, 5)), (2027, date(2027, 3, 28)),
                                              (2038, date(2038, 4, 25))])
def test_easter_dates(year, easter):
    assert easter_sunday(year) == easter


def test_french_public_holidays_2026():
    days = french_holidays(2026)
    assert len(days) == 11
    assert days[date(2026, 4, 6)] == "Lundi de Pâques"
    assert days[date(2026, 5, 14)] == "Ascension"
    assert days[date(2026, 5, 25)] == "Lundi de Pentecôte"
    assert days[date(2026, 7, 14)] == "Fête nationale"
    alsace = french_holidays(2026, "fr-alsace-moselle")
    assert alsace[date(2026, 4, 3)] == "Vendredi saint" and date(2026, 12, 26) in alsace


def test_weekend_holiday_and_exceptions_are_closed():
    oh = OpeningHours.parse("lun-ven 08:30-12:00,13:30-17:30; sam 09:00-12:00",
                            "2026-05-15 fermé; 2026-05-14 10:00-11:00")
    assert hours(oh, paris(2026, 5, 16, 0), paris(2026, 5, 18, 0)) == 3  # Saturday morning only
    assert oh.spans_on(date(2026, 5, 15)) == ()  # "pont" day closed by exception
    assert hours(oh, paris(2026, 5, 14, 0), paris(2026, 5, 15, 0)) == 1  # Ascension opened 10-11 by exception
    assert hours(oh, paris(2026, 5, 25, 0), paris(2026, 5, 26, 0)) == 0  # Lundi de Pentecôte
    assert hours(oh, paris(2026, 5, 26, 11), paris(2026, 5, 26, 14)) == 1.5  # lunch break not counted


def test_friday_evening_to_monday_morning_across_the_spring_dst_change():
    oh = OpeningHours()  # lun-ven 09:00-18:00
    start = datetime(2026, 3, 27, 16, 0, tzinfo=UTC)  # 17:00 Paris (UTC+1)
    end = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # 10:00 Paris (UTC+2)
    assert hours(oh, start, end) == 2.0  # a fixed UTC+1 offset would give 3 h


def test_always_open_days_have_their_real_length_on_dst_days():
    oh = OpeningHours.parse("24/7")
    assert hours(oh, paris(2026, 3, 29, 0), paris(2026, 3, 30, 0)) == 23
    assert hours(oh, paris(2026, 10, 25, 0), paris(2026, 10, 26, 0)) == 25


def test_vectorised_clock_agrees_with_the_scalar_function():
    oh = OpeningHours.parse("lun-ven 08:30-12:00,13:30-17:30")
    pairs = [(paris(2026, 3, 27, 17), paris(2026, 3, 30, 10)), (paris(2026, 4, 2, 16), paris(2026, 4, 7, 11)),
             (paris(2026, 4, 1, 7), paris(2026, 4, 1, 8)), (paris(2026, 4, 9, 12), paris(2026, 4, 8, 12))]
    clock = oh.clock(paris(2026, 3, 20), paris(2026, 4, 20))
    got = clock.elapsed([a.timestamp() for a, _ in pairs], [b.timestamp() for _, b in pairs])
    assert list(got) == [oh.business_seconds(a, b) for a, b in pairs]
    assert got[3] == 0  # answered "before" it was written: never negative


def test_settings_and_typos():
    settings = Settings.load(env={"PARVIS_OPENING_HOURS": "lun+mer 10h00-12h00", "PARVIS_HOLIDAYS": "none"})
    oh = OpeningHours.from_settings(settings)
    assert oh.spans_on(date(2026, 4, 6)) == ((600, 720),)  # Easter Monday counts when holidays are off
    assert oh.spans_on(date(2026, 4, 7)) == ()
    for bad in ("lun-ven 9-18", "xyz 09:00-10:00", "lun 12:00-10:00", "lun 09:00-12:00,11:00-13:00"):
        with pytest.raises(ConfigError):
            OpeningHours.parse(bad)
    with pytest.raises(ConfigError):
        OpeningHours.parse(exceptions="24/12/2026 fermé")


def test_holidays_of_alsace_moselle_and_overseas_departments_come_from_the_holidays_package():
    for region in ("fr-57", "fr-67", "fr-68"):
        days = french_holidays(2026, region)
        assert days[date(2026, 4, 3)] == "Vendredi saint" and days[date(2026, 12, 26)] == "Saint-Étienne"
    assert french_holidays(2026, "fr-974")[date(2026, 12, 20)] == "Abolition de l'esclavage"
    assert french_holidays(2026, "fr-972")[date(2026, 5, 22)] == "Abolition de l'esclavage"
    assert OpeningHours.parse(holidays="fr-971").holiday(date(2026, 5, 27)) == "Abolition de l'esclavage"
    with pytest.raises(ConfigError, match="PARVIS_HOLIDAYS"):
        OpeningHours.parse(holidays="fr-75")
