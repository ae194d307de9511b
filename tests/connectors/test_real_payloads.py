"""Issue #16: payloads recorded on the live APIs, through the normalisers and, replayed, through ``fetch()``.

The recordings live beside the checkout in ``../shared/real-payloads/`` (sources and licences in its README; each
file is ``{_source, status, headers, body}``). They are read there by path, never copied into the repository;
without the folder (a newcomer's machine) every test here is skipped. ``PARVIS_REAL_PAYLOADS`` may point elsewhere.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug import Request, Response

from connectors.facebook import normalize as fb
from connectors.instagram import normalize as ig
from connectors.mastodon import normalize as masto
from connectors.normalize import MalformedItem
from connectors.x import normalize as xn
from core.models import Mention

REAL = Path(os.environ.get("PARVIS_REAL_PAYLOADS")
            or Path(__file__).resolve().parents[2].parent / "shared" / "real-payloads")
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"no recordings of the live APIs at {REAL}")
FILES = sorted(p.relative_to(REAL).as_posix() for p in REAL.glob("*/*.json")) if REAL.is_dir() else []


def body(name: str) -> Any:
    """The recorded answer of ``<platform>/<file>`` (without ``.json``)."""
    return json.loads((REAL / f"{name}.json").read_text(encoding="utf-8"))["body"]


# ---- every recording through its normaliser ------------------------------------------------------


def _x(page: Any) -> tuple[list[Mention], int]:
    read = xn.read_page(page)
    assert len(read.mentions) + len(read.rejected) + read.retweets == len(page.get("data") or ())  # none lost
    assert len(read.skipped) == len(read.rejected)
    return read.mentions, len(read.rejected)


def _each(items: Any, make: Callable[[Any], Mention]) -> tuple[list[Mention], int]:
    found, bad = [], 0
    for item in items:
        try:
            found.append(make(item))
        except MalformedItem:
            bad += 1
    return found, bad


def _fb_posts(page: Any) -> tuple[list[Mention], int]:
    posts, bad = _each(page["data"], fb.post_to_mention)
    return posts, bad


def _fb_with_comments(page: Any) -> tuple[list[Mention], int]:
    found, bad = _each(page.values(), fb.post_to_mention)
    for post in page.values():
        more, worse = _each(post["comments"]["data"], lambda c, p=post: fb.comment_to_mention(c, post_id=p["id"]))
        found, bad = found + more, bad + worse
    return found, bad


def _ig_comments(items: Any) -> tuple[list[Mention], int]:
    return _each(ig.flatten(list(items), "recording"), lambda c: ig.comment_to_mention(c, media={"id": "m1"}))


def _masto_notifications(page: Any) -> tuple[list[Mention], int]:
    mentions, skipped = masto.mentions_from_notifications(page, ignored={})
    return mentions, len(skipped)


def _masto_context(context: Any) -> tuple[list[Mention], int]:
    mentions, skipped = masto.thread_from_context(context)
    return mentions, len(skipped)


def _masto_history(history: Any) -> tuple[list[Mention], int]:
    assert masto.edit_steps(history)  # each recorded history has at least one edit
    return [], 0


NORMALISE: dict[str, Callable[[Any], tuple[list[Mention], int]]] = {
    "x/": _x,
    "facebook/pyfb_page_feed": _fb_posts,
    "facebook/pyfb_group_feed": _fb_posts,
    "facebook/pyfb_post_comments": lambda page: _each(page["data"], lambda c: fb.comment_to_mention(c, post_id="p")),
    "facebook/pyfb_comment_info": lambda c: _each([c], lambda c: fb.comment_to_mention(c, post_id="p")),
    "facebook/pyfb_model_comment": lambda c: _each([c], lambda c: fb.comment_to_mention(c, post_id="p")),
    "facebook/pyfb_multi_posts_with_comments": _fb_with_comments,
    "instagram/pyfb_ig_comments_by_ids": lambda page: _ig_comments(page.values()),
    "instagram/pyfb_ig_media_comments": lambda page: _ig_comments(page["data"]),
    "instagram/pyfb_ig_replies": lambda page: _ig_comments(page["data"]),
    "instagram/pyfb_ig_model_": lambda c: _ig_comments([c]),
    "instagram/pyfb_ig_tags": lambda page: _each(page["data"], lambda m: ig.media_to_mention(m, kind="tag")),
    "instagram/pyfb_ig_user_media": lambda page: _each(page["data"], lambda m: ig.media_to_mention(m, kind="tag")),
    "instagram/pyfb_ig_mentioned_comment": lambda page: _each(
        [page["mentioned_comment"]], lambda c: ig.mentioned_comment_to_mention(c, media_id="m1")),
    "instagram/pyfb_ig_mentioned_media": lambda page: _each(
        [page["mentioned_media"]], lambda m: ig.media_to_mention(m, kind="mention")),
    "mastodon/localdev_notifications": _masto_notifications,
    "mastodon/mastosocial_notifications": _masto_notifications,
    "mastodon/mastosocial_context": _masto_context,
    "mastodon/mastosocial_history": _masto_history,
    "mastodon/": lambda status: _each([status], masto.status_to_mention),
}


def normalise(name: str) -> tuple[list[Mention], int]:
    """Mentions of one recording and how many of its items were refused as malformed."""
    reader = next(fn for prefix, fn in NORMALISE.items() if name.startswith(prefix))
    return reader(body(name.removesuffix(".json")))


@pytest.mark.parametrize("name", FILES)
def test_every_recording_goes_through_its_normaliser(name):
    mentions, _ = normalise(name)
    unknown = [m.author.platform_id for m in mentions if not m.author.known]
    assert len(unknown) == len(set(unknown))  # authorless items never share an author
    for m in mentions:
        assert m.author.platform_id  # never empty
        assert "&amp;" not in m.text and "&gt;" not in m.text and "&lt;" not in m.text
        assert m.permalink is None or m.permalink.startswith(("https://", "http://"))
        assert all(url.startswith(("https://", "http://")) for url in m.media)
        assert m.created_at.tzinfo is not None


def test_every_recording_has_a_reader():
    assert FILES and all(any(f.startswith(p) for p in NORMALISE) for f in FILES)


# ---- what each recording teaches ------------------------------------------------------------------


def test_x_posts_without_the_fields_parvis_asks_for_are_rejected_visibly_not_dropped():
    page = body("x/tweepy_users_mentions")  # tweepy's cassette: default fields only (no author_id, created_at)
    read = xn.read_page(page)
    assert read.mentions == [] and [r[0] for r in read.rejected] == [t["id"] for t in page["data"]]
    assert all("author_id" in reason for _, reason, _ in read.rejected)
    assert read.rejected[0][2] == f"https://x.com/i/web/status/{page['data'][0]['id']}"


def test_x_links_expanded_authors_replies_and_permalinks_from_a_full_page():
    page = body("x/pytwitter_search_tweets_query")
    mentions = {m.platform_id: m for m in xn.read_page(page, kind="search").mentions}
    first = mentions["1276035977375477760"]
    assert "t.co/" not in first.text
    assert first.text.endswith("https://twitter.com/happycamper/status/1276035977375477760/photo/1")
    assert first.author.platform_id == "63046977" and first.author.handle == "happycamper"
    assert first.in_reply_to == "1275653067283759104"
    assert first.permalink == "https://x.com/happycamper/status/1276035977375477760"
    assert mentions["1275763727908798470"].text == (
        "@snowman @happycamper https://twitter.com/jellybeanjones/status/1275763727908798470/photo/1")


def test_x_quotes_are_linked_and_retweets_are_not_inbox_items():
    page = body("x/pytwitter_search_tweets_query")
    tweet = dict(page["data"][1], referenced_tweets=[{"type": "quoted", "id": "42"}])
    retweet = dict(page["data"][2], referenced_tweets=[{"type": "retweeted", "id": "43"}])
    read = xn.read_page({**page, "data": [tweet, retweet]})
    assert [m.quote_of for m in read.mentions] == ["42"] and read.retweets == 1


def test_facebook_feed_images_and_unknown_authors():
    posts = [m for n in ("p1", "p2") for m in _fb_posts(body(f"facebook/pyfb_page_feed_{n}"))[0]]
    assert len(posts) == 10 and all(p.media for p in posts)  # 10 of 10 real feed posts carry an image
    assert all(url.startswith("https://") and "fbcdn.net" in url for p in posts for url in p.media)
    assert len({p.author.platform_id for p in posts}) == 10 and not any(p.author.known for p in posts)
    assert posts[0].permalink and posts[0].permalink.startswith("https://www.facebook.com/")


def test_facebook_comment_attachment_author_and_thread():
    comment = fb.comment_to_mention(body("facebook/pyfb_model_comment"), post_id="2954961744718970")
    assert comment.media == (body("facebook/pyfb_model_comment")["attachment"]["media"]["image"]["src"],)
    assert (comment.author.platform_id, comment.author.display_name) == ("2711636948859886", "Kun Liu")
    assert comment.conversation_id == comment.in_reply_to == "2954961744718970"
    info = fb.comment_to_mention(body("facebook/pyfb_comment_info"), post_id="p")  # read without ``from``
    assert not info.author.known and info.permalink == body("facebook/pyfb_comment_info")["permalink_url"]
    found, bad = _fb_with_comments(body("facebook/pyfb_multi_posts_with_comments"))
    assert bad == 0 and sum(m.author.known for m in found) == sum(m.kind == "comment" for m in found) > 0


def test_facebook_comments_without_id_are_refused():
    found, bad = _each(body("facebook/pyfb_post_comments_p1")["data"], lambda c: fb.comment_to_mention(c, post_id="p"))
    assert found == [] and bad == len(body("facebook/pyfb_post_comments_p1")["data"])  # the SDK trimmed ``id``


def test_instagram_author_ids_never_usernames():
    comment = ig.comment_to_mention(body("instagram/pyfb_ig_model_comment"), media={"id": "17846368219941692"})
    assert (comment.author.platform_id, comment.author.handle) == ("17841406338772941", "ikroskun")  # user{id}
    by_ids = [ig.comment_to_mention(c, media={"id": "m"}) for c in body("instagram/pyfb_ig_comments_by_ids").values()]
    assert {c.author.handle for c in by_ids} == {"ikroskun", "lixiangguodu123"}
    assert not any(c.author.known for c in by_ids) and len({c.author.platform_id for c in by_ids}) == 2
    mentioned = ig.mentioned_comment_to_mention(body("instagram/pyfb_ig_mentioned_comment")["mentioned_comment"],
                                                media_id="m1")
    assert mentioned.author.handle == "ikroskun" and not mentioned.author.known  # the @mention's author, shown
    tag = ig.media_to_mention(body("instagram/pyfb_ig_tags")["data"][0], kind="tag")
    assert tag.permalink == "https://www.instagram.com/p/CMeo7rcJvTi/" and not tag.author.known


def test_mastodon_notifications_without_status_are_nothing_to_read_not_malformed():
    ignored: dict[str, int] = {}
    mentions, skipped = masto.mentions_from_notifications(body("mastodon/mastosocial_notifications"), ignored=ignored)
    assert skipped == [] and len(mentions) == 1 and ignored == {"status_gone": 39}


def test_mastodon_links_handles_quotes_threads_and_media():
    quote = masto.status_to_mention(body("mastodon/localdev_status_quote_longlink"))
    assert quote.quote_of == "117020582917124092" and quote.text == "yoooooooo"  # the « RE: » link is the quote
    card = masto.status_to_mention(body("mastodon/localdev_status_link_card"))
    assert "http://example.org/" in card.text
    remote = masto.status_to_mention(body("mastodon/mastosocial_status_remote_audio_reply"))
    assert remote.text.startswith("@halcy@mastodon.social ")  # the full handle, not « @halcy »
    assert remote.in_reply_to == remote.conversation_id == "110447003454258227" and remote.media
    cw = masto.status_to_mention(body("mastodon/mastosocial_status_edited_cw_gifv"))
    assert cw.text.startswith("[CW: test post for mastodon.py stuff] @halcy@icosahedron.website ")
    assert cw.permalink == "https://icosahedron.website/@halcy/110446222386355655" and cw.media
    image = masto.status_to_mention(body("mastodon/mastosocial_status_image_reply"))
    assert image.media and image.kind == "reply"


# ---- replayed through fetch() ---------------------------------------------------------------------


class Replay:
    """Answers each request with the first route whose method and path match (``answer(request)`` gives the JSON
    body, or a ``(body, status)`` pair); anything else is a 404. Requests are logged."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Callable[[Request], Any]]] = []
        self.requests: list[Request] = []

    def on(self, method: str, path: str, answer: Callable[[Request], Any]) -> None:
        self.routes.append((method, re.compile(path), answer))

    def handle(self, request: Request) -> Response:
        self.requests.append(request)
        for method, path, answer in self.routes:
            if request.method == method and path.fullmatch(request.path):
                out = answer(request)
                data, status = out if isinstance(out, tuple) else (out, 200)
                return Response(json.dumps(data), status=status, content_type="application/json")
        return Response(json.dumps({"error": "not recorded"}), status=404, content_type="application/json")

    def install(self, httpserver: Any) -> str:
        httpserver.expect_request(re.compile(".*")).respond_with_handler(self.handle)
        return httpserver.url_for("").rstrip("/")


