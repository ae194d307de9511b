"""The calendar's week grid lists the seven days as rows, so that Saturday and Sunday (markets, events) are never
cut off by a narrow screen (issue #17, point 11)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from console.ui.calendar import common as cv
from core.models import DraftState, TargetState


def test_the_week_grid_has_one_row_per_day_weekend_included():
    monday = date(2026, 12, 7)
    week = [monday + timedelta(days=i) for i in range(7)]
    target = SimpleNamespace(account="demo", state=TargetState.PENDING, label="en attente", error="", attempts=0,
                             next_attempt=None)
    saturday_post = SimpleNamespace(at=datetime(2026, 12, 12, 9, 0, tzinfo=UTC), targets=[target],
                                    label="programmée", hold="", state=DraftState.SCHEDULED)
    view = SimpleNamespace(weeks=[week], days={week[5]: [saturday_post]})
    rows = cv.week_grid(view, ["demo"], {"demo": "Démo"})
    assert [r["Jour"] for r in rows] == [cv.day_label(d) for d in week]
    assert rows[5]["Jour"].lower().startswith("sam") and rows[6]["Jour"].lower().startswith("dim")
    assert rows[5]["Démo"].startswith("09:00") and rows[0]["Démo"] == ""
