"""Mastodon connector against the fake instance: pagination, cursors, idempotent writes, limits, failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.mastodon import normalize as nz
from connectors.mastodon.connector import MastodonConnector, from_settings
from core import repo
from core.db import write_transaction
from core.errors import AuthFailed, MalformedPayload, PermanentFailure, RateLimited, Unavailable, Unsupported
from services.connections.ingest import _apply_changes, store_mentions, sync_connector
from tests.fakes import FakeMastodonApi


@pytest.fixture
def fake(httpserver) -> FakeMastodonApi:
    fake = FakeMastodonApi()
    fake.install(httpserver)
    return fake


def connect(fake: FakeMastodonApi, **kwargs) -> MastodonConnector:
    return MastodonConnector(base_url=fake.base, access_token=fake.token, backoff=0, **kwargs)


def test_pages_through_link_headers_and_keeps_only_mentions(fake):
    for i in range(7):
        fake.mention(f"Question {i} sur la piscine 🏊")
    fake.favourite(next(iter(fake.statuses)))
    result = connect(fake, page_size=3).fetch(None)
    assert sorted(m.text for m in result.mentions) == sorted(f"@villedetest Question {i} sur la piscine 🏊"
                                                             for i in range(7))
    calls = fake.calls("/api/v1/notifications")
    assert [c.args.get("max_id") for c in calls] == [None, "505", "502", "501"][:len(calls)]
    assert all(c.args["types[]"] == "mention" for c in calls)
    assert not result.has_more and not result.skipped


def test_since_id_brings_only_new_mentions(fake):
    connector = connect(fake)
    fake.mention("Premier message")
    first = connector.fetch(None)
    fake.mention("Deuxième message")
    second = connector.fetch(first.cursor)
    assert [m.text for m in second.mentions] == ["@villedetest Deuxième message"]
    assert fake.calls("/api/v1/notifications")[-1].args["since_id"] == "501"
    assert connector.fetch(second.cursor).mentions == []


def test_page_budget_resumes_where_it_stopped(fake):
    for i in range(5):
        fake.mention(f"Message {i}")
    connector = connect(fake, page_size=2, max_pages=1)
    seen, cursor, more = [], None, True
    while more:
        result = connector.fetch(cursor)
        seen += [m.uid for m in result.mentions]
        cursor, more = result.cursor, result.has_more
    assert len(seen) == len(set(seen)) == 5
    fake.mention("Nouveau")
    assert [m.text for m in connector.fetch(cursor).mentions] == ["@villedetest Nouveau"]


def test_429_raises_rate_limited_with_the_reset_header(fake):
    reset = (datetime.now(UTC) + timedelta(minutes=4)).replace(microsecond=0)
    fake.fail("notifications", 429, {"error": "Too many requests"},
              headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.000Z")})
    connector = connect(fake)
    with pytest.raises(RateLimited) as info:
        connector.fetch(None)
    assert info.value.reset_at == reset.timestamp()
    assert connector.rate_limited_until() == reset
    before = len(fake.requests)
    with pytest.raises(RateLimited):  # the window is honoured: nothing is sent before the reset
        connector.fetch(None)
    assert len(fake.requests) == before


def test_an_exhausted_window_stops_calls_before_the_429(fake):
    fake.mention("Bonjour")
    fake.remaining = 2  # the fetch (a page, then the empty page past it) uses the last ones
    connector = connect(fake)
    assert len(connector.fetch(None).mentions) == 1
    with pytest.raises(RateLimited):
        connector.publish("Annonce")
    assert not fake.calls("/api/v1/statuses", "POST")


def test_a_limit_hit_mid_walk_keeps_the_pages_read(fake):
    for i in range(5):
        fake.mention(f"Message {i}")
    fake.remaining = 2
    connector = connect(fake, page_size=2)
    first = connector.fetch(None)
    assert len(first.mentions) == 4 and first.has_more
    connector._limited_until = None  # the window reopened
    fake.remaining = 100
    rest = connector.fetch(first.cursor)
    assert [m.text for m in rest.mentions] == ["@villedetest Message 0"] and not rest.has_more


def test_401_is_auth_failed_and_health_says_so(fake):
    connector = MastodonConnector(base_url=fake.base, access_token="revoked", backoff=0)
    with pytest.raises(AuthFailed):
        connector.fetch(None)
    health = connector.health()
    assert not health.ok and "auth_failed" in health.detail
    assert "revoked" not in health.detail


def test_missing_scope_is_auth_failed(fake):
    fake.fail("post", 403, {"error": "This action is outside the authorized scopes"})
    with pytest.raises(AuthFailed):
        connect(fake).publish("Annonce")


def test_a_malformed_item_is_skipped_and_the_page_kept(fake):
    fake.mention("Bon message")
    broken = fake.mention("Sans auteur")
    fake.notifications[next(k for k, n in fake.notifications.items() if n["status"] is broken)]["status"] = {
        "id": "999", "content": "<p>x</p>"}
    result = connect(fake).fetch(None)
    assert [m.text for m in result.mentions] == ["@villedetest Bon message"]
    assert len(result.skipped) == 1 and "missing" in result.skipped[0]


def test_5xx_is_retried_then_succeeds_and_bad_json_is_malformed(fake):
    fake.mention("Bonjour")
    fake.fail("notifications", 503, {"error": "unavailable"})
    assert len(connect(fake).fetch(None).mentions) == 1
    fake.fail("notifications", 200, raw=b"{not json", times=3)
    with pytest.raises(MalformedPayload):
        connect(fake).fetch(None)


def test_reply_addresses_the_author_with_an_idempotency_key(fake):
    status = fake.mention("Quand rouvre la médiathèque ? 📚")
    connector = connect(fake)
    mention = connector.fetch(None).mentions[0]
    first = connector.reply(mention, "Lundi à 10 h. — Julie, Ville de Test")
    again = connector.reply(mention, "Lundi à 10 h. — Julie, Ville de Test")  # a retry after a timeout
    assert first == again and len(fake.posted) == 1
    body = fake.posted[0]
    assert body["in_reply_to_id"] == status["id"]
    assert body["status"] == "@camille@mastodon.example Lundi à 10 h. — Julie, Ville de Test"
    keys = [c.headers.get("Idempotency-Key") for c in fake.calls("/api/v1/statuses", "POST")]
    assert keys[0] and keys[0] == keys[1]


def test_native_scheduling_and_cancelling(fake):
    connector = connect(fake)
    published = connector.publish("Conseil municipal jeudi", scheduled_at=datetime.now(UTC) + timedelta(hours=3))
    assert published.platform_id.startswith("scheduled:") and fake.scheduled
    connector.delete(published.platform_id)
    assert not fake.scheduled
    with pytest.raises(PermanentFailure):  # the instance refuses less than 5 minutes ahead
        connector.publish("Trop tôt", scheduled_at=datetime.now(UTC) + timedelta(minutes=1))


def test_too_long_text_is_a_permanent_failure_and_hide_unsupported(fake):
    connector = connect(fake)
    with pytest.raises(PermanentFailure):
        connector.publish("é" * 501)
    with pytest.raises(Unsupported):
        connector.hide(nz.status_to_mention(fake.status("x")))


def test_images_are_uploaded_with_their_alt_text_then_attached(fake, image):
    poster, plan = image("affiche.png"), image("plan.jpg", alt="Plan du parcours de la course des Foulées")
    published = connect(fake).publish("Fête de la musique samedi", media=[poster, plan])
    assert [(u["description"], u["mimetype"]) for u in fake.uploads] == [
        (poster["alt"], "image/png"), ("Plan du parcours de la course des Foulées", "image/jpeg")]
    assert fake.uploads[0]["size"] == len(Path(poster["path"]).read_bytes())
    status = fake.statuses[published.platform_id]
    assert [a["description"] for a in status["media_attachments"]] == [poster["alt"], plan["alt"]]
    assert fake.posted[0]["media_ids"] == [u["id"] for u in fake.uploads]


def test_a_202_upload_is_polled_until_processed_and_the_wait_is_bounded(fake, image):
    fake.processing_polls = 2
    naps: list[float] = []
    connector = MastodonConnector(base_url=fake.base, access_token=fake.token, backoff=0, sleep=naps.append,
                                  media_polls=5, media_poll_interval=2.0)
    published = connector.publish("Travaux", media=[image()])
    assert len(fake.calls(r"/api/v1/media/\d+", "GET")) == 3 and naps == [2.0, 2.0, 2.0]
    assert fake.statuses[published.platform_id]["media_attachments"][0]["url"]
    fake.processing_polls = 50
    slow = MastodonConnector(base_url=fake.base, access_token=fake.token, backoff=0, sleep=lambda _s: None,
                             media_polls=3)
    with pytest.raises(Unavailable):  # still processing: nothing posted, the publisher retries later
        slow.publish("Autre annonce", media=[image()])
    assert len(fake.posted) == 1


def test_the_idempotency_key_covers_the_images(fake, image):
    connector = connect(fake)
    first = connector.publish("Annonce", media=[image()])
    again = connector.publish("Annonce", media=[image()])  # a blind retry: same text, same image, same alt
    other = connector.publish("Annonce", media=[image(alt="Une autre description de l'affiche")])
    assert first == again and other.platform_id != first.platform_id
    assert len([s for s in fake.statuses.values() if s["account"]["id"] == fake.me["id"]]) == 2


def test_unpublishable_images_fail_permanently_naming_the_file(fake, image):
    connector = connect(fake)
    with pytest.raises(PermanentFailure, match="au plus|at most"):
        connector.publish("Cinq photos", media=[image() for _ in range(5)])
    with pytest.raises(PermanentFailure, match="plan.png"):
        connector.publish("Sans description", media=[image("plan.png", alt=" ")])
    missing = {**image("perdu.png"), "path": "/nonexistent/perdu.png"}
    with pytest.raises(PermanentFailure, match="perdu.png"):
        connector.publish("Fichier perdu", media=[missing])
    assert not fake.uploads and not fake.posted


def test_thread_block_and_mute(fake):
    root = fake.status("Travaux rue Jean-Jaurès", author=("109000", "villedetest", "Ville de Test"))
    reply = fake.mention("Jusqu'à quand ?", reply_to=root["id"])
    fake.status("Merci", reply_to=reply["id"])
    connector = connect(fake)
    mention = connector.fetch(None).mentions[0]
    thread = connector.thread(mention)
    assert [m.text for m in thread] == ["Travaux rue Jean-Jaurès", "Merci"]
    connector.block(mention.author.platform_id)
    connector.mute(mention.author.platform_id)
    assert fake.blocked == fake.muted == ["209001"]


def test_html_content_becomes_plain_text_and_raw_is_json_safe():
    status = {"id": "1", "created_at": datetime(2026, 1, 5, 8, 12, tzinfo=UTC),
              "account": {"id": "7", "acct": "a@b.c", "display_name": "A"}, "spoiler_text": "",
              "content": '<p>Bonjour <span class="h-card"><a href="#">@<span>ville</span></a></span> &amp; '
                         'voir <a href="https://x.fr/long"><span class="invisible">https://</span>'
                         '<span class="ellipsis">x.fr/lo</span><span class="invisible">ng</span></a></p>'
                         '<p>ligne 2<br />ligne 3</p>'}
    mention = nz.status_to_mention(status)
    # issue #16: a link is its whole href, not the cut display « x.fr/lo »
    assert mention.text == "Bonjour @ville & voir https://x.fr/long\n\nligne 2\nligne 3"
    assert mention.raw["created_at"] == "2026-01-05T08:12:00+00:00"


def test_from_settings():
    values = {"PARVIS_MASTODON_BASE_URL": "https://mastodon.example/", "PARVIS_MASTODON_ACCESS_TOKEN": "tok"}
    connector = from_settings(values.get)
    assert connector.base_url == "https://mastodon.example" and "tok" not in repr(connector)


def _version(fake: FakeMastodonApi, status: dict, text: str, at: str) -> dict:
    return {"content": f"<p>{text}</p>", "spoiler_text": "", "sensitive": False, "created_at": at,
            "account": status["account"], "poll": None, "media_attachments": [], "emojis": []}


def test_an_edited_mention_brings_its_edit_history_as_revisions(fake, db):
    fake.mention("Rien à signaler")
    status = fake.mention("La fontaine fuit", edited_at="2026-01-05T09:00:00.000Z")
    fake.statuses[status["id"]]["content"] = "<p>@villedetest La fontaine du parc fuit encore</p>"
    fake.history[status["id"]] = [
        _version(fake, status, "@villedetest La fontaine fuit", status["created_at"]),
        _version(fake, status, "@villedetest La fontaine du parc fuit", "2026-01-05T08:30:00.000Z"),
        _version(fake, status, "@villedetest La fontaine du parc fuit encore", "2026-01-05T09:00:00.000Z")]
    connector = connect(fake)
    result = sync_connector(db, connector)
    assert result.status == "ok" and result.inserted == 2
    uid = f"mastodon:{status['id']}"
    steps = [(r["old_text"], r["new_text"]) for r in repo.revisions(db, uid)]
    assert steps == [("@villedetest La fontaine fuit", "@villedetest La fontaine du parc fuit"),
                     ("@villedetest La fontaine du parc fuit", "@villedetest La fontaine du parc fuit encore")]
    assert len(fake.calls(r"/history$")) == 1  # only the edited status costs a call
    assert db.execute("SELECT edited_at IS NOT NULL FROM mentions WHERE uid = ?", (uid,)).fetchone()[0] == 1
    events = db.execute("SELECT count(*) FROM audit_log WHERE event = 'mention-revised'").fetchone()[0]
    assert events == 2
    again = connector.fetch(None)  # the same history read twice (a re-walk) adds nothing
    with write_transaction(db):
        store_mentions(db, again.mentions, now=datetime.now(UTC))
        assert _apply_changes(db, again.changes, now=datetime.now(UTC)) == 0
    assert len(repo.revisions(db, uid)) == 2


def test_edit_histories_left_by_a_rate_limit_wait_in_the_cursor(fake):
    status = fake.mention("Texte corrigé", edited_at="2026-01-05T09:00:00.000Z")
    fake.history[status["id"]] = [_version(fake, status, "Texte", status["created_at"]),
                                  _version(fake, status, "Texte corrigé", "2026-01-05T09:00:00.000Z")]
    fake.fail("history", 429, {"error": "Too many requests"})
    connector = connect(fake)
    first = connector.fetch(None)
    assert [m.platform_id for m in first.mentions] == [status["id"]] and not first.changes
    connector._limited_until = None  # the window reopened
    second = connector.fetch(first.cursor)
    assert not second.mentions and [(c.uid, c.old_text, c.new_text) for c in second.changes] == [
        (f"mastodon:{status['id']}", "Texte", "Texte corrigé")]
    assert "history_due" not in second.cursor
