"""Période de réserve: window dates, eve-of-ballot blackout (Europe/Paris), volume check, and the rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from core.models import Platform
from editorial.charter import Election, ReserveSettings, Severity
from editorial.charter_yaml import default_charter
from editorial.engine import CheckContext, CompiledCharter
from editorial.reserve import reserve_status, same_period_last_year, volume_check, window_start


@pytest.mark.parametrize(("ballot", "start"), [
    (date(2026, 3, 15), date(2025, 9, 1)),
    (date(2027, 6, 6), date(2026, 12, 1)),
    (date(2026, 12, 31), date(2026, 6, 1)),
    (date(2026, 7, 1), date(2026, 1, 1)),
])
def test_window_opens_first_day_of_sixth_month_before_ballot_month(ballot, start):
    assert window_start(ballot) == start


SETTINGS = ReserveSettings(elections=(Election(name="Municipales 2026",
                                               rounds=(date(2026, 3, 15), date(2026, 3, 22))),),
                           bilan_terms=("bilan", "réalisé*"), candidates=("Jeanne Dupont",),
                           campaign_themes=("tramway",))


@pytest.mark.parametrize(("when", "active", "blackout"), [
    (datetime(2025, 8, 31, 21, 59, tzinfo=UTC), False, False),  # 23:59 Paris on 31 August
    (datetime(2025, 8, 31, 22, 0, tzinfo=UTC), True, False),  # 00:00 Paris on 1 September
    (datetime(2026, 3, 13, 22, 59, tzinfo=UTC), True, False),  # 23:59 Paris on Friday 13 March
    (datetime(2026, 3, 13, 23, 0, tzinfo=UTC), True, True),  # midnight Paris, eve of the first round
    (datetime(2026, 3, 15, 22, 59, tzinfo=UTC), True, True),  # ballot day, 23:59 Paris
    (datetime(2026, 3, 16, 9, 0, tzinfo=UTC), True, False),  # between the rounds
    (datetime(2026, 3, 21, 0, 0, tzinfo=UTC), True, True),  # eve of the second round
    (datetime(2026, 3, 23, 9, 0, tzinfo=UTC), False, False),  # after the last round
])
def test_status(when, active, blackout):
    status = reserve_status(SETTINGS, when)
    assert (status.active, status.blackout) == (active, blackout)
    if active:
        assert status.election == "Municipales 2026" and status.label


def _check(text, now):
    charter = replace(default_charter(), reserve=SETTINGS, discouraged=())
    return CompiledCharter(charter).check(text, CheckContext(platform=Platform.X, now=now, signature="— Julie"))


def test_reserve_terms_warn_in_the_window_and_block_on_the_eve():
    text = "Le bilan du tramway : travaux réalisés, merci à Jeanne Dupont.\n— Julie"
    outside = _check(text, datetime(2025, 6, 1, tzinfo=UTC))
    assert not outside.reserve.active and not outside.findings
    window = _check(text, datetime(2026, 1, 10, tzinfo=UTC))
    assert window.reserve.active and not window.blocked
    assert [f.code for f in window.findings] == ["reserve_bilan", "reserve_theme", "reserve_bilan",
                                                 "reserve_candidate"]
    assert all(f.severity is Severity.WARN for f in window.findings)
    assert "Reformulez" in window.findings[0].message
    eve = _check(text, datetime(2026, 3, 14, 10, tzinfo=UTC))
    assert eve.blocked and {f.code for f in eve.findings} == {"reserve_blackout"}
    assert "veille du scrutin" in eve.findings[0].message


def test_volume_check():
    assert not volume_check(10, 9).warn
    up = volume_check(20, 10)
    assert up.warn and "hausse de 100\u00a0%" in up.message
    assert volume_check(5, 10).warn and "baisse" in volume_check(5, 10).message
    assert volume_check(3, 0).warn and not volume_check(0, 0).warn
    assert same_period_last_year(date(2028, 2, 29), date(2028, 3, 1)) == (date(2027, 2, 28), date(2027, 3, 1))
