"""The Connexions page tells apart, per connector, what was read, what was refused as malformed (listed, with a
link), what held nothing to read, and the platform saying no (issue #16)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from connectors.base import ConnectorInfo, FetchResult, Rejected
from core.errors import PermanentFailure
from core.models import Platform
from services.connections.ingest import sync_connector

ROOT = Path(__file__).resolve().parents[2]
PAGE = "console/ui/pages/connections.py"


class _Scripted:
    def __init__(self, name: str, platform: Platform, outcome: FetchResult | Exception) -> None:
        self.name, self.outcome = name, outcome
        self.info = ConnectorInfo(platform=platform, name=name, capabilities=frozenset())

    def fetch(self, cursor):
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


def test_read_malformed_nothing_and_refused_are_told_apart(db, db_path, now, monkeypatch):
    bad = Rejected(item_id="1578516295611748353", reason="post 1578516295611748353: missing author_id",
                   permalink="https://x.com/i/web/status/1578516295611748353")
    sync_connector(db, _Scripted("x", Platform.X, FetchResult(mentions=[], cursor="1", skipped=[bad.reason],
                                                               rejected=[bad], ignored={"retweets": 3})), now=now)
    sync_connector(db, _Scripted("mastodon", Platform.MASTODON, PermanentFailure(
        "GET /api/v1/notifications: X answered with errors only: Forbidden")), now=now)
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    monkeypatch.setenv("PARVIS_X_BEARER_TOKEN", "b")
    monkeypatch.setenv("PARVIS_X_USER_ID", "1000")
    monkeypatch.setenv("PARVIS_MASTODON_BASE_URL", "https://social.ville-test.fr")
    monkeypatch.setenv("PARVIS_MASTODON_ACCESS_TOKEN", "t")
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=30).run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    captions = " ".join(c.value for c in app.caption)
    texts = " ".join(t.value for t in app.text)
    assert "ignorés car illisibles (malformés) : 1" in captions
    assert "rien à lire (notifications sans message, repartages…) : 3" in captions
    assert any("Messages refusés à la lecture (1)" in e.label for e in app.expander)
    assert "https://x.com/i/web/status/1578516295611748353" in texts
    assert "Refus ou erreur de la plateforme : permanent_failure:" in texts
