"""Mastodon connector against the fake instance: pagination, cursors, idempotent writes, limits, failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.mastodon import normalize as nz
from connectors.mastodon.connector import MastodonConnector, from_settings
from core.errors import AuthFailed, MalformedPayload, PermanentFailure, RateLimited, Unsupported
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


def test_too_long_text_is_a_permanent_failure_and_media_unsupported(fake):
    connector = connect(fake)
    with pytest.raises(PermanentFailure):
        connector.publish("é" * 501)
    with pytest.raises(Unsupported):
        connector.publish("Photo", media=[{"kind": "image", "name": "a.png", "alt": "Une photo"}])
    with pytest.raises(Unsupported):
        connector.hide(nz.status_to_mention(fake.status("x")))


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
    assert mention.text == "Bonjour @ville & voir x.fr/lo\n\nligne 2\nligne 3"
    assert mention.raw["created_at"] == "2026-01-05T08:12:00+00:00"


def test_from_settings():
    values = {"PARVIS_MASTODON_BASE_URL": "https://mastodon.example/", "PARVIS_MASTODON_ACCESS_TOKEN": "tok"}
    connector = from_settings(values.get)
    assert connector.base_url == "https://mastodon.example" and "tok" not in repr(connector)
