"""Meta webhooks end to end: the route (handshake, signature, replay), the events table, the worker's reading
through the connectors, and the same item coming by webhook and by polling stored once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from connectors.graph import webhooks as meta
from connectors.instagram.connector import InstagramConnector
from console.web.routes import parvis_routes
from core import repo
from core.config import Settings
from core.repo import realtime as rt
from services.connections import webhooks
from services.connections.ingest import sync_connector
from tests.fakes import FakeInstagramApi
from tests.fakes import meta_webhooks as mw

SECRET = "app-secret-0123456789"
VERIFY = "verify-token-abcdef"


@pytest.fixture
def settings(db_path) -> Settings:
    return Settings(data_dir=db_path.parent, db_path=db_path,
                    values={"PARVIS_META_APP_SECRET": SECRET, "PARVIS_META_VERIFY_TOKEN": VERIFY})


@pytest.fixture
def client(settings, db) -> TestClient:
    return TestClient(Starlette(routes=parvis_routes(settings)))


def _post(client: TestClient, payload, *, secret: str | None = SECRET, headers: dict | None = None):
    body, signed = mw.body_and_headers(payload, secret)
    return client.post("/webhooks/meta", content=body, headers={**signed, **(headers or {})})


def _uids(db) -> list[str]:
    return [r[0] for r in db.execute("SELECT uid FROM mentions ORDER BY uid")]


def _state(db) -> tuple:
    """Everything a webhook could change: events, mentions, audit log."""
    return (db.execute("SELECT COUNT(*) FROM webhook_events").fetchone()[0], _uids(db),
            db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0])


def _work(db, connectors, now=None):
    return webhooks.process_pending(db, connectors, now=now or datetime.now(UTC))


# ---- handshake -------------------------------------------------------------------------------------------

def test_handshake_echoes_the_challenge_with_the_right_token(client):
    r = client.get("/webhooks/meta", params={"hub.mode": "subscribe", "hub.verify_token": VERIFY,
                                             "hub.challenge": "1158201444"})
    assert r.status_code == 200 and r.text == "1158201444"


@pytest.mark.parametrize("params", [
    {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "42"},
    {"hub.mode": "subscribe", "hub.challenge": "42"},
    {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY, "hub.challenge": "42"},
    {"hub.mode": "subscribe", "hub.verify_token": VERIFY[:-1], "hub.challenge": "42"},
])
def test_handshake_refuses_a_wrong_token_or_mode(client, params):
    r = client.get("/webhooks/meta", params=params)
    assert r.status_code == 403 and "42" not in r.text


def test_without_meta_settings_the_route_is_the_extension_points_404(db_path, db):
    client = TestClient(Starlette(routes=parvis_routes(Settings(data_dir=db_path.parent, db_path=db_path,
                                                                 values={}))))
    assert client.post("/webhooks/meta", content=b"{}").status_code == 404


def test_signature_helpers():
    body = b'{"object":"page","entry":[]}'
    good = meta.signature(body, SECRET)
    assert meta.signature_valid(body, good, SECRET)
    assert not meta.signature_valid(body + b" ", good, SECRET)
    assert not meta.signature_valid(body, good, None)
    assert not meta.signature_valid(body, good.replace("sha256=", "sha1="), SECRET)
    assert not meta.signature_valid(body, None, SECRET)


# ---- signature and replay --------------------------------------------------------------------------------

def test_forged_missing_and_replayed_bodies_change_nothing(client, db, fake_graph, fb_connector, caplog):
    post = fake_graph.add_post("Travaux rue Victor Hugo")
    cid = fake_graph.add_comment(post, "Secret text of a resident: the crossing is dangerous")
    payload = mw.feed_comment(fake_graph, cid)
    before = _state(db)
    with caplog.at_level(logging.INFO):
        assert _post(client, payload, secret="not-the-app-secret").status_code == 403  # forged
        assert _post(client, payload, secret=None).status_code == 403  # missing
        assert _post(client, payload, headers={meta.SIGNATURE_HEADER: "sha256=" + "0" * 64}).status_code == 403
    assert _state(db) == before
    assert "Secret text" not in caplog.text and "refused" in caplog.text  # logged without the body
    _work(db, [fb_connector])
    assert _uids(db) == before[1] == []

    assert _post(client, payload).status_code == 200  # the real one
    assert [e.status for e in _work(db, [fb_connector])] == ["done"]
    after = _state(db)
    assert after[1] == [f"facebook:{cid}"]
    r = _post(client, payload)  # Meta retries the same delivery: accepted idempotently
    assert r.status_code == 200 and r.text.strip() == "replayed"
    assert _work(db, [fb_connector]) == []
    assert _state(db) == after
    assert len(fake_graph.calls(rf"/{cid}$", "GET")) == 1  # read once


def test_tampered_body_with_a_replayed_signature_is_refused(client, db):
    payload = mw.delivery("page", "5550001", "feed", {"item": "comment", "verb": "add", "comment_id": "1_2"})
    body, headers = mw.body_and_headers(payload, SECRET)
    r = client.post("/webhooks/meta", content=body.replace(b"1_2", b"1_3"), headers=headers)
    assert r.status_code == 403
    assert db.execute("SELECT COUNT(*) FROM webhook_events").fetchone()[0] == 0


def test_oversized_body_is_refused(client, db):
    r = client.post("/webhooks/meta", content=b"x" * 1_000_001, headers={meta.SIGNATURE_HEADER: "sha256=00"})
    assert r.status_code in (403, 413)
    assert db.execute("SELECT COUNT(*) FROM webhook_events").fetchone()[0] == 0


# ---- reading what the events point to --------------------------------------------------------------------

def test_a_comment_by_webhook_and_by_polling_is_one_inbox_item(client, db, fake_graph, fb_connector):
    post = fake_graph.add_post("Fermeture de la piscine")
    cid = fake_graph.add_comment(post, "Quand rouvre-t-elle ?")
    assert _post(client, mw.feed_comment(fake_graph, cid)).status_code == 200
    _work(db, [fb_connector])
    sync_connector(db, fb_connector)  # the poller reads the same comment
    sync_connector(db, fb_connector)
    assert _uids(db) == [f"facebook:{cid}"]
    item = repo.get_item(db, f"facebook:{cid}")
    assert item.mention.text == "Quand rouvre-t-elle ?" and item.mention.conversation_id == post
    # and the other way round: polled first, then the webhook
    cid2 = fake_graph.add_comment(post, "Et le week-end ?")
    sync_connector(db, fb_connector)
    assert _post(client, mw.feed_comment(fake_graph, cid2)).status_code == 200
    assert [o.inserted for o in _work(db, [fb_connector])] == [0]
    assert _uids(db) == sorted([f"facebook:{cid}", f"facebook:{cid2}"])


def test_edit_hide_and_remove_update_the_stored_item_with_audit(client, db, fake_graph, fb_connector):
    post = fake_graph.add_post("Marché de Noël")
    cid = fake_graph.add_comment(post, "Il ouvre quand ?")
    _post(client, mw.feed_comment(fake_graph, cid))
    _work(db, [fb_connector])
    fake_graph.edit(cid, "Il ouvre quand, le marché ?")
    _post(client, mw.feed_comment(fake_graph, cid, verb="edited"))
    _post(client, mw.feed_comment(fake_graph, cid, verb="hide"))
    _work(db, [fb_connector])
    item = repo.get_item(db, f"facebook:{cid}")
    assert item.mention.text == "Il ouvre quand, le marché ?" and item.hidden
    _post(client, mw.feed_comment(fake_graph, cid, verb="remove"))
    _work(db, [fb_connector])
    assert repo.get_item(db, f"facebook:{cid}").deleted_at is not None
    changes = [r[0] for r in db.execute("SELECT properties FROM audit_log WHERE event = 'mention-revised' "
                                        "AND subject = ?", (f"facebook:{cid}",))]
    assert any('"hidden"' in c for c in changes) and any('"deleted"' in c for c in changes)


def test_visitor_post_is_read_and_the_pages_own_items_are_not(client, db, fake_graph, fb_connector):
    visitor = fake_graph.add_post("Bravo pour le feu d'artifice", author=("7009", "Léa Petit"))
    own = fake_graph.add_post("Programme du 14 juillet")
    _post(client, mw.feed_post(fake_graph, visitor))
    _post(client, mw.feed_post(fake_graph, own))
    _post(client, mw.delivery("page", fake_graph.page_id, "feed", {"item": "reaction", "verb": "add",
                                                                   "post_id": own, "reaction_type": "like"}))
    outcomes = _work(db, [fb_connector])
    assert [o.status for o in outcomes] == ["done", "done", "done"]
    assert _uids(db) == [f"facebook:{visitor}"]


def test_a_deleted_comment_before_reading_is_skipped_and_unknown_fields_noted(client, db, fake_graph, fb_connector):
    post = fake_graph.add_post("Info")
    cid = fake_graph.add_comment(post, "vite effacé")
    payload = mw.feed_comment(fake_graph, cid)
    fake_graph.remove(cid)
    _post(client, payload)
    _post(client, mw.delivery("page", fake_graph.page_id, "ratings", {"verb": "add"}))
    outcomes = _work(db, [fb_connector])
    assert [o.status for o in outcomes] == ["done", "done"] and _uids(db) == []
    assert any("no handler for page/ratings" in n for n in outcomes[1].notes)


def test_a_transient_error_keeps_the_event_for_a_retry(client, db, fake_graph, fb_connector):
    post = fake_graph.add_post("Info")
    cid = fake_graph.add_comment(post, "Panne d'éclairage rue des Lilas")
    _post(client, mw.feed_comment(fake_graph, cid))
    fake_graph.fail("object", 500, {"error": {"message": "unexpected", "code": 2}}, times=3)
    now = datetime.now(UTC)
    assert [o.status for o in _work(db, [fb_connector], now)] == ["retry"]
    assert _uids(db) == [] and _work(db, [fb_connector], now) == []  # not due yet
    assert [o.status for o in _work(db, [fb_connector], now + timedelta(minutes=1))] == ["done"]
    assert _uids(db) == [f"facebook:{cid}"]


def test_instagram_comments_and_mentions(client, db, httpserver):
    fake = FakeInstagramApi()
    base = fake.install(httpserver)
    ig = InstagramConnector(ig_user_id=fake.ig_user_id, access_token=fake.token, base_url=base, backoff=0)
    media = fake.add_media("Le nouveau parc")
    cid = fake.add_comment(media, "Superbe !")
    mention = fake.add_mention("@villedetest la route est barrée")
    _post(client, mw.ig_comment(fake, cid))
    _post(client, mw.delivery("instagram", fake.ig_user_id, "mentions", mention))
    _post(client, mw.delivery("instagram", "17840000000009999", "comments", {"id": cid}))  # another account
    outcomes = _work(db, [ig])
    assert [o.status for o in outcomes] == ["done", "done", "done"]
    assert _uids(db) == sorted([f"instagram:{cid}", f"instagram:{mention['comment_id']}"])
    assert repo.get_item(db, f"instagram:{cid}").mention.conversation_id == media
    sync_connector(db, ig)  # polling reads the comment again: still one item
    assert _uids(db) == sorted([f"instagram:{cid}", f"instagram:{mention['comment_id']}"])


def test_a_field_handler_can_be_plugged_in(db, fake_graph, fb_connector, monkeypatch):
    seen = []
    monkeypatch.setitem(webhooks.FIELD_HANDLERS, ("page", "messages"),
                        lambda change, ctx: seen.append((change.owner, change.value)))
    with pytest.raises(ValueError):
        webhooks.register_field("page", "feed", lambda change, ctx: None)
    body = b'{"object":"page","entry":[{"id":"5550001","time":1,"messaging":[{"message":{"mid":"m1"}}]}]}'
    webhooks.accept(db, body, now=datetime.now(UTC))
    assert [o.status for o in _work(db, [fb_connector])] == ["done"]
    assert seen == [("5550001", {"message": {"mid": "m1"}})]


def test_processed_events_forget_their_body_and_are_purged_after_the_replay_window(client, db, fake_graph,
                                                                                    fb_connector):
    post = fake_graph.add_post("Info")
    cid = fake_graph.add_comment(post, "Bonjour")
    _post(client, mw.feed_comment(fake_graph, cid))
    _work(db, [fb_connector])
    (event,) = [rt.webhook_event(db, r[0]) for r in db.execute("SELECT id FROM webhook_events")]
    assert event is not None and event.status == "done" and event.body is None
    assert webhooks.purge(db, now=datetime.now(UTC) + timedelta(days=1)) == 0
    assert webhooks.purge(db, now=datetime.now(UTC) + webhooks.REPLAY_WINDOW + timedelta(hours=1)) == 1


def test_a_signed_body_that_cannot_be_recorded_answers_503_for_metas_retry(tmp_path):
    settings = Settings(data_dir=tmp_path, db_path=tmp_path / "missing" / "parvis.db",
                        values={"PARVIS_META_APP_SECRET": SECRET})
    client = TestClient(Starlette(routes=parvis_routes(settings)))
    assert _post(client, mw.delivery("page", "1", "feed", {})).status_code == 503


def test_an_event_that_keeps_failing_is_given_up_after_max_attempts(client, db, fake_graph, fb_connector):
    post = fake_graph.add_post("Info")
    cid = fake_graph.add_comment(post, "Bonjour")
    _post(client, mw.feed_comment(fake_graph, cid))
    fake_graph.fail("object", 500, {"error": {"message": "unexpected", "code": 2}}, times=1000)
    now = datetime.now(UTC)
    statuses = []
    for _ in range(webhooks.MAX_ATTEMPTS):
        statuses += [o.status for o in _work(db, [fb_connector], now)]
        now += timedelta(hours=2)
    assert statuses == ["retry"] * (webhooks.MAX_ATTEMPTS - 1) + ["failed"]
    assert _work(db, [fb_connector], now) == [] and _uids(db) == []


# ---- Messenger and Instagram Direct (issue #20) -----------------------------------------------------------

MESSENGER = {"object": "page", "entry": [{"id": "5550001", "time": 1764928800000, "messaging": [
    {"sender": {"id": "2400000000000001"}, "recipient": {"id": "5550001"}, "timestamp": 1764928800000,
     "message": {"mid": "m_pushed_1", "text": "Bonjour, mon adresse : 3 rue Pasteur"}}]}]}


def test_a_signed_messenger_webhook_becomes_a_private_inbox_item_once(client, db, db_path):
    on = Settings(data_dir=db_path.parent, db_path=db_path,
                  values={"PARVIS_FB_PAGE_ID": "5550001", "PARVIS_FB_MESSAGES": "1"})
    assert _post(client, MESSENGER).status_code == 200
    assert _post(client, MESSENGER).status_code == 200  # Meta's retry: replayed, changes nothing
    outcomes = webhooks.process_pending(db, [], now=datetime.now(UTC), settings=on)
    assert [o.status for o in outcomes] == ["done"]
    item = repo.get_item(db, "facebook:m_pushed_1")
    assert item is not None and item.private and "3 rue Pasteur" in item.mention.text
    assert _uids(db) == ["facebook:m_pushed_1"]


def test_a_messenger_webhook_is_not_stored_when_private_messages_are_off(client, db, settings):
    assert _post(client, MESSENGER).status_code == 200
    outcomes = webhooks.process_pending(db, [], now=datetime.now(UTC), settings=settings)
    assert [o.status for o in outcomes] == ["done"] and "not switched on" in " ".join(outcomes[0].notes)
    assert _uids(db) == []
