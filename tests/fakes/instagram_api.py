"""A stateful fake of the Instagram Graph API endpoints Parvis uses (shapes from the IG Graph API reference).

Routes (names for :meth:`FakeBase.fail`): ``media`` GET /{ig-user}/media, ``comments`` GET /{media}/comments
(top-level comments, each with ``replies`` embedded), ``user`` GET /{ig-user}, ``comment`` GET /{comment},
``reply`` POST /{comment}/replies (refused with Graph code 100 for a reply or a hidden comment, like Instagram),
``hide`` POST /{comment} (``hide``), ``delete`` DELETE /{comment}. The token must come as ``Authorization:
Bearer``.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug import Request, Response

from tests.fakes.base import FakeBase, json_response
from tests.fakes.graph_api import graph_error, graph_time


def _cursor(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode()


def _offset(cursor: str | None) -> int:
    return int(base64.b64decode(cursor).decode()) if cursor else 0


class FakeInstagramApi(FakeBase):
    """State: the account's media, their comments and replies, and the writes received."""

    def __init__(self, *, ig_user_id: str = "17841400000000001", username: str = "villedetest",
                 token: str = "IG-TOKEN", version: str = "v24.0", start: datetime | None = None) -> None:
        super().__init__()
        self.ig_user_id, self.username, self.token, self.version = ig_user_id, username, token, version
        self.media: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, dict[str, Any]] = {}
        self.replies: list[tuple[str, str]] = []  # (comment id, message)
        self.deleted: list[str] = []
        self.base = ""
        self._n = 18000000000000000
        self._clock = start or datetime.now(UTC) - timedelta(hours=2)

    def _id(self) -> str:
        self._n += 1
        return str(self._n)

    def add_media(self, caption: str) -> str:
        """A photo posted by the account."""
        self._clock += timedelta(seconds=30)
        media_id = self._id()
        self.media[media_id] = {"id": media_id, "caption": caption, "media_type": "IMAGE",
                                "timestamp": graph_time(self._clock),
                                "permalink": f"https://www.instagram.com/p/C{media_id[-6:]}/"}
        return media_id

    def add_comment(self, media_id: str, text: str, *, by: tuple[str, str] = ("17841400000000777", "camille.m"),
                    parent: str | None = None, hidden: bool = False, **extra: Any) -> str:
        """A comment on ``media_id`` (a reply when ``parent`` is given)."""
        self._clock += timedelta(seconds=11)
        comment_id = self._id()
        comment = {"id": comment_id, "text": text, "timestamp": graph_time(self._clock), "username": by[1],
                   "from": {"id": by[0], "username": by[1]}, "hidden": hidden, "like_count": 0, "_media": media_id}
        if parent:
            comment["parent_id"] = parent
        comment.update(extra)
        self.comments[comment_id] = comment
        return comment_id

    def _public(self, comment: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in comment.items() if not k.startswith("_")}

    def _top_level(self, media_id: str) -> list[dict[str, Any]]:
        out = []
        for comment in self.comments.values():
            if comment["_media"] != media_id or comment.get("parent_id"):
                continue
            item = self._public(comment)
            replies = [self._public(c) for c in self.comments.values() if c.get("parent_id") == comment["id"]]
            if replies:
                item["replies"] = {"data": [{k: v for k, v in r.items() if k != "parent_id"} for r in replies]}
            out.append(item)
        return out

    def _paged(self, items: list[dict[str, Any]], args: dict[str, str], path: str) -> dict[str, Any]:
        start, limit = _offset(args.get("after")), int(args.get("limit", 25))
        chunk = items[start:start + limit]
        body: dict[str, Any] = {"data": chunk}
        if items:
            body["paging"] = {"cursors": {"before": _cursor(start), "after": _cursor(start + len(chunk))}}
            if start + limit < len(items):
                body["paging"]["next"] = f"{self.base}/{self.version}/{path}?access_token={self.token}&after=x"
        return body

    def handle(self, request: Request) -> Response:
        """Route one request (``/{version}/{object}[/{edge}]``)."""
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return json_response(graph_error(190, "Error validating access token: Session has expired.",
                                             subcode=463), 400)
        match = re.fullmatch(rf"/{re.escape(self.version)}/(\w+)(?:/(\w+))?", request.path)
        if not match:
            return json_response(graph_error(2500, "Unknown path components"), 400)
        obj, edge, method = match[1], match[2], request.method
        args, form = dict(request.args.items()), dict(request.form.items())
        if method == "GET" and obj == self.ig_user_id and edge == "media":
            media = sorted(self.media.values(), key=lambda m: m["timestamp"], reverse=True)
            items = [{**m, "comments_count": sum(1 for c in self.comments.values() if c["_media"] == m["id"])}
                     for m in media]
            return self._failure("media") or json_response(self._paged(items, args, f"{obj}/media"))
        if method == "GET" and edge == "comments" and obj in self.media:
            return self._failure("comments") or json_response(
                self._paged(self._top_level(obj), args, f"{obj}/comments"))
        if method == "GET" and obj == self.ig_user_id and not edge:
            return self._failure("user") or json_response({"id": obj, "username": self.username})
        if method == "GET" and obj in self.comments and not edge:
            return self._failure("comment") or json_response(self._public(self.comments[obj]))
        if method == "POST" and edge == "replies":
            failure = self._failure("reply")
            if failure:
                return failure
            target = self.comments.get(obj)
            if target is None or target.get("parent_id") or target.get("hidden"):
                return json_response(graph_error(100, "Invalid parameter", kind="OAuthException"), 400)
            self.replies.append((obj, form.get("message", "")))
            reply_id = self.add_comment(target["_media"], form.get("message", ""), parent=obj,
                                        by=(self.ig_user_id, self.username))
            return json_response({"id": reply_id})
        if method == "POST" and obj in self.comments and not edge:
            failure = self._failure("hide")
            if failure:
                return failure
            self.comments[obj]["hidden"] = form.get("hide") == "true"
            return json_response({"success": True})
        if method == "DELETE" and obj in self.comments:
            failure = self._failure("delete")
            if failure:
                return failure
            self.comments.pop(obj)
            self.deleted.append(obj)
            return json_response({"success": True})
        return json_response(graph_error(100, "Unsupported request", kind="GraphMethodException"), 400)

    def install(self, server: Any) -> str:
        """Answer every request ``server`` receives; returns the base URL."""
        self.base = super().install(server)
        return self.base
