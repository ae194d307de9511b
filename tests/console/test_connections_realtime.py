"""The Connexions page shows the pushed channels: a Mastodon stream connected or reconnecting (with the fall-back
to polling said in French), and the Meta webhooks' last event."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.db import write_transaction
from core.repo import realtime as rt

ROOT = Path(__file__).resolve().parents[2]
PAGE = "console/ui/pages/connections.py"


def _page(db_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    page = AppTest.from_file(str(ROOT / PAGE), default_timeout=30)
    page.run()
    assert not page.exception, page.exception
    return page


def test_stream_state_and_webhooks_are_shown(db_path, db, now, monkeypatch):
    with write_transaction(db):
        rt.set_channel_state(db, "stream:mastodon", kind="mastodon-stream", state="connected", now=now)
        rt.channel_event(db, "stream:mastodon", now=now)
        rt.set_channel_state(db, "meta-webhooks", kind="webhook", state="receiving", now=now - timedelta(hours=1))
    texts = [m.value for m in _page(db_path, monkeypatch).markdown]
    assert any("Flux en direct Mastodon" in t and "connecté" in t and "1 reçu" in t for t in texts)
    assert any("Webhooks Meta" in t for t in texts)


def test_a_reconnecting_stream_says_polling_takes_over(db_path, db, now, monkeypatch):
    with write_transaction(db):
        rt.set_channel_state(db, "stream:mastodon", kind="mastodon-stream", state="reconnecting", now=now,
                             detail="unavailable: Mastodon stream answered 503")
    page = _page(db_path, monkeypatch)
    assert any("reconnexion en cours" in m.value for m in page.markdown)
    assert any("relève périodique prend le relais" in c.value for c in page.caption)
    assert any("503" in t.value for t in page.text)
