"""A stateful fake of the Instagram Graph API endpoints Parvis uses (shapes from the IG Graph API reference).

Routes (names for :meth:`FakeBase.fail`): ``media`` GET /{ig-user}/media, ``comments`` GET /{media}/comments
(top-level comments, each with ``replies`` embedded), ``user`` GET /{ig-user}, ``comment`` GET /{comment},
``reply`` POST /{comment}/replies (refused with Graph code 100 for a reply or a hidden comment, like Instagram),
``hide`` POST /{comment} (``hide``), ``delete`` DELETE /{comment}; content publishing: ``container`` POST
/{ig-user}/media (``image_url``, ``caption``, ``alt_text``, ``user_tags``, ``is_carousel_item``; ``media_type=
CAROUSEL`` with ``children``), ``status`` GET /{container}?fields=status_code (``IN_PROGRESS`` for the first
``processing_polls`` reads, then ``FINISHED``, or ``final_status``), ``media_publish`` POST
/{ig-user}/media_publish (``creation_id``), ``limit`` GET /{ig-user}/content_publishing_limit (``quota_usage``
counts posts published here, ``config.quota_total`` is ``quota_total``), GET /{media}?fields=permalink; tags and
@mentions of the account on other accounts' media: ``tags`` GET /{ig-user}/tags (newest first, cursor paging),
``mentioned`` GET /{ig-user}?fields=mentioned_comment.comment_id(ID){...} or mentioned_media.media_id(ID){...}
(Graph code 100 for an unknown id), ``mention_reply`` POST /{ig-user}/mentions (``media_id``, ``comment_id``,
``message``; code 100 for a media where the account is only tagged). The token must come as
``Authorization: Bearer``.

Two hosts' shapes (``login``, the base-URL switch of ``PARVIS_IG_LOGIN``): ``facebook`` answers as
``graph.facebook.com`` does for Instagram API with Facebook Login; ``instagram`` as ``graph.instagram.com`` does
for Instagram API with Instagram Login: ``me`` GET /me (``user_id``, ``username``, ``id`` the app-scoped id; refused
on the Facebook host), the Instagram User token (``IGAA…``), and no ``tags`` edge (Graph code 100, "nonexisting
field"); the other routes are the same on both hosts.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug import Request, Response

from connectors.graph.normalize import requested_fields
from tests.fakes.base import FakeBase, json_response
from tests.fakes.graph_api import TokenFake, graph_error, graph_time

# What Meta's references show when ``fields`` is left out: ``GET /{ig-media-id}/comments`` answers
# ``{"data": [{"timestamp", "text", "id"}]}``; ``GET /{ig-user-id}/media`` ``{"data": [{"id"}], "paging"}``
# (docs/connectors.md, "Instagram Login: the documented samples").
DEFAULT_COMMENT_FIELDS = "timestamp,text,id"


def select(item: dict[str, Any], tree: dict[str, Any]) -> dict[str, Any]:
    """``item`` cut to the requested ``tree`` (connectors.graph.normalize.requested_fields), as Graph answers:
    only what was asked (``id`` always), an edge (``replies``) as ``{"data": [...]}`` cut the same way."""
    out: dict[str, Any] = {}
    for key, value in item.items():
        if key != "id" and key not in tree:
            continue
        sub = tree.get(key) or {}
        if sub and isinstance(value, dict) and isinstance(value.get("data"), list):
            value = {**value, "data": [select(v, sub) for v in value["data"]]}
        elif sub and isinstance(value, dict):
            value = select(value, sub)
        out[key] = value
    return out


def _cursor(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode()


def _offset(cursor: str | None) -> int:
    return int(base64.b64decode(cursor).decode()) if cursor else 0


class FakeInstagramApi(TokenFake, FakeBase):
    """State: the account's media, their comments and replies, and the writes received."""

    def __init__(self, *, ig_user_id: str = "17841400000000001", username: str = "villedetest",
                 token: str | None = None, version: str = "v24.0", start: datetime | None = None,
                 login: str = "facebook") -> None:
        super().__init__()
        if login not in ("facebook", "instagram"):
            raise ValueError(f"unknown login {login!r}")
        self.login = login
        token = token or ("IGAA-USER-TOKEN" if login == "instagram" else "IG-TOKEN")
        self.ig_user_id, self.username, self.token, self.version = ig_user_id, username, token, version
        self.app_scoped_id = "27000000000000042"  # ``id`` of GET /me with Instagram Login
        self.token_type, self.token_scopes = "USER", ("instagram_basic", "instagram_manage_comments",
                                                      "instagram_content_publish", "pages_show_list")
        self.refreshed: list[str] = []  # tokens handed out by refresh_access_token, in order
        self.media: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, dict[str, Any]] = {}
        self.replies: list[tuple[str, str]] = []  # (comment id, message)
        self.deleted: list[str] = []
        self.tagged: dict[str, dict[str, Any]] = {}  # other accounts' media where the account is tagged
        self.mentioned: dict[str, dict[str, Any]] = {}  # comments and media @mentioning it (ids from webhooks)
        self.mention_replies: list[dict[str, str]] = []  # forms of POST /{ig-user}/mentions
        self.containers: dict[str, dict[str, Any]] = {}  # form of POST /{ig-user}/media, plus "_status", "_left"
        self.published: list[dict[str, Any]] = []  # containers published, in order
        self.processing_polls = 0
        self.final_status = "FINISHED"
        self.quota_total = 100
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

    def add_tag(self, caption: str | None, *, owner: str = "asso.quartier", **extra: Any) -> str:
        """A photo posted by ``owner`` where the account is tagged (returned by the ``tags`` edge)."""
        self._clock += timedelta(seconds=30)
        media_id = self._id()
        media = {"id": media_id, "media_type": "IMAGE", "timestamp": graph_time(self._clock), "username": owner,
                 "permalink": f"https://www.instagram.com/p/T{media_id[-6:]}/", "comments_count": 0,
                 "media_url": f"https://scontent.cdninstagram.com/v/t51/{media_id}.jpg"}
        if caption is not None:
            media["caption"] = caption
        media.update(extra)
        self.tagged[media_id] = media
        return media_id

    def add_mention(self, text: str, *, in_comment: bool = True, owner: str = "journal.local",
                    by: str = "lecteur.local") -> dict[str, str]:
        """An @mention of the account in another account's caption, or in a comment on it; returns the webhook
        value Meta would send (``{"media_id", "comment_id"}``, no ``comment_id`` for a caption)."""
        self._clock += timedelta(seconds=17)
        media_id = self._id()
        self.mentioned[media_id] = {"id": media_id, "caption": "" if in_comment else text, "media_type": "IMAGE",
                                    "timestamp": graph_time(self._clock), "username": owner, "comments_count": 1,
                                    "like_count": 3}
        if not in_comment:
            return {"media_id": media_id}
        comment_id = self._id()
        self.mentioned[comment_id] = {"id": comment_id, "text": text, "timestamp": graph_time(self._clock),
                                      "like_count": 0, "media": {"id": media_id}, "username": by}
        return {"media_id": media_id, "comment_id": comment_id}

    def _mentioned(self, fields: str) -> Response:
        match = re.fullmatch(r"mentioned_(comment|media)\.(?:comment|media)_id\((\w+)\)(?:\{([\w,{}]*)\})?", fields)
        if not match:
            return json_response({"id": self.ig_user_id, "username": self.username})
        node = self.mentioned.get(match[2])
        if node is None or ("text" in node) != (match[1] == "comment"):
            return json_response(graph_error(100, "Invalid parameter", kind="OAuthException"), 400)
        wanted = set((match[3] or "id").split(","))
        return json_response({f"mentioned_{match[1]}": {k: v for k, v in node.items() if k in wanted or k == "id"},
                              "id": self.ig_user_id})

    def add_comment(self, media_id: str, text: str, *,
                    by: tuple[str, str] | str = ("17841400000000777", "camille.m"), parent: str | None = None,
                    hidden: bool = False, **extra: Any) -> str:
        """A comment on ``media_id`` (a reply when ``parent`` is given); ``by`` a bare username: no ``from``
        (as recorded on the live API: ``username`` only, no id)."""
        self._clock += timedelta(seconds=11)
        comment_id = self._id()
        who = {"username": by} if isinstance(by, str) else {"username": by[1], "from": {"id": by[0],
                                                                                       "username": by[1]}}
        comment = {"id": comment_id, "text": text, "timestamp": graph_time(self._clock), **who,
                   "hidden": hidden, "like_count": 0, "_media": media_id}
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

    def _paged(self, items: list[dict[str, Any]], args: dict[str, str], path: str,
               default: str = "id") -> dict[str, Any]:
        """A Graph page of ``items``, each cut to the ``fields`` asked for (Meta's ``default`` when none)."""
        start, limit = _offset(args.get("after")), int(args.get("limit", 25))
        tree = requested_fields(args.get("fields") or default)
        chunk = [select(item, tree) for item in items[start:start + limit]]
        body: dict[str, Any] = {"data": chunk}
        if items:
            body["paging"] = {"cursors": {"before": _cursor(start), "after": _cursor(start + len(chunk))}}
            if start + limit < len(items):
                body["paging"]["next"] = f"{self.base}/{self.version}/{path}?access_token={self.token}&after=x"
        return body

    def _refresh(self, args: dict[str, str]) -> Response:
        """``GET graph.instagram.com/refresh_access_token`` (route ``refresh``): the token comes as the
        ``access_token`` query parameter, as Instagram documents; a new 60-day token replaces it."""
        failure = self._failure("refresh")
        if failure:
            return failure
        if args.get("grant_type") != "ig_refresh_token":
            return json_response(graph_error(100, "Unsupported grant type", kind="IGApiException"), 400)
        if args.get("access_token") != self.token:
            return json_response(graph_error(190, "Invalid OAuth access token - Cannot parse access token"), 400)
        self.token = f"IG-TOKEN-{len(self.refreshed) + 2}"
        self.refreshed.append(self.token)
        return json_response({"access_token": self.token, "token_type": "bearer", "expires_in": 5183944})

    def handle(self, request: Request) -> Response:
        """Route one request (``/{version}/{object}[/{edge}]``)."""
        if request.path == "/refresh_access_token":
            return self._refresh(dict(request.args.items()))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return json_response(graph_error(190, "Error validating access token: Session has expired.",
                                             subcode=463), 400)
        match = re.fullmatch(rf"/{re.escape(self.version)}/(\w+)(?:/(\w+))?", request.path)
        if not match:
            return json_response(graph_error(2500, "Unknown path components"), 400)
        obj, edge, method = match[1], match[2], request.method
        args, form = dict(request.args.items()), dict(request.form.items())
        if obj == "me" and not edge and method == "GET":
            return self._me(args)
        if self.login == "instagram" and edge == "tags":  # a Facebook Login edge only
            return json_response(graph_error(100, "Tried accessing nonexisting field (tags) on node type (User)",
                                             kind="IGApiException"), 400)
        if method == "GET" and obj == "debug_token":
            return self._failure("debug_token") or json_response(self.debug_token(args))
        if method == "GET" and (obj == self.ig_user_id or (obj == "me" and self.login == "instagram")) and \
                edge == "media":  # /me/media: the token's own account, with Instagram Login
            obj = self.ig_user_id
            media = sorted(self.media.values(), key=lambda m: m["timestamp"], reverse=True)
            items = [{**m, "comments_count": sum(1 for c in self.comments.values() if c["_media"] == m["id"])}
                     for m in media]
            return self._failure("media") or json_response(self._paged(items, args, f"{obj}/media"))
        if method == "GET" and edge == "comments" and obj in self.media:
            return self._failure("comments") or json_response(  # default fields: Meta's reference example
                self._paged(self._top_level(obj), args, f"{obj}/comments", default=DEFAULT_COMMENT_FIELDS))
        if method == "GET" and obj == self.ig_user_id and edge == "tags":
            tags = list(reversed(self.tagged.values()))  # newest first (added in time order)
            return self._failure("tags") or json_response(self._paged(tags, args, f"{obj}/tags"))
        if method == "GET" and obj == self.ig_user_id and not edge and "mentioned_" in args.get("fields", ""):
            return self._failure("mentioned") or self._mentioned(args["fields"])
        if method == "GET" and obj == self.ig_user_id and not edge:
            return self._failure("user") or json_response({"id": obj, "username": self.username})
        if method == "POST" and obj == self.ig_user_id and edge == "mentions":
            failure = self._failure("mention_reply")
            if failure:
                return failure
            target = form.get("comment_id") or form.get("media_id", "")
            if target not in self.mentioned:  # e.g. a media the account is only tagged in
                return json_response(graph_error(100, "Invalid parameter", kind="OAuthException"), 400)
            self.mention_replies.append(form)
            return json_response({"id": self._id()})
        publishing = self._publishing(method, obj, edge, args, form)
        if publishing is not None:
            return publishing
        if method == "GET" and obj in self.comments and not edge:
            return self._failure("comment") or json_response(self._public(self.comments[obj]))
        if method == "POST" and edge == "replies":
            failure = self._failure("reply")
            if failure:
                return failure
            comment = self.comments.get(obj)
            if comment is None or comment.get("parent_id") or comment.get("hidden"):
                return json_response(graph_error(100, "Invalid parameter", kind="OAuthException"), 400)
            self.replies.append((obj, form.get("message", "")))
            reply_id = self.add_comment(comment["_media"], form.get("message", ""), parent=obj,
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

    def _me(self, args: dict[str, str]) -> Response:
        """GET /me: the token's own account (Instagram Login only; a Facebook Login token is a user's, not the
        account's)."""
        if self.login != "instagram":
            return json_response(graph_error(100, "Unsupported request", kind="GraphMethodException"), 400)
        failure = self._failure("me")
        if failure:
            return failure
        node = {"id": self.app_scoped_id, "user_id": self.ig_user_id, "username": self.username}
        wanted = set(args.get("fields", "id").split(","))
        return json_response({k: v for k, v in node.items() if k in wanted or k == "id"})

    # ---- content publishing ------------------------------------------------------------------------

    def _publishing(self, method: str, obj: str, edge: str | None, args: dict[str, str],
                    form: dict[str, str]) -> Response | None:
        """Answer a content-publishing request (None: not one)."""
        if method == "POST" and obj == self.ig_user_id and edge == "media":
            return self._failure("container") or self._create_container(form)
        if method == "GET" and obj in self.containers and not edge:
            return self._failure("status") or json_response(self._container_status(obj, args))
        if method == "POST" and obj == self.ig_user_id and edge == "media_publish":
            return self._failure("media_publish") or self._publish(form.get("creation_id", ""))
        if method == "GET" and obj == self.ig_user_id and edge == "content_publishing_limit":
            return self._failure("limit") or json_response({"data": [{
                "quota_usage": len(self.published), "config": {"quota_total": self.quota_total,
                                                               "quota_duration": 86400}}]})
        if method == "GET" and obj in self.media and not edge:
            return json_response({k: v for k, v in self.media[obj].items() if k in args.get("fields", "id")
                                  .split(",") or k == "id"})
        return None

    def _create_container(self, form: dict[str, str]) -> Response:
        if form.get("media_type") == "CAROUSEL":
            children = [c for c in form.get("children", "").split(",") if c]
            if not 2 <= len(children) <= 10 or any(c not in self.containers for c in children):
                return json_response(graph_error(100, "Invalid parameter", kind="OAuthException"), 400)
        elif not str(form.get("image_url", "")).startswith(("http://", "https://")):
            return json_response(graph_error(9004, "Only photo or video can be accepted as media type.",
                                             subcode=2207052), 400)
        container_id = self._id()
        self.containers[container_id] = {**form, "_status": "IN_PROGRESS", "_left": self.processing_polls}
        return json_response({"id": container_id})

    def _container_status(self, container_id: str, args: dict[str, str]) -> dict[str, Any]:
        container = self.containers[container_id]
        if container["_status"] == "IN_PROGRESS":
            if container["_left"] > 0:
                container["_left"] -= 1
            else:
                container["_status"] = self.final_status
        return {"status_code": container["_status"], "id": container_id}

    def _publish(self, creation_id: str) -> Response:
        container = self.containers.get(creation_id)
        if container is None or container["_status"] not in ("FINISHED",):
            return json_response(graph_error(9007, "Media ID is not available", subcode=2207027), 400)
        if len(self.published) >= self.quota_total:
            return json_response(graph_error(9, "Application request limit reached", subcode=2207042), 400)
        container["_status"] = "PUBLISHED"
        self.published.append(container)
        media_id = self.add_media(container.get("caption", ""))
        return json_response({"id": media_id})

    def install(self, server: Any) -> str:
        """Answer every request ``server`` receives; returns the base URL."""
        self.base = super().install(server)
        return self.base
