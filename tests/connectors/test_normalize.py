"""Recorded X and Graph payloads → Mention, including the edge cases a sync must survive."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.facebook import normalize as fb
from connectors.x import normalize as xn
from core.models import Platform
from tests.connectors.conftest import load_fixture


def test_x_mentions_page_normalises_every_post():
    mentions, skipped = xn.mentions_from_page(load_fixture("x/mentions_page.json"), account="x")
    assert skipped == []
    first, second, third = mentions
    assert first.uid == "x:1877001234567890123"
    assert first.platform is Platform.X and first.account == "x" and first.kind == "mention"
    assert first.author.handle == "camille_r" and first.author.display_name == "Camille R."
    assert first.author.followers == 532
    assert first.created_at == datetime(2026, 1, 5, 8, 12, tzinfo=UTC)
    assert first.conversation_id == "1876990000000000001"
    assert first.in_reply_to == "1876990000000000001"
    assert first.lang == "fr"
    assert first.text.endswith("😡💡 #MaVille")
    assert first.media == ("https://pbs.twimg.com/media/GabcdEFXgAAq1.jpg",)
    assert first.permalink == "https://x.com/camille_r/status/1877001234567890123"
    assert first.raw["public_metrics"]["like_count"] == 14
    # author missing from includes.users: kept, with the id as handle
    assert second.author.handle == "8" and second.author.followers is None
    assert second.in_reply_to is None


def test_x_edited_post_keeps_the_original_id_and_targets_the_latest_version():
    third = xn.mentions_from_page(load_fixture("x/mentions_page.json"))[0][2]
    assert third.platform_id == "1876999000000000000"  # first of edit_history_tweet_ids
    assert third.raw["id"] == "1876999999999999999"
    assert third.permalink.endswith("/status/1876999999999999999")


def test_x_malformed_items_are_skipped_and_the_rest_kept():
    mentions, skipped = xn.mentions_from_page(load_fixture("x/mentions_malformed_item.json"))
    assert [m.platform_id for m in mentions] == ["1877100000000000004"]
    assert len(skipped) == 3
    assert any("missing created_at" in s for s in skipped)
    assert any("not an object" in s for s in skipped)
    assert any("bad created_at 'hier'" in s for s in skipped)


def test_x_own_posts_are_left_out():
    mentions, skipped = xn.mentions_from_page(load_fixture("x/mentions_page.json"), exclude_authors=["2244994945"])
    assert [m.author.platform_id for m in mentions] == ["8", "783214"] and skipped == []


def test_x_empty_page_and_deleted_references():
    assert xn.mentions_from_page(load_fixture("x/mentions_empty.json")) == ([], [])
    page = load_fixture("x/mentions_partial_error.json")
    assert [i for i, _ in xn.deleted_references(page)] == ["1877199999999999999"]
    assert xn.mentions_from_page(page)[0][0].in_reply_to == "1877199999999999999"


def test_x_long_note_tweet_text_wins_over_the_truncated_text():
    long_text = "Très long message " * 300 + "🎄"
    page = {"data": [{"id": "1", "text": long_text[:280], "author_id": "5", "created_at": "2026-01-05T09:00:00.000Z",
                      "edit_history_tweet_ids": ["1"], "note_tweet": {"text": long_text}}]}
    (mention,), _ = xn.mentions_from_page(page)
    assert mention.text == long_text and len(mention.text) > 5000


def test_facebook_comments_and_replies_from_a_feed_page():
    post = load_fixture("facebook/feed_page.json")["data"][0]
    comments = post["comments"]["data"]
    reply = fb.comment_to_mention(comments[1], post_id=post["id"], account="facebook")
    assert reply.uid == "facebook:1203_9003" and reply.kind == "reply"
    assert reply.in_reply_to == "1203_9001" and reply.conversation_id == "5550001_1203"
    assert reply.author.platform_id == "6100042" and reply.author.display_name == "Léa Bernard"
    assert reply.created_at == datetime(2026, 1, 5, 9, 12, 40, tzinfo=UTC)
    assert reply.text.endswith("😤")
    top = fb.comment_to_mention(comments[3], post_id=post["id"])
    assert top.kind == "comment" and top.in_reply_to == "5550001_1203"
    with_photo = fb.comment_to_mention(comments[2], post_id=post["id"])
    assert with_photo.media == ("https://scontent.xx.fbcdn.net/v/t39/abc.jpg",)


def test_facebook_raw_never_keeps_paging_links_that_carry_the_token():
    post = load_fixture("facebook/feed_page.json")["data"][0]
    mention = fb.post_to_mention(post)
    assert "comments" not in mention.raw and "LEAKED" not in str(mention.raw)


def test_facebook_visitor_and_tagged_posts():
    visitor = fb.post_to_mention(load_fixture("facebook/feed_page.json")["data"][1], account="facebook")
    assert visitor.kind == "mention" and visitor.conversation_id == "5550001_1202"
    assert visitor.author.display_name == "Sophie Leroy"
    assert visitor.permalink == "https://www.facebook.com/5550001/posts/1202"
    tagged = load_fixture("facebook/tagged.json")["data"]
    story = fb.post_to_mention(tagged[1], kind="tag")
    assert story.text == "Club de foot a identifié Ville de Test." and not story.author.known
    assert story.author.platform_id == f"unknown:{story.platform_id}"  # its own id, shared with no other item


def test_facebook_malformed_items_raise_malformed_item():
    comments = load_fixture("facebook/feed_malformed_item.json")["data"][0]["comments"]["data"]
    errors = []
    for comment in comments:
        try:
            fb.comment_to_mention(comment, post_id="5550001_1300")
        except fb.MalformedItem as err:
            errors.append(str(err))
    assert len(errors) == 3 and "without id" in errors[1] and "not text" in errors[2]


def test_facebook_paging_helpers():
    page = load_fixture("facebook/feed_page.json")
    assert fb.next_after(page) == "QVFIUmFmdGVy"
    assert fb.next_after(load_fixture("facebook/post_comments.json")) is None  # cursors but no next
    assert fb.post_permalink("5550001_1299") == "https://www.facebook.com/5550001/posts/1299"
