"""Issue #16, « Token lifecycle »: a refused token puts the connector in « reconnexion nécessaire » once, and the
worker stops calling (no loop, no log flood) until the credentials change or an admin clicks « Réessayer »."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from connectors.facebook.connector import FacebookConnector
from core import repo
from core.config import Settings
from core.errors import PermissionDenied
from core.repo import tokens as tokens_repo
from services.connections import status
from services.connections.ingest import sync_connector
from tests.fakes.graph_api import graph_error

# Meta's 190 answers (developers.facebook.com/docs/graph-api/guides/error-handling): password changed (460),
# expired (463), logged out (467).
REVOKED = {
    460: "Error validating access token: The session has been invalidated because the user changed their "
         "password or Facebook has changed the session for security reasons.",
    463: "Error validating access token: Session has expired on Monday, 05-Jan-26 08:00:00 PST. The current time "
         "is Monday, 05-Jan-26 09:14:31 PST.",
    467: "Error validating access token: The session is invalid because the user logged out.",
}


def _connector(fake, token=None) -> FacebookConnector:
    return FacebookConnector(page_id=fake.page_id, page_token=token or fake.token, base_url=fake.base_url,
                             version=fake.version, backoff=0)


def _settings(tmp_path, fake) -> Settings:
    return Settings(data_dir=tmp_path, db_path=tmp_path / "p.db",
                    values={"PARVIS_FB_PAGE_ID": fake.page_id, "PARVIS_FB_PAGE_TOKEN": fake.token})


@pytest.mark.parametrize("subcode", sorted(REVOKED))
def test_n_worker_rounds_make_exactly_one_call_after_the_revocation(db, now, fake_graph, subcode, caplog):
    fake_graph.add_post("Bienvenue")
    connector = _connector(fake_graph)
    assert sync_connector(db, connector, now=now).status == "ok"
    fake_graph.fail("feed", 400, graph_error(190, REVOKED[subcode], subcode=subcode), times=50)
    before = len(fake_graph.calls(r"/feed$"))
    caplog.set_level(logging.INFO)
    results = [sync_connector(db, connector, now=now + timedelta(minutes=i)) for i in range(1, 11)]
    assert len(fake_graph.calls(r"/feed$")) - before == 1  # one call after the revocation, none of the 9 rounds
    assert {r.status for r in results} == {"reconnect_needed"}
    assert repo.connector_health(db, "facebook").status == "reconnect_needed"
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1  # no log flood
    state = tokens_repo.token_state(db, "facebook")
    assert state.blocked and fake_graph.token not in (state.blocked_fingerprint or "")
    assert fake_graph.token not in str(tuple(db.execute("SELECT * FROM connector_tokens").fetchall()))


def test_new_credentials_lift_the_block(db, now, fake_graph):
    fake_graph.add_post("Bienvenue")
    old = _connector(fake_graph, token="OLD-TOKEN")  # the fake refuses it: 190/463
    assert sync_connector(db, old, now=now).status == "reconnect_needed"
    assert sync_connector(db, old, now=now + timedelta(minutes=1)).status == "reconnect_needed"
    assert len(fake_graph.calls(r"/feed$")) == 1
    fresh = _connector(fake_graph)  # the admin replaced the token and restarted the worker
    assert sync_connector(db, fresh, now=now + timedelta(minutes=2)).status == "ok"
    assert not tokens_repo.token_state(db, "facebook").blocked
    assert repo.connector_health(db, "facebook").status == "ok"


def test_retry_lifts_the_block_once_and_is_admin_only(db, now, fake_graph, agents, tmp_path):
    fake_graph.add_post("Bienvenue")
    connector = _connector(fake_graph)
    fake_graph.fail("feed", 400, graph_error(190, REVOKED[467], subcode=467), times=2)
    sync_connector(db, connector, now=now)
    settings = _settings(tmp_path, fake_graph)
    with pytest.raises(PermissionDenied):
        status.retry_connector(db, settings, "facebook", actor=agents["julie"], now=now)
    status.retry_connector(db, settings, "facebook", actor=agents["admin"], now=now)
    assert repo.take_sync_requests(db) == ["facebook"]
    assert sync_connector(db, connector, now=now + timedelta(minutes=1)).status == "reconnect_needed"  # still refused
    assert sync_connector(db, connector, now=now + timedelta(minutes=2)).status == "reconnect_needed"
    assert len(fake_graph.calls(r"/feed$")) == 2  # the retry made one call, then the block again
    status.retry_connector(db, settings, "facebook", actor=agents["admin"], now=now)
    assert sync_connector(db, connector, now=now + timedelta(minutes=3)).status == "ok"
    events = [r[0] for r in db.execute("SELECT event FROM audit_log WHERE event = 'connector-retried'")]
    assert events == ["connector-retried", "connector-retried"]


def test_the_page_shows_reconnect_needed_and_the_expiry(db, now, fake_graph, tmp_path):
    connector = _connector(fake_graph, token="OLD-TOKEN")
    sync_connector(db, connector, now=now)
    ov = status.overview(db, _settings(tmp_path, fake_graph), now=now)
    [fb] = [c for c in ov.connectors if c.entry.name == "facebook"]
    assert fb.reconnect_needed and fb.token is not None and fb.token.blocked


# ---- Bluesky: sessions kept and refreshed across syncs; a refused app password blocks, a refused session not --

@pytest.fixture
def fake_bsky(httpserver):
    from tests.fakes import FakeBlueskyApi

    fake = FakeBlueskyApi()
    fake.base = fake.install(httpserver)  # type: ignore[attr-defined]
    return fake


def _bsky(fake, tmp_path, password=None):
    from connectors.bluesky.connector import BlueskyConnector

    return BlueskyConnector(handle=fake.account_handle, app_password=password or fake.password, base_url=fake.base,
                            session_path=tmp_path / "bluesky-bluesky.session", backoff=0)


def test_bluesky_syncs_and_restarts_sign_in_once_and_refresh_the_session(db, now, fake_bsky, tmp_path):
    fake_bsky.access_ttl = timedelta(minutes=5)  # expires within the SDK's refresh margin: refreshed on each use
    fake_bsky.post("@ville-test.bsky.social bonjour")
    for i in range(3):  # three worker starts, two syncs each
        connector = _bsky(fake_bsky, tmp_path)
        for j in range(2):
            assert sync_connector(db, connector, now=now + timedelta(minutes=2 * i + j)).status == "ok"
    assert fake_bsky.sign_ins == 1  # createSession once (30 per 5 minutes, 300 a day)
    assert len(fake_bsky.calls("refreshSession")) >= 3


def test_a_refused_bluesky_session_signs_in_again_without_blocking(db, now, fake_bsky, tmp_path):
    connector = _bsky(fake_bsky, tmp_path)
    assert sync_connector(db, connector, now=now).status == "ok"
    fake_bsky.tokens.clear()  # the PDS revoked the session (ExpiredToken); the app password still works
    assert sync_connector(db, connector, now=now + timedelta(minutes=1)).status == "error"
    assert not tokens_repo.token_state(db, "bluesky").blocked
    assert sync_connector(db, connector, now=now + timedelta(minutes=2)).status == "ok"
    assert fake_bsky.sign_ins == 2


def test_a_refused_bluesky_app_password_blocks_after_one_sign_in(db, now, fake_bsky, tmp_path):
    connector = _bsky(fake_bsky, tmp_path, password="revoked-app-password")
    statuses = {sync_connector(db, connector, now=now + timedelta(minutes=i)).status for i in range(8)}
    assert statuses == {"reconnect_needed"} and fake_bsky.sign_ins == 1


# ---- Mastodon 401, X 401: the same one call, then quiet ------------------------------------------------------

def test_a_revoked_mastodon_token_makes_one_call_over_n_rounds(db, now, httpserver):
    from connectors.mastodon.connector import MastodonConnector
    from tests.fakes import FakeMastodonApi

    fake = FakeMastodonApi()
    fake.install(httpserver)
    connector = MastodonConnector(base_url=fake.base, access_token="revoked", backoff=0)
    statuses = {sync_connector(db, connector, now=now + timedelta(minutes=i)).status for i in range(6)}
    assert statuses == {"reconnect_needed"} and len(fake.requests) == 1


def test_a_revoked_x_token_makes_one_call_over_n_rounds(db, now, fake_x):
    from connectors.x.connector import XConnector

    connector = XConnector(bearer_token="revoked", user_id=fake_x.user_id, base_url=fake_x.base_url, backoff=0)
    statuses = {sync_connector(db, connector, now=now + timedelta(minutes=i)).status for i in range(6)}
    assert statuses == {"reconnect_needed"} and len(fake_x.requests) == 1
