"""Hand-built city for the dashboard tests (see test_dashboard.py for the calendar and expected figures)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from core import repo
from core.clock import PARIS
from core.db import write_transaction
from core.models import DraftState, Platform, Status
from services.reports.dashboard import period
from tests.conftest import make_mention

NOW = datetime(2026, 4, 10, 12, 0, tzinfo=PARIS)
SINCE, UNTIL = period(date(2026, 3, 23), date(2026, 4, 10))


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def add_mention(db, text, created, *, platform=Platform.X, sentiment=None, flags=(), tags=()):
    m = make_mention(text, platform=platform, created_at=created.astimezone(UTC))
    scores = repo.Scores(sentiment=sentiment, risk_flags=tuple({"kind": k, "score": 0.9, "spans": []} for k in flags))
    repo.upsert_mentions(db, [m], now=created, scores=[scores])
    for tag in tags:
        repo.add_tag(db, m.uid, tag)
    return m.uid


def add_reply(db, uid, agent, at, *, platform=Platform.X, via_update=False):
    if via_update:  # the editorial path: a draft later saved as sent
        d = repo.create_draft(db, mention_uid=uid, author_id=agent.id, body="Merci", signed_text="Merci — J",
                              platform=platform, now=at - timedelta(minutes=5))
        repo.save_draft(db, replace(d, state=DraftState.SENT, sent_at=at, updated_at=at))
    else:
        repo.create_draft(db, mention_uid=uid, author_id=agent.id, body="Merci", signed_text="Merci — J",
                          platform=platform, state=DraftState.SENT, now=at)


@pytest.fixture
def city(db, agents):
    """Seven hand-built conversations plus a burst of 12 angry messages on 8 April."""
    julie, karim = agents["julie"], agents["karim"]
    with write_transaction(db):
        # 1. X, Friday 17:00 before the DST change -> Monday 10:00 after it: 1 h + 1 h = 2 h (wall clock 64 h).
        m1 = add_mention(db, "Nid de poule rue Pasteur", paris(2026, 3, 27, 17), sentiment="negative",
                  flags=("insult", "insult"), tags=("voirie",))
        add_reply(db, m1, julie, paris(2026, 3, 30, 10), via_update=True)
        # 2. Facebook, Thursday 16:00 -> Tuesday 11:00 across Easter Monday: 2 + 9 + 2 = 13 h.
        m2 = add_mention(db, "Merci pour la fête", paris(2026, 4, 2, 16), platform=Platform.FACEBOOK,
                         sentiment="positive")
        add_reply(db, m2, karim, paris(2026, 4, 7, 11), platform=Platform.FACEBOOK)
        # 3. X, same day: 2.5 h.
        m3 = add_mention(db, "Horaires piscine ?", paris(2026, 3, 24, 10), sentiment="neutral", tags=("piscine",))
        add_reply(db, m3, julie, paris(2026, 3, 24, 12, 30))
        # 4. X, Saturday, answered on Saturday by the assignee (no draft): 0 h in opening hours.
        m4 = add_mention(db, "Marché annulé ?", paris(2026, 3, 28, 11), sentiment="neutral", tags=("piscine",))
        repo.set_assignee(db, m4, karim.id, now=paris(2026, 3, 28, 12))
        repo.set_status(db, m4, Status.ANSWERED, now=paris(2026, 3, 28, 14))
        # 5. Facebook, before opening, marked answered at 09:30 by nobody in particular: 0.5 h.
        m5 = add_mention(db, "Bonjour", paris(2026, 4, 1, 8), platform=Platform.FACEBOOK, flags=("personal_data",))
        repo.set_status(db, m5, Status.ANSWERED, now=paris(2026, 4, 1, 9, 30))
        # 6. X, still open (new) since Wednesday 15:00; 7. closed without a reply; 8. open for one hour.
        add_mention(db, "Toujours pas de réponse", paris(2026, 4, 8, 15), sentiment="negative")
        m7 = add_mention(db, "spam spam", paris(2026, 4, 9, 9), platform=Platform.FACEBOOK)
        repo.set_status(db, m7, Status.CLOSED, now=paris(2026, 4, 9, 10))
        m8 = add_mention(db, "Lampadaire éteint", paris(2026, 4, 10, 11), sentiment="neutral")
        repo.set_assignee(db, m8, julie.id, now=paris(2026, 4, 10, 11))
        repo.set_status(db, m8, Status.ASSIGNED, now=paris(2026, 4, 10, 11))
        # 9. Just after midnight in Paris on 30 March = 29 March in UTC: counted on the 30th.
        add_mention(db, "Bruit la nuit", paris(2026, 3, 30, 0, 30), sentiment="negative")
        # A burst: 12 angry messages between 14:00 and 15:00 on 8 April.
        for i in range(12):
            add_mention(db, f"Scandale {i}", paris(2026, 4, 8, 14, i * 5), sentiment="negative", flags=("threat",))
        # Outside the window: ignored.
        add_mention(db, "Vieux message", paris(2026, 3, 1, 10))
    return db
