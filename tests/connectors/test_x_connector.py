"""The X connector through tweepy against the local fake X API: sync, errors, writes."""

from __future__ import annotations

import json
import time

import pytest

from connectors.x.connector import XConnector
from core.errors import AuthFailed, MalformedPayload, PermanentFailure, RateLimited, Unavailable, Unsupported
from tests.connectors.conftest import X_KEYS, load_fixture


def _mentions(fake, n, **kw):
    return [fake.add_tweet(f"@VilleDeTest message {i}", **kw) for i in range(n)]


def test_pagination_then_since_cursor_fetches_nothing_twice(fake_x, x_connector):
    tweets = _mentions(fake_x, 12)
    first = x_connector.fetch(None)
    assert {m.platform_id for m in first.mentions} == {t["id"] for t in tweets}
    assert len(fake_x.calls("/mentions")) == 3  # pages of 5
    assert json.loads(first.cursor)["mentions"] == {"since_id": tweets[-1]["id"]}
    again = x_connector.fetch(first.cursor)
    assert again.mentions == [] and fake_x.calls("/mentions")[-1].args["since_id"] == tweets[-1]["id"]
    newer = fake_x.add_tweet("@VilleDeTest un de plus")
    assert [m.platform_id for m in x_connector.fetch(again.cursor).mentions] == [newer["id"]]


def test_page_budget_resumes_the_walk_without_losing_or_repeating(fake_x):
    tweets = _mentions(fake_x, 12)
    connector = XConnector(bearer_token=fake_x.bearer, user_id="1000", base_url=fake_x.base_url, page_size=5,
                           max_pages=2, backoff=0)
    first = connector.fetch(None)
    assert first.has_more and len(first.mentions) == 10
    fake_x.add_tweet("@VilleDeTest arrivé pendant la pagination")
    second = connector.fetch(first.cursor)
    assert not second.has_more
    seen = [m.platform_id for m in (*first.mentions, *second.mentions)]
    assert sorted(seen) == sorted(t["id"] for t in tweets)  # the newcomer waits for the next pass
    third = connector.fetch(second.cursor)
    assert [m.text for m in third.mentions] == ["@VilleDeTest arrivé pendant la pagination"]


def test_search_is_deduplicated_against_mentions_and_own_posts_ignored(fake_x):
    both = fake_x.add_tweet("@VilleDeTest #MaVille les deux", search=True)
    only_search = fake_x.add_tweet("#MaVille seulement la recherche", mention=False, search=True, author="3003")
    fake_x.add_tweet("Notre propre message #MaVille", author="1000", mention=False, search=True)
    connector = XConnector(bearer_token=fake_x.bearer, user_id="1000", base_url=fake_x.base_url,
                           search_query="#MaVille -is:retweet", backoff=0)
    result = connector.fetch(None)
    kinds = {m.platform_id: m.kind for m in result.mentions}
    assert kinds == {both["id"]: "mention", only_search["id"]: "search"}
    assert fake_x.calls("/search/recent")[0].args["query"] == "#MaVille -is:retweet"
    state = json.loads(result.cursor)
    assert state["search"]["since_id"] and state["query"] == "#MaVille -is:retweet"
    changed = XConnector(bearer_token=fake_x.bearer, user_id="1000", base_url=fake_x.base_url,
                         search_query="Ville de Test", backoff=0)
    changed.fetch(result.cursor)
    assert "since_id" not in fake_x.calls("/search/recent")[-1].args  # a new query starts its own history


