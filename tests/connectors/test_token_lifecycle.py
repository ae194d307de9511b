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
