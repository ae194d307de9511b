"""Issue #16, point 10: a Bluesky reply comes with its thread's start (``app.bsky.feed.getPostThread``), looked up
once per thread, bounded, never for every item (decision 0260); the fake serves the lexicon's shapes, checked
against the atproto SDK's models."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from atproto_client import models
from atproto_client.models.utils import get_or_create

from connectors.bluesky import normalize as nz
from connectors.bluesky.connector import BlueskyConnector
from core import repo
from core.errors import AuthFailed, RateLimited
from services.connections.ingest import sync_connector
from services.inbox import triage
from tests.fakes import FakeBlueskyApi

THREAD = "app.bsky.feed.getPostThread"


@pytest.fixture
def fake(httpserver) -> FakeBlueskyApi:
    api = FakeBlueskyApi()
    api.base = api.install(httpserver)  # type: ignore[attr-defined]
    return api


def connector(fake: FakeBlueskyApi, tmp_path, **kwargs) -> BlueskyConnector:
    return BlueskyConnector(handle=fake.account_handle, app_password=fake.password, base_url=fake.base,
                            session_path=tmp_path / "bluesky.session", backoff=0, **kwargs)


def thread_of(fake: FakeBlueskyApi):
    """City post ← Alice (not a notification to the city) ← Camille (a reply notification)."""
    fake.accounts["alice.bsky.social"] = "did:plc:alice000000000000000000"
    root = fake.own_post("Fermeture de la piscine lundi")
    middle = fake.post("Et le bassin extérieur ?", by="alice.bsky.social", reply_to=root["uri"], reason=None)
    reply = fake.post("Même question, https://www.ville-test.fr/piscine/horaires-ete-2026 ?",
                      reply_to=middle["uri"], reason="reply")
    return root, middle, reply


def lookups(fake: FakeBlueskyApi) -> list:
    return fake.calls(rf"/xrpc/{THREAD}$")


def test_a_reply_carries_its_thread_root_first_in_one_bounded_lookup(fake, tmp_path):
    root, middle, reply = thread_of(fake)
    result = connector(fake, tmp_path).fetch(None)
    [mention] = result.mentions
    context = mention.raw["context"]
    assert [c["uri"] for c in context] == [root["uri"], middle["uri"]]  # root first
    assert context[0]["own"] is True and context[0]["text"] == "Fermeture de la piscine lundi"
    assert context[1]["handle"] == "alice.bsky.social" and context[1]["state"] == "post"
    assert context[1]["permalink"].startswith("https://bsky.app/profile/alice.bsky.social/post/")
    [call] = lookups(fake)
    assert call.args == {"uri": reply["uri"], "depth": "0", "parentHeight": "10"}
    assert mention.conversation_id == root["uri"] and mention.in_reply_to == middle["uri"]
    assert set(json.loads(result.cursor)["known"]) >= {root["uri"], middle["uri"], reply["uri"]}


def test_once_per_thread_and_never_again_for_a_known_parent(fake, tmp_path):
    root, middle, _ = thread_of(fake)
    fake.post("Et le parking ?", by="dom.bsky.social", reply_to=middle["uri"], reason="reply")  # same thread
    fake.post("Merci pour l'info", reason="mention")  # not a reply: no lookup
    sky = connector(fake, tmp_path)
    first = sky.fetch(None)
    assert len(first.mentions) == 3 and len(lookups(fake)) == 1
    contexts = [m.raw.get("context") for m in first.mentions if m.in_reply_to]
    assert sum(c is not None for c in contexts) == 1  # the other shares it through the thread (detail view)
    fake.post("Toujours pas de réponse ?", reply_to=middle["uri"], reason="reply")  # parent known: no lookup
    again = sky.fetch(first.cursor)
    assert len(again.mentions) == 1 and "context" not in again.mentions[0].raw and len(lookups(fake)) == 1
    other = fake.own_post("Travaux rue Haute")
    fake.post("Jusqu'à quand ?", reply_to=other["uri"], reason="reply")  # a new thread: one more lookup
    [new] = sky.fetch(again.cursor).mentions
    assert [c["uri"] for c in new.raw["context"]] == [other["uri"]] and len(lookups(fake)) == 2


def test_deleted_root_and_blocked_parent_as_the_lexicon_shows_them(fake, tmp_path):
    root, middle, _ = thread_of(fake)
    fake.delete(root["uri"])
    [mention] = connector(fake, tmp_path).fetch(None).mentions
    assert [(c["uri"], c["state"]) for c in mention.raw["context"]] == [(root["uri"], "not_found"),
                                                                        (middle["uri"], "post")]
    fake.block_relation("alice.bsky.social")
    [mention] = connector(fake, tmp_path / "b").fetch(None).mentions
    assert [(c["uri"], c["state"]) for c in mention.raw["context"]] == [(middle["uri"], "blocked")]
    assert "text" not in mention.raw["context"][0]  # a blocked post has no text to show


def test_the_fake_s_thread_answers_are_the_lexicon_s(fake, tmp_path):
    root, middle, reply = thread_of(fake)
    fake.label(reply["uri"], "!warn")
    sky = connector(fake, tmp_path)
    sky.fetch(None)
    ask = {"uri": reply["uri"], "depth": 6, "parentHeight": 80}
    answer = sky._query(THREAD, **ask)  # noqa: SLF001
    parsed = get_or_create(answer, models.AppBskyFeedGetPostThread.Response, strict=True)
    assert parsed.thread.py_type == "app.bsky.feed.defs#threadViewPost"
    assert parsed.thread.parent.parent.post.uri == root["uri"]
    assert [lab.val for lab in parsed.thread.post.labels] == ["!warn"]
    fake.delete(root["uri"])
    fake.block_relation("alice.bsky.social")
    fake.post("Une autre branche", reply_to=reply["uri"], reason=None)
    answer = sky._query(THREAD, **ask)  # noqa: SLF001
    parsed = get_or_create(answer, models.AppBskyFeedGetPostThread.Response, strict=True)
    assert parsed.thread.parent.py_type == "app.bsky.feed.defs#blockedPost" and parsed.thread.parent.blocked
    assert len(parsed.thread.replies) == 1
    fake.block_relation("nobody")
    fake.blocks.clear()
    parsed = get_or_create(sky._query(THREAD, **ask), models.AppBskyFeedGetPostThread.Response)  # noqa: SLF001
    assert parsed.thread.parent.parent.py_type == "app.bsky.feed.defs#notFoundPost"
    assert parsed.thread.parent.parent.not_found and parsed.thread.parent.parent.uri == root["uri"]
    posts = sky._query("app.bsky.feed.getPosts", uris=[reply["uri"], root["uri"]])  # noqa: SLF001
    got = get_or_create(posts, models.AppBskyFeedGetPosts.Response, strict=True)
    assert [p.uri for p in got.posts] == [reply["uri"]]  # the deleted one left out
    page = sky._query("app.bsky.notification.listNotifications", limit=50)  # noqa: SLF001
    notes = get_or_create(page, models.AppBskyNotificationListNotifications.Response, strict=True)
    assert notes.notifications[0].reason == "reply" and notes.notifications[0].labels[0].val == "!warn"
    assert notes.notifications[0].reason_subject == middle["uri"]


def test_rate_limited_or_failing_lookups_never_fail_the_sync(fake, tmp_path):
    thread_of(fake)
    reset = fake.rate_limit("getPostThread")
    sky = connector(fake, tmp_path)
    result = sky.fetch(None)
    assert len(result.mentions) == 1 and "context" not in result.mentions[0].raw
    assert any("rate_limited" in note for note in result.notes)
    assert sky._limited_until == datetime.fromtimestamp(reset, UTC)  # noqa: SLF001 - the PDS limit is shared
    fake.fail("getPostThread", 400, {"error": "NotFound", "message": "Post not found"})
    sky2 = connector(fake, tmp_path / "2")
    result = sky2.fetch(None)
    assert len(result.mentions) == 1 and "context" not in result.mentions[0].raw and not result.notes


def test_lookups_per_pass_are_bounded(fake, tmp_path):
    for n in range(3):
        city = fake.own_post(f"Annonce {n}")
        fake.post(f"Question {n}", reply_to=city["uri"], reason="reply")
    result = connector(fake, tmp_path, thread_lookups=2).fetch(None)
    assert len(result.mentions) == 3 and len(lookups(fake)) == 2
    assert sum("context" in m.raw for m in result.mentions) == 2 and result.notes
    assert connector(fake, tmp_path / "z", thread_lookups=0).fetch(None).mentions  # lookups off


def test_thread_context_reads_the_lexicon_union():
    anchor = {"uri": "at://did:plc:c/app.bsky.feed.post/3", "cid": "c3", "indexedAt": "2026-01-05T08:00:00.000Z",
              "author": {"did": "did:plc:c", "handle": "c.bsky.social"},
              "record": {"$type": "app.bsky.feed.post", "text": "x", "createdAt": "2026-01-05T08:00:00.000Z"}}
    answer = {"thread": {"$type": nz.THREAD_VIEW, "post": anchor,
                         "parent": {"$type": nz.NOT_FOUND, "uri": "at://did:plc:a/app.bsky.feed.post/1",
                                    "notFound": True}}}
    assert nz.thread_context(answer) == [{"uri": "at://did:plc:a/app.bsky.feed.post/1", "state": "not_found"}]
    with pytest.raises(nz.MalformedItem):
        nz.thread_context({"thread": {"$type": nz.NOT_FOUND, "uri": anchor["uri"], "notFound": True}})


def test_the_inbox_detail_shows_the_thread_start_once(db, now, fake, tmp_path):
    root, middle, _ = thread_of(fake)
    fake.post("Et le parking ?", by="dom.bsky.social", reply_to=middle["uri"], reason="reply")
    sky = connector(fake, tmp_path)
    sync_connector(db, sky, now=now)
    items = [it for it in repo.conversation(db, "bluesky", root["uri"])]
    assert len(items) == 2
    for item in items:
        shown = triage.detail(db, item.uid, now=now)
        assert [c["uri"] for c in shown.context] == [root["uri"], middle["uri"]]


def test_the_fake_s_notification_pages_are_the_lexicon_s_and_errors_the_pds_s(fake, tmp_path):
    """Issue #16, point 3: no Bluesky recordings exist, so every shape the fake serves is checked against the
    atproto SDK's models of the lexicon (listNotifications pages through ``cursor``, reasons, records with facets,
    embeds and reply refs, labels); 429 carries ``ratelimit-reset``; an expired token answers 400 ExpiredToken."""
    root, middle, reply = thread_of(fake)
    fake.quote("Et les horaires d'été ?", root["uri"], images=2)
    fake.post("@ville-test.bsky.social bonjour https://www.ville-test.fr/actualites/travaux-rue-haute-2026")
    fake.like(root["uri"])
    fake.label(reply["uri"], "porn")
    sky = connector(fake, tmp_path, page_size=2)
    reasons, cursor, pages = [], None, 0
    while True:
        page = sky._query("app.bsky.notification.listNotifications", limit=2, cursor=cursor)  # noqa: SLF001
        parsed = get_or_create(page, models.AppBskyNotificationListNotifications.Response, strict=True)
        reasons += [n.reason for n in parsed.notifications]
        pages += 1
        cursor = parsed.cursor
        if not cursor:
            break
    assert pages == 2 and sorted(reasons) == ["like", "mention", "quote", "reply"]
    result = sky.fetch(None)
    by_kind = {m.raw["reason"]: m for m in result.mentions}
    assert set(by_kind) == {"mention", "reply", "quote"} and by_kind["quote"].quote_of == root["uri"]
    assert "https://www.ville-test.fr/actualites/travaux-rue-haute-2026" in by_kind["mention"].text  # facet
    reset = fake.rate_limit("listNotifications", reset_in=120)
    with pytest.raises(RateLimited) as info:
        connector(fake, tmp_path / "r").fetch(None)
    assert info.value.reset_at == reset
    fake.tokens.clear()  # the PDS no longer knows the session: 400 ExpiredToken
    with pytest.raises(AuthFailed, match="ExpiredToken") as expired:
        sky.fetch(None)
    assert getattr(expired.value, "session_only", False)  # not « reconnexion nécessaire »: the next call signs in
    signed = fake.sign_ins
    assert len(sky.fetch(None).mentions) == 3 and fake.sign_ins == signed + 1
