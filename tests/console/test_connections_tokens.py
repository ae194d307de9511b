"""The Connexions page (issue #16, « Token lifecycle »): one clear « Reconnexion nécessaire » with what to do and
« Réessayer » instead of « Synchroniser maintenant »; the token's expiry and the warning 7 days ahead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from streamlit.testing.v1 import AppTest

from connectors.base import ConnectorInfo, secret_fingerprint
from core.db import write_transaction
from core.errors import AuthFailed
from core.models import Platform
from core.repo import tokens as tokens_repo
from services.connections.ingest import sync_connector

ROOT = Path(__file__).resolve().parents[2]
PAGE = "console/ui/pages/connections.py"


class _Refused:
    name = "mastodon"
    info = ConnectorInfo(platform=Platform.MASTODON, name="mastodon", capabilities=frozenset())
    credential_fingerprint = secret_fingerprint("t")

    def fetch(self, cursor):
        raise AuthFailed("GET /api/v1/notifications: HTTP 401 The access token is invalid")


def test_reconnect_needed_is_shown_once_with_what_to_do_and_the_expiry_warns(db, db_path, now, monkeypatch):
    sync_connector(db, _Refused(), now=now)
    with write_transaction(db):
        tokens_repo.save_token_check(db, "x", "x", now=now, expires_at=datetime.now(UTC) + timedelta(days=3, hours=1),
                                     data_access_expires_at=None, is_valid=True, scopes=["tweet.read"])
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    monkeypatch.setenv("PARVIS_X_BEARER_TOKEN", "b")
    monkeypatch.setenv("PARVIS_X_USER_ID", "1000")
    monkeypatch.setenv("PARVIS_MASTODON_BASE_URL", "https://social.ville-test.fr")
    monkeypatch.setenv("PARVIS_MASTODON_ACCESS_TOKEN", "t")
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=30).run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    errors = [e.value for e in app.error]
    assert len([e for e in errors if "Reconnexion nécessaire" in e]) == 1
    assert any("PARVIS_MASTODON_ACCESS_TOKEN" in e for e in errors)
    keys = {b.key: b.label for b in app.button}
    assert keys["retry_mastodon"] == "Réessayer" and "sync_mastodon" not in keys and "sync_x" in keys
    assert any("Le jeton expire dans 3 jours" in w.value for w in app.warning)
    assert any("Jeton : expire le" in c.value and "tweet.read" in c.value for c in app.caption)