def test_x_fetch_replayed_rejects_visibly_and_moves_since_id(httpserver):
    from connectors.x.connector import XConnector

    replay = Replay()
    mentions, search = body("x/tweepy_users_mentions"), body("x/tweepy_search_recent")
    empty = {"meta": {"result_count": 0}}
    replay.on("GET", "/2/users/783214/mentions", lambda r: empty if "pagination_token" in r.args else mentions)
    replay.on("GET", "/2/tweets/search/recent", lambda r: empty if "next_token" in r.args else search)
    connector = XConnector(bearer_token="b", user_id="783214", search_query="Tweepy", backoff=0,
                           base_url=replay.install(httpserver))
    result = connector.fetch(None)
    assert result.mentions == []
    assert {r.item_id for r in result.rejected} == {t["id"] for t in [*mentions["data"], *search["data"]]}
    assert all(r.permalink == f"https://x.com/i/web/status/{r.item_id}" for r in result.rejected)
    state = json.loads(result.cursor or "{}")
    assert state["mentions"]["since_id"] == mentions["meta"]["newest_id"]  # moved on, nothing lost silently
    searched = [r for r in replay.requests if r.path == "/2/tweets/search/recent"]
    assert searched[0].args["query"] == "Tweepy -is:retweet"  # pure retweets are not inbox items (decision 0131)


