"""Bluesky connector against the fake PDS: cursors, facets, thread gate, persisted session, limits, failures."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.bluesky import normalize as nz
from connectors.bluesky.connector import BlueskyConnector, from_settings
from core.errors import AuthFailed, MalformedPayload, PermanentFailure, RateLimited, Unsupported
from tests.fakes import FakeBlueskyApi


@pytest.fixture
def fake(httpserver) -> FakeBlueskyApi:
    fake = FakeBlueskyApi()
    fake.base = fake.install(httpserver)  # type: ignore[attr-defined]
    return fake


def connect(fake: FakeBlueskyApi, tmp_path, **kwargs) -> BlueskyConnector:
    return BlueskyConnector(handle=fake.account_handle, app_password=fake.password, base_url=fake.base,
                            session_path=tmp_path / "bluesky.session", backoff=0, **kwargs)


def test_mentions_replies_and_quotes_across_pages_without_likes(fake, tmp_path):
    own = fake.own_post("Fermeture de la piscine lundi")
    fake.post("@ville-test.bsky.social pourquoi ? 🏊")
    fake.post("Dommage", reply_to=own["uri"], reason="reply")
    fake.post("Regardez ça", reason="quote")
    fake.like(own["uri"])
    for i in range(3):
        fake.post(f"@ville-test.bsky.social question {i}")
    result = connect(fake, tmp_path, page_size=2).fetch(None)
    assert sorted(m.kind for m in result.mentions) == ["mention"] * 5 + ["reply"]
    assert len(fake.calls("listNotifications")) == 4 and not result.has_more
    reply = next(m for m in result.mentions if m.kind == "reply")
    assert reply.conversation_id == own["uri"] and reply.in_reply_to == own["uri"]
    assert reply.permalink.startswith("https://bsky.app/profile/camille.bsky.social/post/")


def test_the_cursor_brings_only_new_notifications_and_resumes_a_cut_walk(fake, tmp_path):
    for i in range(5):
        fake.post(f"@ville-test.bsky.social message {i}")
    connector = connect(fake, tmp_path, page_size=2, max_pages=1)
    seen, cursor, more = [], None, True
    while more:
        result = connector.fetch(cursor)
        seen += [m.uid for m in result.mentions]
        cursor, more = result.cursor, result.has_more
    assert len(seen) == len(set(seen)) == 5
    fake.post("@ville-test.bsky.social nouveau")
    assert [m.text for m in connector.fetch(cursor).mentions] == ["@ville-test.bsky.social nouveau"]


def test_reply_threads_under_the_root_with_link_and_mention_facets(fake, tmp_path):
    own = fake.own_post("Travaux rue Jean-Jaurès")
    fake.post("Jusqu'à quand ? 🚧", reply_to=own["uri"], reason="reply")
    connector = connect(fake, tmp_path)
    mention = connector.fetch(None).mentions[0]
    text = "Merci @camille.bsky.social : tout est sur https://ville-test.fr/travaux — @inconnu.example.org"
    published = connector.reply(mention, text)
    record = fake.records[published.platform_id]["value"]
    assert record["reply"]["root"]["uri"] == own["uri"]
    assert record["reply"]["parent"]["uri"] == mention.platform_id
    data = text.encode()
    spans = {data[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode(): f["features"][0] for f in record["facets"]}
    assert spans["@camille.bsky.social"]["did"] == fake.accounts["camille.bsky.social"]
    assert spans["https://ville-test.fr/travaux"]["uri"] == "https://ville-test.fr/travaux"
    assert "@inconnu.example.org" not in spans  # an unresolvable handle stays text


def test_hide_and_unhide_through_the_thread_gate(fake, tmp_path):
    own = fake.own_post("Conseil municipal ce soir")
    fake.post("Réponse insultante", reply_to=own["uri"], reason="reply")
    fake.post("Autre réponse", reply_to=own["uri"], reason="reply")
    connector = connect(fake, tmp_path)
    first, second = sorted(connector.fetch(None).mentions, key=lambda m: m.created_at)
    connector.hide(first)
    connector.hide(second)
    connector.unhide(first)
    gate = fake.gate(own["uri"])
    assert gate["post"] == own["uri"] and gate["hiddenReplies"] == [second.platform_id]
    assert "allow" not in gate  # everyone may still reply


def test_cannot_hide_outside_the_city_threads(fake, tmp_path):
    fake.post("@ville-test.bsky.social un post à moi")
    connector = connect(fake, tmp_path)
    with pytest.raises(PermanentFailure, match="own posts"):
        connector.hide(connector.fetch(None).mentions[0])


def test_the_session_is_persisted_and_reused(fake, tmp_path):
    fake.post("@ville-test.bsky.social bonjour")
    connect(fake, tmp_path).fetch(None)
    path = tmp_path / "bluesky.session"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and fake.password not in path.read_text()
    for _ in range(3):  # restarts
        assert connect(fake, tmp_path).health().ok
    assert fake.sign_ins == 1


def test_an_expiring_token_is_refreshed_and_saved(fake, tmp_path):
    fake.access_ttl = timedelta(minutes=5)  # the SDK refreshes 15 minutes before expiry
    connector = connect(fake, tmp_path)
    connector.health()
    before = (tmp_path / "bluesky.session").read_text()
    connector.health()
    assert fake.calls("refreshSession") and (tmp_path / "bluesky.session").read_text() != before


def test_a_revoked_session_falls_back_to_the_app_password(fake, tmp_path):
    connect(fake, tmp_path).health()
    fake.tokens.clear()  # the PDS revoked every session
    connector = connect(fake, tmp_path)
    with pytest.raises(AuthFailed):
        connector.fetch(None)
    assert connector.health().ok and fake.sign_ins == 2


def test_wrong_app_password_is_auth_failed(fake, tmp_path):
    connector = BlueskyConnector(handle=fake.account_handle, app_password="wrong", base_url=fake.base, backoff=0)
    with pytest.raises(AuthFailed):
        connector.fetch(None)
    health = connector.health()
    assert not health.ok and "wrong" not in health.detail


def test_429_raises_rate_limited_with_reset(fake, tmp_path):
    reset = int((datetime.now(UTC) + timedelta(minutes=3)).timestamp())
    fake.fail("listNotifications", 429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
              headers={"ratelimit-limit": "3000", "ratelimit-remaining": "0", "ratelimit-reset": str(reset)})
    with pytest.raises(RateLimited) as info:
        connect(fake, tmp_path).fetch(None)
    assert info.value.reset_at == reset


def test_write_points_are_respected_before_sending(fake, tmp_path):
    connector = connect(fake, tmp_path)
    connector._writes.append((datetime.now(UTC), 4999))
    with pytest.raises(RateLimited, match="write points"):
        connector.publish("Annonce")
    assert not fake.calls("createRecord")


def test_malformed_item_skipped_and_bad_page_malformed(fake, tmp_path):
    fake.post("@ville-test.bsky.social bon")
    fake.post("@ville-test.bsky.social cassé")
    fake.notifications[-1]["record"] = {"$type": "app.bsky.feed.post"}
    connector = connect(fake, tmp_path)
    result = connector.fetch(None)
    assert [m.text for m in result.mentions] == ["@ville-test.bsky.social bon"] and len(result.skipped) == 1
    fake.fail("listNotifications", 200, {"unexpected": True})
    with pytest.raises(MalformedPayload):
        connector.fetch(None)


def test_publish_delete_and_no_native_scheduling(fake, tmp_path):
    connector = connect(fake, tmp_path)
    published = connector.publish("Marché de Noël samedi 🎄")
    connector.delete(published.platform_id)
    assert published.platform_id not in fake.records
    with pytest.raises(Unsupported):
        connector.publish("Plus tard", scheduled_at=datetime.now(UTC) + timedelta(days=1))


def test_images_are_uploaded_as_blobs_and_embedded_with_alt_text_and_facets(fake, tmp_path, image):
    poster, plan = image("affiche.png"), image("plan.jpg", alt="Plan des stands du marché de Noël")
    connector = connect(fake, tmp_path)
    published = connector.publish("Marché de Noël : programme sur https://ville-test.fr/noel", media=[poster, plan])
    uploads = fake.calls("uploadBlob", "POST")
    assert [c.headers["Content-Type"] for c in uploads] == ["image/png", "image/jpeg"]
    assert uploads[0].body == Path(poster["path"]).read_bytes()
    record = fake.records[published.platform_id]["value"]
    embed = record["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    assert [i["alt"] for i in embed["images"]] == [poster["alt"], "Plan des stands du marché de Noël"]
    assert [i["image"]["ref"]["$link"] for i in embed["images"]] == list(fake.blobs)
    assert embed["images"][0]["image"]["mimeType"] == "image/png" and embed["images"][0]["image"]["size"] > 0
    assert record["facets"][0]["features"][0]["uri"] == "https://ville-test.fr/noel"


def test_too_heavy_or_too_many_images_are_refused_before_anything_is_sent(fake, tmp_path, image):
    connector = connect(fake, tmp_path)
    light = image("leger.png", size=2_000_000)
    heavy = image("lourd.jpg", alt="Photo aérienne du centre-ville", size=2_000_001)
    with pytest.raises(PermanentFailure, match="lourd.jpg") as info:
        connector.publish("Vue aérienne", media=[light, heavy])
    assert "2,000,000" in str(info.value)
    with pytest.raises(PermanentFailure, match="4"):
        connector.publish("Cinq photos", media=[image() for _ in range(5)])
    assert not fake.calls("uploadBlob") and not fake.calls("createRecord")
    assert connector.publish("Juste à la limite", media=[light]).platform_id in fake.records


def test_facets_use_utf8_byte_offsets():
    text = "Été 🌞 @a.bsky.social https://x.fr/é"
    found = nz.facets(text, lambda handle: "did:plc:a")
    data = text.encode()
    assert [data[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode() for f in found] == [
        "@a.bsky.social", "https://x.fr/é"]


def test_from_settings_keeps_the_session_under_the_data_dir(tmp_path):
    values = {"PARVIS_BLUESKY_HANDLE": "@ville.bsky.social", "PARVIS_BLUESKY_APP_PASSWORD": "secret-pass"}
    connector = from_settings(values.get, data_dir=tmp_path)
    assert connector.handle == "ville.bsky.social" and connector.session_path == tmp_path / "bluesky-bluesky.session"
    assert "secret-pass" not in repr(connector)
