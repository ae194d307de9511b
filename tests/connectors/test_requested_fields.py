"""Issue #16: a normaliser reads only fields its request asks for (else it reads nothing on the live API: the
recordings hold only what their own request asked for). The requested fields are the connectors' constants, the
same the connectors send; docs/connectors.md lists them per endpoint.

Each normaliser gets a payload with every field a platform could send, wrapped so that each field read (``get``,
``[]``) is recorded with its path (``data`` of Graph edges and list positions left out); every path must be among
the fields requested (a field requested whole, like ``media``, covers what is under it). Mastodon and Bluesky
have no field selection: their answers are whole entities.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from connectors.facebook import normalize as fb
from connectors.graph.normalize import requested_fields
from connectors.instagram import normalize as ig
from connectors.x import normalize as xn

Tree = dict[str, dict[str, Any]]


class Tracked(dict):  # type: ignore[type-arg]
    """A dict that records the path of every field read with ``get`` or ``[]``. Copies (``dict(x)``, ``{**x}``,
    ``items()``: how ``raw`` is kept) go through dict's own machinery and are not field reads."""

    def __init__(self, data: Mapping[str, Any], reads: set[str], path: str = "") -> None:
        super().__init__({k: self._wrap(k, v, reads, path) for k, v in data.items()})
        self._reads, self._path = reads, path

    @staticmethod
    def _wrap(key: str, value: Any, reads: set[str], path: str) -> Any:
        inner = path if key == "data" else f"{path}.{key}".lstrip(".")
        if isinstance(value, Mapping):
            return Tracked(value, reads, inner)
        if isinstance(value, list):
            return [Tracked(v, reads, inner) if isinstance(v, Mapping) else v for v in value]
        return value

    def _read(self, key: str) -> None:
        if key != "data":
            self._reads.add(f"{self._path}.{key}".lstrip("."))

    def __getitem__(self, key: str) -> Any:
        self._read(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self._read(key)
        return super().get(key, default)


def allowed(path: str, tree: Tree) -> bool:
    """Whether ``path`` (``a.b.c``) is within the requested ``tree``."""
    head, _, rest = path.partition(".")
    if head not in tree:
        return False
    return not rest or not tree[head] or allowed(rest, tree[head])


def reads_of(fn: Any, payload: Mapping[str, Any], **kwargs: Any) -> set[str]:
    reads: set[str] = set()
    fn(Tracked(payload, reads), **kwargs)
    return reads


def unrequested(reads: set[str], tree: Tree) -> set[str]:
    return {r for r in reads if not allowed(r, tree)}


FB_ATTACHMENT = {"media": {"image": {"src": "https://scontent.xx.fbcdn.net/a.jpg", "height": 1, "width": 1}},
                 "type": "album", "url": "https://www.facebook.com/x",
                 "subattachments": {"data": [{"media": {"image": {"src": "https://scontent.xx.fbcdn.net/b.jpg"}},
                                              "type": "photo", "url": "https://www.facebook.com/y"}]}}
FB_COMMENT = {"id": "1_2", "message": "m", "created_time": "2026-01-05T08:00:00+0000", "from": {"id": "7", "name": "n"},
              "parent": {"id": "1_1"}, "is_hidden": False, "permalink_url": "https://www.facebook.com/1_2",
              "attachment": FB_ATTACHMENT, "attachments": {"data": [FB_ATTACHMENT]}, "message_tags": [],
              "like_count": 0, "can_hide": True}
FB_POST = {**FB_COMMENT, "id": "5_1", "story": "s", "updated_time": "2026-01-05T08:00:00+0000", "full_picture": "x",
           "comments": {"data": [FB_COMMENT]}}
IG_COMMENT = {"id": "17", "text": "t", "timestamp": "2026-01-05T08:00:00+0000", "username": "u",
              "from": {"id": "9", "username": "u"}, "user": {"id": "9"}, "hidden": False, "like_count": 0,
              "parent_id": "16", "media": {"id": "m"}, "replies": {"data": []}}
IG_MEDIA = {"id": "18", "caption": "c", "timestamp": "2026-01-05T08:00:00+0000", "username": "u",
            "permalink": "https://www.instagram.com/p/x/", "media_type": "IMAGE", "media_url": "https://cdn/x.jpg",
            "comments_count": 0, "like_count": 0, "owner": {"id": "9"}}
X_POST = {"id": "2", "text": "t &amp; https://t.co/a", "author_id": "3", "created_at": "2026-01-05T08:00:00.000Z",
          "edit_history_tweet_ids": ["2"], "conversation_id": "1", "lang": "fr", "in_reply_to_user_id": "1",
          "entities": {"urls": [{"url": "https://t.co/a", "expanded_url": "https://a.fr"}]},
          "note_tweet": {"text": "long", "entities": {"urls": []}}, "attachments": {"media_keys": ["k"]},
          "referenced_tweets": [{"type": "quoted", "id": "1"}], "public_metrics": {}, "geo": {}, "source": "s",
          "possibly_sensitive": False, "context_annotations": []}
X_USER = {"id": "3", "username": "u", "name": "n", "public_metrics": {"followers_count": 1}, "description": "d",
          "created_at": "2009-01-01T00:00:00.000Z", "verified": False}
X_MEDIA = {"media_key": "k", "type": "photo", "url": "https://pbs.twimg.com/a.jpg", "preview_image_url": "p",
           "width": 1, "alt_text": "a"}


def _x_tree(fields: tuple[str, ...], defaults: tuple[str, ...]) -> Tree:
    return {name: {} for name in (*fields, *defaults)}


CASES = {
    "facebook feed post": (fb.post_to_mention, FB_POST, {}, requested_fields(fb.POST_FIELDS)),
    "facebook comment": (fb.comment_to_mention, FB_COMMENT, {"post_id": "5_1"}, requested_fields(fb.COMMENT_FIELDS)),
    "facebook tagged post": (fb.post_to_mention, FB_POST, {"kind": "tag"}, requested_fields(fb.POST_FIELDS)),
    "instagram comment": (ig.comment_to_mention, IG_COMMENT, {"media": {"id": "m"}},
                          requested_fields(ig.COMMENT_FIELDS)),
    "instagram tag": (ig.media_to_mention, IG_MEDIA, {"kind": "tag"}, requested_fields(ig.TAG_FIELDS)),
    "instagram mentioned media": (ig.media_to_mention, IG_MEDIA, {"kind": "mention"},
                                  requested_fields(ig.MENTIONED_MEDIA_FIELDS)),
    "instagram mentioned comment": (ig.mentioned_comment_to_mention, IG_COMMENT, {"media_id": "m"},
                                    requested_fields(ig.MENTIONED_COMMENT_FIELDS)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_graph_normalisers_read_only_requested_fields(case):
    fn, payload, kwargs, tree = CASES[case]
    assert unrequested(reads_of(fn, payload, **kwargs), tree) == set()


def test_x_normaliser_reads_only_requested_fields():
    reads: set[str] = set()
    users = {"3": Tracked(X_USER, reads, "user")}
    media = {"k": Tracked(X_MEDIA, reads, "media")}
    xn.tweet_to_mention(Tracked(X_POST, reads, "tweet"), users=users, media=media)
    tree = {"tweet": _x_tree(xn.TWEET_FIELDS, xn.DEFAULT_TWEET_FIELDS),
            "user": _x_tree(xn.USER_FIELDS, xn.DEFAULT_USER_FIELDS),
            "media": _x_tree(xn.MEDIA_FIELDS, xn.DEFAULT_MEDIA_FIELDS)}
    assert unrequested(reads, tree) == set()


def test_the_check_catches_a_field_not_requested():
    assert unrequested(reads_of(fb.post_to_mention, FB_POST), requested_fields("id,message,created_time")) >= {
        "from", "attachments", "permalink_url"}
