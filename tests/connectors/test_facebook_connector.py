"""The Facebook connector through pyfacebook against the local fake Graph API: sync, errors, writes."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from connectors.facebook.connector import FacebookConnector
from core.errors import AuthFailed, MalformedPayload, PermanentFailure, RateLimited, Unavailable
from tests.connectors.conftest import load_fixture

CITIZEN = ("6100001", "Camille Martin")


def _uids(result):
    return {m.uid for m in result.mentions}


def test_first_sync_takes_comments_replies_visitor_and_tagged_posts(fake_graph, fb_connector):
    post = fake_graph.add_post("Travaux rue des Lilas")
    top = fake_graph.add_comment(post, "Par où passe le bus ?", author=CITIZEN)
    reply = fake_graph.add_comment(post, "Bonne question", parent=top, author=("6100042", "Léa"))
    fake_graph.add_comment(post, "Le bus 12 est dévié", parent=top, author=(fake_graph.page_id, "Ville"))
    visitor = fake_graph.add_post("Quand ouvre la patinoire ?", author=("6100099", "Sophie"))
    tagged = fake_graph.add_tagged("Merci à la Ville de Test")
    result = fb_connector.fetch(None)
    by_uid = {m.uid: m for m in result.mentions}
    assert set(by_uid) == {f"facebook:{i}" for i in (top, reply, visitor, tagged)}  # not the Page's own reply
    assert by_uid[f"facebook:{reply}"].kind == "reply" and by_uid[f"facebook:{reply}"].in_reply_to == top
    assert by_uid[f"facebook:{top}"].kind == "comment" and by_uid[f"facebook:{top}"].conversation_id == post
    assert by_uid[f"facebook:{visitor}"].kind == "mention" and by_uid[f"facebook:{tagged}"].kind == "tag"
    assert result.skipped == [] and result.changes == []


def test_cursor_fetches_nothing_twice_and_catches_late_comments_on_old_posts(fake_graph, fb_connector):
    old_post = fake_graph.add_post("Annonce de la semaine dernière",
                                   created_at=datetime.now(UTC) - timedelta(days=5))
    fake_graph.add_comment(old_post, "Premier avis", author=CITIZEN,
                           created_at=datetime.now(UTC) - timedelta(days=5) + timedelta(hours=1))
    for i in range(30):  # newer posts push the old one to the second page of the feed
        fake_graph.add_post(f"Actualité {i}", created_at=datetime.now(UTC) - timedelta(days=1, minutes=-i))
    first = fb_connector.fetch(None)
    assert len(first.mentions) == 1
    assert fb_connector.fetch(first.cursor).mentions == []
    late = fake_graph.add_comment(old_post, "Je reviens sur ce post", author=CITIZEN,
                                  created_at=datetime.now(UTC) - timedelta(seconds=5))
    third = fb_connector.fetch(first.cursor)
    assert _uids(third) == {f"facebook:{late}"}
    assert len(fake_graph.calls("/feed$", "GET")) >= 6  # two pages of posts per pass


def test_comment_pagination_reaches_back_to_the_cursor(fake_graph):
    post = fake_graph.add_post("Consultation budget participatif")
    first_ids = [fake_graph.add_comment(post, f"idée {i}", author=CITIZEN) for i in range(5)]
    connector = FacebookConnector(page_id=fake_graph.page_id, page_token=fake_graph.token,
                                  base_url=fake_graph.base_url, comment_limit=3, backoff=0)
    first = connector.fetch(None)
    assert _uids(first) == {f"facebook:{i}" for i in first_ids}
    burst = [fake_graph.add_comment(post, f"nouvelle idée {i} 💡", author=CITIZEN) for i in range(250)]
    second = connector.fetch(first.cursor)
    assert _uids(second) == {f"facebook:{i}" for i in burst}
    pages = fake_graph.calls(r"/5550001_\d+/comments$", "GET")
    assert pages and all(c.args["filter"] == "stream" and c.args["order"] == "reverse_chronological" for c in pages)


def test_edit_hide_and_delete_seen_on_the_platform_become_changes(fake_graph, fb_connector):
    post = fake_graph.add_post("Fermeture de la piscine")
    kept = fake_graph.add_comment(post, "Dommage", author=CITIZEN)
    edited = fake_graph.add_comment(post, "C'est nul", author=("6100077", "Marc"))
    gone = fake_graph.add_comment(post, "Message effacé ensuite", author=("6100078", "Zoé"))
    visitor = fake_graph.add_post("Mon message sur la page", author=("6100099", "Sophie"))
    fake_graph.add_comment(visitor, "Réponse sous le post du visiteur", author=CITIZEN)
    first = fb_connector.fetch(None)
    fake_graph.edit(edited, "C'est dommage (modifié)")
    fake_graph.comments[kept]["is_hidden"] = True
    fake_graph.remove(gone)
    fake_graph.remove(visitor)
    second = fb_connector.fetch(first.cursor)
    assert [(m.uid, m.text) for m in second.mentions] == [(f"facebook:{edited}", "C'est dommage (modifié)")]
    changes = {(c.uid, c.change) for c in second.changes}
    assert (f"facebook:{kept}", "hidden") in changes
    assert (f"facebook:{gone}", "deleted") in changes
    assert (f"facebook:{visitor}", "deleted") in changes
    assert fb_connector.fetch(second.cursor).changes == []  # a change is reported once


def test_token_travels_in_a_header_and_never_reaches_urls_or_raw(fake_graph, fb_connector):
    post = fake_graph.add_post("Post")
    for i in range(60):  # more comments than embedded: the Graph paging link carries access_token=
        fake_graph.add_comment(post, f"c{i}", author=CITIZEN)
    result = fb_connector.fetch(None)
    assert len(result.mentions) == 60
    assert all("access_token" not in c.args and c.headers["Authorization"] == f"Bearer {fake_graph.token}"
               for c in fake_graph.requests)
    assert fake_graph.token not in json.dumps([m.raw for m in result.mentions]) + result.cursor


def test_expired_token_is_auth_failed_without_the_token(fake_graph):
    connector = FacebookConnector(page_id=fake_graph.page_id, page_token="EAAB-expired-secret",
                                  base_url=fake_graph.base_url, backoff=0)
    with pytest.raises(AuthFailed, match="#190") as info:
        connector.fetch(None)
    assert "EAAB-expired-secret" not in str(info.value) and "EAAB-expired-secret" not in repr(connector)
    assert not connector.health().ok


def test_page_rate_limit_uses_the_business_use_case_regain_time(fake_graph, fb_connector):
    headers = load_fixture("facebook/usage_headers.json")
    fake_graph.fail("feed", 400, load_fixture("facebook/error_32_page_limit.json"), headers=headers)
    before = time.time()
    with pytest.raises(RateLimited) as info:
        fb_connector.fetch(None)
    assert before + 19 * 60 - 5 <= info.value.reset_at <= time.time() + 19 * 60 + 5
    assert info.value.endpoint == "GET /{page}/feed"
    assert fb_connector.health().rate_limited_until is not None


def test_app_rate_limit_without_regain_time_waits_the_default(fake_graph, fb_connector):
    fake_graph.fail("feed", 403, load_fixture("facebook/error_4_app_limit.json"))
    with pytest.raises(RateLimited) as info:
        fb_connector.fetch(None)
    assert info.value.reset_at > time.time() + 10 * 60


def test_transient_errors_are_retried_then_succeed(fake_graph, fb_connector):
    post = fake_graph.add_post("Post")
    fake_graph.add_comment(post, "hello", author=CITIZEN)
    fake_graph.fail("feed", 500, load_fixture("facebook/error_2_transient.json"))
    fake_graph.fail("feed", 503, raw=b"<html>Service Unavailable</html>")
    assert len(fb_connector.fetch(None).mentions) == 1


def test_persistent_5xx_is_unavailable(fake_graph, fb_connector):
    fake_graph.fail("feed", 502, raw=b"<html>Bad gateway</html>", times=3)
    with pytest.raises(Unavailable):
        fb_connector.fetch(None)


def test_malformed_json_and_malformed_items(fake_graph, fb_connector):
    fake_graph.fail("feed", 200, raw=b'{"data": [')
    with pytest.raises(MalformedPayload):
        fb_connector.fetch(None)
    page = load_fixture("facebook/feed_malformed_item.json")
    page["data"][0]["created_time"] = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    for comment in page["data"][0]["comments"]["data"]:
        if "created_time" in comment:
            comment["created_time"] = page["data"][0]["created_time"]
    fake_graph.fail("feed", 200, page)
    result = fb_connector.fetch(None)
    assert _uids(result) == {"facebook:1300_4"} and len(result.skipped) == 3


def test_missing_tagged_permission_does_not_stop_the_feed(fake_graph, fb_connector):
    post = fake_graph.add_post("Post")
    fake_graph.add_comment(post, "hello", author=CITIZEN)
    fake_graph.fail("tagged", 403, load_fixture("facebook/error_200_permission.json"))
    assert len(fb_connector.fetch(None).mentions) == 1
    assert "tagged posts not read" in fb_connector.health().detail


def test_unicode_and_very_long_comments(fake_graph, fb_connector):
    post = fake_graph.add_post("Post")
    long_text = "Madame la Maire, " + "très " * 1600 + "cordialement 🙏🏼"
    fake_graph.add_comment(post, long_text, author=CITIZEN)
    fake_graph.add_comment(post, "Ça marche 👍 — 東京 — Ωμέγα", author=CITIZEN)
    assert {m.text for m in fb_connector.fetch(None).mentions} == {long_text, "Ça marche 👍 — 東京 — Ωμέγα"}


def test_reply_goes_to_the_comment_or_to_the_thread_of_a_reply(fake_graph, fb_connector):
    post = fake_graph.add_post("Post")
    top = fake_graph.add_comment(post, "Question", author=CITIZEN)
    nested = fake_graph.add_comment(post, "Moi aussi", parent=top, author=("6100042", "Léa"))
    by_id = {m.platform_id: m for m in fb_connector.fetch(None).mentions}
    text = "Bonjour, le bus 12 est dévié par la rue Haute. — Julie, Ville de Test 🚌"
    published = fb_connector.reply(by_id[top], text)
    fb_connector.reply(by_id[nested], "Idem pour vous !")
    assert fake_graph.replies == [(top, text), (top, "Idem pour vous !")]
    assert fake_graph.calls("/comments$", "POST")[0].form == {"message": text}
    assert published.platform_id in fake_graph.comments and published.permalink


def test_hide_unhide_delete(fake_graph, fb_connector):
    post = fake_graph.add_post("Post")
    comment = fake_graph.add_comment(post, "insulte", author=CITIZEN)
    mention = fb_connector.fetch(None).mentions[0]
    fb_connector.hide(mention)
    fb_connector.unhide(mention)
    assert fake_graph.hidden_ops == [(comment, True), (comment, False)]
    assert [c.form for c in fake_graph.calls(rf"/{comment}$", "POST")] == [{"is_hidden": "true"},
                                                                           {"is_hidden": "false"}]
    fb_connector.delete(comment)
    assert fake_graph.deleted == [comment] and comment not in fake_graph.comments


def test_scheduled_post_uses_native_scheduling(fake_graph, fb_connector):
    when = datetime(2026, 12, 24, 9, 0, tzinfo=UTC)
    published = fb_connector.publish("Joyeux Noël à tous ! 🎄", scheduled_at=when)
    assert fake_graph.published == [{"message": "Joyeux Noël à tous ! 🎄", "published": "false",
                                     "scheduled_publish_time": str(int(when.timestamp()))}]
    assert published.platform_id.startswith(f"{fake_graph.page_id}_")
    fb_connector.publish("Maintenant")
    assert fake_graph.published[-1] == {"message": "Maintenant"}


def test_write_errors_are_translated(fake_graph, fb_connector):
    fake_graph.fail("publish", 400, load_fixture("facebook/error_200_permission.json"))
    with pytest.raises(PermanentFailure, match="#200"):
        fb_connector.publish("Bonjour")


def test_health_reports_the_page(fb_connector):
    health = fb_connector.health()
    assert health.ok and health.account == "Ville de Test" and "v24.0" in health.detail


def test_the_pages_own_post_becomes_the_root_of_its_comments_thread(fake_graph, fb_connector, db):
    """Decision 0212, real connectors: the Page's own posts come in the feed anyway (no extra request); one with
    comments is recorded as the root of their thread, and « Fil » shows it first; the Page's posts are never inbox
    items, and a post without comments is not recorded."""
    from services.connections.ingest import sync_connector
    from services.inbox import triage

    post = fake_graph.add_post("Travaux rue des Lilas du 3 au 7 juin : le bus 12 est dévié")
    comment = fake_graph.add_comment(post, "Par où passe le bus ?", author=CITIZEN)
    quiet = fake_graph.add_post("Marché de Noël samedi")
    result = fb_connector.fetch(None)
    assert [p.platform_id for p in result.own_posts] == [post]
    assert f"facebook:{post}" not in _uids(result) and f"facebook:{quiet}" not in _uids(result)

    now = datetime.now(UTC)
    sync_connector(db, FacebookConnector(page_id=fake_graph.page_id, page_token=fake_graph.token,
                                         base_url=fake_graph.base_url, version=fake_graph.version, backoff=0),
                   now=now)
    root = triage.detail(db, f"facebook:{comment}", now=now).root
    assert root is not None and root.text.startswith("Travaux rue des Lilas") and root.source == "fetched"
    assert root.permalink.startswith("https://")