def test_429_raises_rate_limited_with_reset_and_endpoint(fake_x, x_connector):
    reset = int(time.time()) + 600
    fake_x.fail("mentions", 429, load_fixture("x/error_429.json"),
                headers={"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)})
    with pytest.raises(RateLimited) as info:
        x_connector.fetch(None)
    assert info.value.reset_at == reset and info.value.endpoint == "GET /2/users/:id/mentions"
    assert x_connector.health().rate_limited_until.timestamp() == reset


def test_search_rate_limit_does_not_stop_mentions(fake_x):
    fake_x.add_tweet("@VilleDeTest coucou")
    fake_x.fail("search", 429, load_fixture("x/error_429.json"),
                headers={"x-rate-limit-reset": str(int(time.time()) + 900)})
    connector = XConnector(bearer_token=fake_x.bearer, user_id="1000", base_url=fake_x.base_url,
                           search_query="#MaVille", backoff=0)
    result = connector.fetch(None)
    assert len(result.mentions) == 1
    connector.fetch(result.cursor)
    assert len(fake_x.calls("/search/recent")) == 1  # the search window is honoured until its reset


def test_expired_or_revoked_token_is_auth_failed_and_never_echoed(fake_x):
    connector = XConnector(bearer_token="revoked-bearer-secret", user_id="1000", base_url=fake_x.base_url, backoff=0)
    with pytest.raises(AuthFailed) as info:
        connector.fetch(None)
    assert "revoked-bearer-secret" not in str(info.value) and "revoked-bearer-secret" not in repr(connector)
    health = connector.health()
    assert not health.ok and health.detail.startswith("auth_failed")


def test_403_not_enrolled_is_auth_failed_but_duplicate_is_permanent(fake_x, x_connector):
    fake_x.fail("mentions", 403, load_fixture("x/error_403_not_enrolled.json"))
    with pytest.raises(AuthFailed):
        x_connector.fetch(None)
    fake_x.fail("create", 403, load_fixture("x/error_403_duplicate.json"))
    with pytest.raises(PermanentFailure, match="duplicate content"):
        x_connector.publish("Bonjour")


def test_5xx_is_retried_then_succeeds(fake_x, x_connector):
    fake_x.add_tweet("@VilleDeTest après la panne")
    fake_x.fail("mentions", 503, load_fixture("x/error_503.json"), times=2)
    assert len(x_connector.fetch(None).mentions) == 1
    assert len(fake_x.calls("/mentions")) == 3


def test_5xx_beyond_retries_is_unavailable(fake_x, x_connector):
    fake_x.fail("mentions", 502, load_fixture("x/error_503.json"), times=3)
    with pytest.raises(Unavailable):
        x_connector.fetch(None)


def test_unreachable_host_is_unavailable():
    connector = XConnector(bearer_token="t", user_id="1", base_url="http://127.0.0.1:9", retries=0, timeout=2)
    with pytest.raises(Unavailable, match="network"):
        connector.fetch(None)


def test_malformed_json_is_malformed_payload(fake_x, x_connector):
    fake_x.fail("mentions", 200, raw=b'{"data": [ {"id": "1", ')
    with pytest.raises(MalformedPayload):
        x_connector.fetch(None)


def test_one_malformed_item_is_skipped_and_the_page_kept(fake_x, x_connector):
    fake_x.fail("mentions", 200, load_fixture("x/mentions_malformed_item.json"))
    result = x_connector.fetch(None)
    assert [m.platform_id for m in result.mentions] == ["1877100000000000004"]
    assert len(result.skipped) == 3


def test_unicode_emoji_and_long_text_survive_the_round_trip(fake_x, x_connector):
    long_text = "Bonjour la mairie 🚲🌳 " + "é" * 20000
    fake_x.add_tweet(long_text, lang="fr")
    fake_x.add_tweet("مرحبا 你好 👋🏽 Ünïcödé", lang="und")
    texts = {m.text for m in x_connector.fetch(None).mentions}
    assert texts == {long_text, "مرحبا 你好 👋🏽 Ünïcödé"}


def test_edit_upserts_onto_the_original_and_deleted_parent_is_a_change(fake_x, x_connector):
    original = fake_x.add_tweet("@VilleDeTest premiere version")
    first = x_connector.fetch(None)
    fake_x.edit(original["id"], "@VilleDeTest version corrigée")
    parent = fake_x.add_tweet("un message qui sera supprimé", mention=False, author="4004")
    fake_x.add_tweet("@VilleDeTest je réponds", reply_to=parent["id"])
    fake_x.remove(parent["id"])
    second = x_connector.fetch(first.cursor)
    edited = [m for m in second.mentions if m.platform_id == original["id"]]
    assert edited and edited[0].text == "@VilleDeTest version corrigée" and edited[0].raw["id"] != original["id"]
    assert [(c.uid, c.change) for c in second.changes] == [(f"x:{parent['id']}", "deleted")]


def test_reply_body_reaches_the_api_exactly(fake_x, x_connector):
    fake_x.add_tweet("@VilleDeTest une question ?")
    mention = x_connector.fetch(None).mentions[0]
    text = "@user Merci, une équipe passe demain 🚧 — Julie, Ville de Test"
    published = x_connector.reply(mention, text)
    assert fake_x.posted == [{"text": text, "reply": {"in_reply_to_tweet_id": mention.raw["id"]}}]
    call = fake_x.calls("/2/tweets$", "POST")[0]
    assert call.headers["Authorization"].startswith("OAuth ") and "cs-secret-value" not in str(call.headers)
    assert published.platform_id and published.permalink.endswith(published.platform_id)


def test_hide_unhide_and_delete(fake_x, x_connector):
    fake_x.add_tweet("@VilleDeTest réponse insultante")
    mention = x_connector.fetch(None).mentions[0]
    x_connector.hide(mention)
    assert fake_x.hidden == {mention.platform_id: True}
    x_connector.unhide(mention)
    assert fake_x.hidden == {mention.platform_id: False}
    assert [c.json() for c in fake_x.calls("/hidden$", "PUT")] == [{"hidden": True}, {"hidden": False}]
    own = x_connector.publish("Info travaux")
    x_connector.delete(own.platform_id)
    assert fake_x.deleted == [own.platform_id]


def test_writes_need_user_context_keys_and_x_has_no_native_scheduling(fake_x):
    from datetime import UTC, datetime, timedelta

    read_only = XConnector(bearer_token=fake_x.bearer, user_id="1000", base_url=fake_x.base_url, backoff=0)
    with pytest.raises(AuthFailed, match="PARVIS_X_CONSUMER_KEY"):
        read_only.publish("Bonjour")
    assert read_only.health().detail.startswith("read only")
    writer = XConnector(bearer_token=fake_x.bearer, user_id="1000", base_url=fake_x.base_url, **X_KEYS)
    with pytest.raises(Unsupported):
        writer.publish("Plus tard", scheduled_at=datetime.now(UTC) + timedelta(hours=2))
    assert fake_x.posted == []


def test_health_reports_the_account(x_connector):
    health = x_connector.health()
    assert health.ok and health.account == "@VilleDeTest" and health.detail == "read and write"


def test_health_flags_a_wrong_user_id(fake_x):
    connector = XConnector(bearer_token=fake_x.bearer, user_id="999", base_url=fake_x.base_url, backoff=0)
    health = connector.health()
    assert not health.ok and "PARVIS_X_USER_ID" in health.detail