def test_x_fetch_replayed_reads_a_full_page(httpserver):
    from connectors.x.connector import XConnector

    replay = Replay()
    timeline, search = body("x/pytwitter_timeline_mentions"), body("x/pytwitter_search_tweets_query")
    empty = {"meta": {"result_count": 0}}
    replay.on("GET", "/2/users/2244994945/mentions", lambda r: empty if "pagination_token" in r.args else timeline)
    replay.on("GET", "/2/tweets/search/recent", lambda r: empty if "next_token" in r.args else search)
    connector = XConnector(bearer_token="b", user_id="2244994945", search_query="from:TwitterDev", backoff=0,
                           base_url=replay.install(httpserver))
    result = connector.fetch(None)
    assert {m.platform_id for m in result.mentions} == {t["id"] for t in search["data"]}
    assert {r.item_id for r in result.rejected} == {t["id"] for t in timeline["data"]}  # no author_id: rejected
    assert all("t.co/" not in m.text and m.author.handle for m in result.mentions)


def test_x_fetch_replayed_errors_only_answer_is_an_error_with_its_reason(httpserver):
    from connectors.x.connector import XConnector
    from core.errors import PermanentFailure

    replay = Replay()
    replay.on("GET", "/2/users/1/mentions", lambda r: {"errors": [{
        "value": "1", "detail": "User has been suspended: [1].", "title": "Forbidden", "resource_type": "user",
        "parameter": "id", "resource_id": "1", "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
    connector = XConnector(bearer_token="b", user_id="1", backoff=0, base_url=replay.install(httpserver))
    with pytest.raises(PermanentFailure, match="User has been suspended"):
        connector.fetch(None)


def _graph_clock(*names: str) -> datetime:
    """Just after the newest item of the recordings (their items are years old)."""
    times = [fb.parse_time(item.get("created_time") or item.get("timestamp"))
             for name in names for item in body(name)["data"]]
    return max(times) + timedelta(hours=1)


def test_facebook_fetch_replayed_feed_tagged_and_comments(httpserver):
    from connectors.facebook.connector import FacebookConnector

    replay = Replay()
    posts = list(body("facebook/pyfb_multi_posts_with_comments").values())
    feed = {"data": posts}  # the recorded posts as a feed page, their recorded comments embedded
    tagged = body("facebook/pyfb_group_feed_p1")
    replay.on("GET", r"/v[\d.]+/19292868552/feed", lambda r: feed)
    replay.on("GET", r"/v[\d.]+/19292868552/tagged", lambda r: tagged)
    replay.on("GET", r"/v[\d.]+/[\d_]+/comments", lambda r: {"data": []})
    now = max(fb.parse_time(p["created_time"]) for p in [*posts, *tagged["data"]]) + timedelta(hours=1)
    connector = FacebookConnector(page_id="19292868552", page_token="t", base_url=replay.install(httpserver),
                                  lookback_days=365 * 10, backoff=0, clock=lambda: now)
    result = connector.fetch(None)
    comments = [m for m in result.mentions if m.kind in ("comment", "reply")]
    tags = [m for m in result.mentions if m.kind == "tag"]
    assert len(comments) == sum(len(p["comments"]["data"]) for p in posts) and result.skipped == []
    assert all(c.author.known and c.conversation_id in {p["id"] for p in posts} for c in comments)
    assert len(tags) == len(tagged["data"]) and not any(t.author.known for t in tags)
    assert len({t.author.platform_id for t in tags}) == len(tags)  # authorless tags are not one author
    feed_fields = next(r for r in replay.requests if r.path.endswith("/feed")).args["fields"]
    assert "attachments{media,type,url,subattachments}" in feed_fields


def test_instagram_fetch_replayed_comments_tags_and_webhook_mention(httpserver):
    from connectors.instagram.connector import InstagramConnector

    replay = Replay()
    owner = "17841406338772941"
    media = body("instagram/pyfb_ig_user_media_p1")
    replay.on("GET", rf"/v[\d.]+/{owner}/media", lambda r: {"data": media["data"]})
    replay.on("GET", r"/v[\d.]+/\d+/comments", lambda r: body("instagram/pyfb_ig_media_comments_p1")
              if r.path.split("/")[2] == media["data"][1]["id"] else {"data": []})
    replay.on("GET", rf"/v[\d.]+/{owner}/tags", lambda r: body("instagram/pyfb_ig_tags"))
    replay.on("GET", rf"/v[\d.]+/{owner}", lambda r: body("instagram/pyfb_ig_mentioned_comment"))
    now = _graph_clock("instagram/pyfb_ig_user_media_p1", "instagram/pyfb_ig_tags")
    connector = InstagramConnector(ig_user_id=owner, access_token="t", base_url=replay.install(httpserver),
                                   lookback_days=365 * 10, backoff=0, clock=lambda: now)
    result = connector.fetch(None)
    comments = [m for m in result.mentions if m.kind == "comment"]
    tags = [m for m in result.mentions if m.kind == "tag"]
    assert len(comments) == 2 and not any(c.author.known for c in comments)  # recorded without username nor id
    assert len({c.author.platform_id for c in comments}) == 2
    assert all(c.permalink == media["data"][1]["permalink"] for c in comments)
    assert len(tags) == len(body("instagram/pyfb_ig_tags")["data"]) and all(t.permalink for t in tags)
    pushed = connector.mentions_from_webhook({"media_id": "17846368219941692", "comment_id": "17967008497439572"})
    assert [(m.text, m.author.handle) for m in pushed.mentions] == [("@ikroskun good", "ikroskun")]


def test_mastodon_fetch_replayed_notifications(httpserver):
    from connectors.mastodon.connector import MastodonConnector

    replay = Replay()
    pages = [body("mastodon/mastosocial_notifications"), body("mastodon/localdev_notifications_mentions")]
    calls: list[str] = []

    def notifications(request: Request) -> Any:  # both recorded pages as one answer (no Link header replayed)
        calls.append(request.query_string.decode())
        return [*pages[0], *pages[1]] if len(calls) == 1 else []

    replay.on("GET", "/api/v1/notifications", notifications)
    replay.on("GET", r"/api/v[12]/instance", lambda r: {"version": "4.5.0", "uri": "mastodon.social"})
    replay.on("GET", r"/api/v1/statuses/110446223051565765/history", lambda r: body("mastodon/mastosocial_history_a"))
    replay.on("GET", r"/api/v1/statuses", lambda r: [])
    connector = MastodonConnector(base_url=replay.install(httpserver), access_token="t", backoff=0, page_size=40)
    result = connector.fetch(None)
    expected = [n for page in pages for n in page if n["type"] == "mention" and n["status"]]
    assert {m.platform_id for m in result.mentions} == {n["status"]["id"] for n in expected}
    assert result.skipped == [] and result.ignored == {"status_gone": 39}
    assert all(m.author.known and m.permalink and m.conversation_id for m in result.mentions)
