"""Issue #16, « Token lifecycle »: Meta's ``debug_token`` read at most daily per connector and stored; the
Connexions page and an e-mail to the admins (once) warn 7 days ahead; Instagram's 60-day token refreshed before it
lapses, kept (0600) where the next start finds it, audited without the token."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import secret_fingerprint
from connectors.facebook.connector import FacebookConnector
from connectors.graph.tokens import TokenStore, parse_debug_token, token_path
from connectors.instagram.connector import InstagramConnector
from core.config import Settings
from core.errors import MalformedPayload
from core.repo import integrations as integrations_repo
from core.repo import tokens as tokens_repo
from services.connections import status
from services.connections.tokens import check_tokens
from tests.fakes import FakeInstagramApi

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _settings(tmp_path, fake, *, smtp=True) -> Settings:
    values = {"PARVIS_FB_PAGE_ID": fake.page_id, "PARVIS_FB_PAGE_TOKEN": fake.token}
    if smtp:
        values |= {"PARVIS_SMTP_HOST": "smtp.valmont.fr", "PARVIS_SMTP_FROM": "parvis@valmont.fr"}
    return Settings(data_dir=tmp_path, db_path=tmp_path / "p.db", values=values)


def _fb(fake) -> FacebookConnector:
    return FacebookConnector(page_id=fake.page_id, page_token=fake.token, base_url=fake.base_url,
                             version=fake.version, backoff=0)


def test_debug_token_is_read_and_its_shape_parsed():
    info = parse_debug_token({"data": {"app_id": "1", "type": "PAGE", "is_valid": True, "expires_at": 0,
                                       "data_access_expires_at": 1780000000, "scopes": ["pages_read_engagement"]}})
    assert info.is_valid and info.expires_at is None and info.scopes == ("pages_read_engagement",)
    assert info.data_access_expires_at == datetime.fromtimestamp(1780000000, UTC)
    bad = parse_debug_token({"data": {"is_valid": False, "expires_at": 0, "scopes": [],
                                      "error": {"code": 190, "message": "logged out", "subcode": 467}}})
    assert not bad.is_valid and bad.error.startswith("#190/467")
    with pytest.raises(MalformedPayload):
        parse_debug_token({"error": {"code": 190}})


def test_expiry_is_checked_at_most_daily_stored_shown_and_mailed_once(db, fake_graph, agents, tmp_path):
    fake_graph.token_expires_at = int((NOW + timedelta(days=5, hours=2)).timestamp())
    settings, connector = _settings(tmp_path, fake_graph), _fb(fake_graph)
    report = check_tokens(db, settings, [connector], now=NOW)
    assert report.checked == ["facebook"] and report.notified == ["facebook"]
    for hours in (1, 5, 23):
        check_tokens(db, settings, [connector], now=NOW + timedelta(hours=hours))
    assert len(fake_graph.calls(r"/debug_token$")) == 1  # at most daily
    call = fake_graph.calls(r"/debug_token$")[0]
    assert call.headers["Authorization"] == f"Bearer {fake_graph.token}" and "access_token" not in call.args
    state = tokens_repo.token_state(db, "facebook")
    assert state.is_valid and state.expires_at == datetime.fromtimestamp(fake_graph.token_expires_at, UTC)
    assert "pages_manage_engagement" in state.scopes and state.checked_at == NOW
    again = check_tokens(db, settings, [connector], now=NOW + timedelta(days=1, minutes=1))
    assert again.checked == ["facebook"] and again.notified == []  # checked again a day later, not mailed again
    assert len(fake_graph.calls(r"/debug_token$")) == 2
    [mail] = [r for r in db.execute("SELECT dedupe, recipient, payload FROM integration_outbox")]
    assert mail[0] == "email:token-expiry:facebook:2026-03-07" and mail[1] == "admin@valmont.fr"
    assert "expire dans 5 jours" in json.loads(mail[2])["subject"]
    assert integrations_repo.by_dedupe(db, mail[0]) is not None
    [fb] = [c for c in status.overview(db, settings, now=NOW).connectors if c.entry.name == "facebook"]
    assert fb.expiry_warning(NOW) == 5
    assert fb.expiry_warning(NOW - timedelta(days=3)) is None  # 8 days ahead: not yet


def test_a_token_that_never_expires_warns_nobody(db, fake_graph, agents, tmp_path):
    settings = _settings(tmp_path, fake_graph)
    report = check_tokens(db, settings, [_fb(fake_graph)], now=NOW)
    assert report.checked == ["facebook"] and report.notified == []
    assert tokens_repo.token_state(db, "facebook").expires_at is None
    assert db.execute("SELECT count(*) FROM integration_outbox").fetchone()[0] == 0


def test_a_failed_check_is_recorded_and_not_retried_within_the_day(db, fake_graph, tmp_path):
    fake_graph.fail("debug_token", 500, {"error": {"code": 2, "message": "Service temporarily unavailable"}},
                    times=10)
    settings, connector = _settings(tmp_path, fake_graph, smtp=False), _fb(fake_graph)
    assert check_tokens(db, settings, [connector], now=NOW).failed == ["facebook"]
    calls = len(fake_graph.calls(r"/debug_token$"))
    check_tokens(db, settings, [connector], now=NOW + timedelta(hours=2))
    assert len(fake_graph.calls(r"/debug_token$")) == calls
    assert "unavailable" in (tokens_repo.token_state(db, "facebook").check_error or "")


@pytest.fixture
def fake_ig(httpserver) -> FakeInstagramApi:
    fake = FakeInstagramApi(start=datetime.now(UTC) - timedelta(hours=3))
    fake.base_url = fake.install(httpserver)  # type: ignore[attr-defined]
    return fake


def _ig(fake, tmp_path, token=None) -> InstagramConnector:
    store = TokenStore(token_path(tmp_path, "instagram"), token or "IG-TOKEN")
    return InstagramConnector(ig_user_id=fake.ig_user_id, access_token=token or "IG-TOKEN", base_url=fake.base_url,
                              version=fake.version, backoff=0, token_store=store, refresh_base_url=fake.base_url)


def test_instagram_token_is_refreshed_before_it_lapses_kept_0600_and_audited(db, fake_ig, tmp_path):
    fake_ig.add_media("Marché de Noël")
    settings = Settings(data_dir=tmp_path, db_path=tmp_path / "p.db", values={})
    far = int((NOW + timedelta(days=40)).timestamp())
    fake_ig.token_expires_at = far
    connector = _ig(fake_ig, tmp_path)
    assert check_tokens(db, settings, [connector], now=NOW).refreshed == []  # 40 days left: nothing to do
    fake_ig.token_expires_at = int((NOW + timedelta(days=8)).timestamp())
    report = check_tokens(db, settings, [connector], now=NOW + timedelta(days=1))
    assert report.refreshed == ["instagram"] and fake_ig.refreshed == ["IG-TOKEN-2"]
    [call] = fake_ig.calls(r"^/refresh_access_token$")
    assert call.args == {"grant_type": "ig_refresh_token", "access_token": "IG-TOKEN"}
    path = token_path(tmp_path, "instagram")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and json.loads(path.read_text())["access_token"] == "IG-TOKEN-2"
    state = tokens_repo.token_state(db, "instagram")
    assert state.refreshed_at == NOW + timedelta(days=1)
    assert state.expires_at == NOW + timedelta(days=1, seconds=5183944)
    audit_rows = [r[0] for r in db.execute("SELECT properties FROM audit_log WHERE event = 'token-refreshed'")]
    assert len(audit_rows) == 1 and "IG-TOKEN" not in audit_rows[0]
    connector.fetch(None)  # the connector reads with the new token at once
    assert fake_ig.requests[-1].headers["Authorization"] == "Bearer IG-TOKEN-2"
    restarted = _ig(fake_ig, tmp_path)  # the next start finds the refreshed token
    restarted.fetch(None)
    assert fake_ig.requests[-1].headers["Authorization"] == "Bearer IG-TOKEN-2"
    reconfigured = _ig(fake_ig, tmp_path, token="IG-NEW-FROM-ADMIN")  # another configured token wins
    assert reconfigured.credential_fingerprint == secret_fingerprint("IG-NEW-FROM-ADMIN")
    check_tokens(db, settings, [connector], now=NOW + timedelta(days=1, hours=3))
    assert fake_ig.refreshed == ["IG-TOKEN-2"]  # not refreshed twice within 24 hours
