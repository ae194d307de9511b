"""A stateful fake of the Graph API Page endpoints Parvis uses (shapes as in tests/fixtures/facebook/).

Routes (names for :meth:`FakeBase.fail`): ``feed`` GET /{page}/feed (posts with their newest comments
embedded, flat ``filter=stream`` order), ``comments`` GET /{post}/comments (top-level comments; all of them, replies
flat, with ``filter=stream``) and GET /{comment}/comments (its replies), oldest first unless
``order=reverse_chronological`` (Graph's default is chronological), ``tagged`` GET /{page}/tagged,
``page`` GET /{page}, ``reply`` POST /{id}/comments, ``hide`` POST /{id} (is_hidden), ``delete`` DELETE /{id},
``publish`` POST /{page}/feed, ``block`` POST /{page}/blocked (``user``; answers ``{"<id>": true}``), ``unblock``
DELETE /{page}/blocked (``user``; ``{"success": true}``, error #100 when the person is not blocked),
``blocked`` GET /{page}/blocked (Profile nodes, ``user`` filters), ``object`` GET /{comment} (``id``,
``is_hidden``; the whole comment when ``fields`` asks for ``message``) and GET /{post}. The token must come as
``Authorization: Bearer``; like the real Graph API the ``paging.next`` links carry ``access_token=`` (the
connector must never store them). ``lose_answers`` = N: the next N ``reply`` calls create the comment but
answer a transient error (HTTP 500, code 2), as when the answer is lost on the way.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug import Request, Response

from tests.fakes.base import FakeBase, json_response


def graph_time(dt: datetime) -> str:
    """Graph's timestamp format: ``2026-01-05T08:12:00+0000``."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def graph_error(code: int, message: str, *, subcode: int | None = None, kind: str = "OAuthException") -> dict:
    """A Graph error body."""
    error: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEfGhIjK"}
    if subcode:
        error["error_subcode"] = subcode
    return {"error": error}


class TokenFake:
    """``GET /debug_token`` (route ``debug_token``) as Meta answers it, for the fakes' token: ``token_expires_at``
    (epoch seconds, 0 = never), ``token_valid``, ``token_scopes``; ``input_token`` other than the fake's token
    answers ``is_valid: false`` with the 190 error Meta puts in ``data.error``."""

    token: str
    token_expires_at: int = 0
    token_valid: bool = True
    token_scopes: tuple[str, ...] = ()
    token_type: str = "PAGE"

    def debug_token(self, args: dict[str, str]) -> dict[str, Any]:
        """The answer for ``input_token`` (shape of developers.facebook.com/docs/graph-api/reference/debug_token)."""
        valid = self.token_valid and args.get("input_token") == self.token
        data: dict[str, Any] = {"app_id": "138483919580948", "type": self.token_type, "application": "Parvis",
                                "data_access_expires_at": self.token_expires_at + 30 * 86400
                                if self.token_expires_at else 0,
                                "expires_at": self.token_expires_at, "is_valid": valid,
                                "scopes": list(self.token_scopes), "user_id": "10000000000001"}
        if not valid:
            data["error"] = {"code": 190, "message": "Error validating access token: The session is invalid "
                             "because the user logged out.", "subcode": 467}
        return {"data": data}


def _cursor(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode()


def _offset(cursor: str | None) -> int:
    return int(base64.b64decode(cursor).decode()) if cursor else 0


class FakeGraphApi(TokenFake, FakeBase):
    """State: the Page's posts (its own and visitors'), their comments and replies, tagged posts, and writes."""

    def __init__(self, *, page_id: str = "5550001", page_name: str = "Ville de Test", token: str = "PAGE-TOKEN",
                 version: str = "v24.0", start: datetime | None = None) -> None:
        super().__init__()
        self.page_id, self.page_name, self.token, self.version = page_id, page_name, token, version
        self.token_scopes = ("pages_read_engagement", "pages_manage_engagement", "pages_read_user_content",
                             "pages_manage_posts")
        self.posts: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, dict[str, Any]] = {}
        self._by_post: dict[str, list[str]] = {}
        self.tagged: dict[str, dict[str, Any]] = {}
        self.published: list[dict[str, str]] = []  # form bodies of POST /{page}/feed
        self.replies: list[tuple[str, str]] = []  # (target id, message) of POST /{id}/comments
        self.hidden_ops: list[tuple[str, bool]] = []
        self.deleted: list[str] = []
        self.blocked: dict[str, str] = {}  # user id -> name, the Page's blocked list
        self.lose_answers = 0  # the next N replies are created but answer a transient error
        self.base = ""
        self._n = 100
        self._clock = start or datetime.now(UTC) - timedelta(hours=2)

    # ---- state -------------------------------------------------------------------------------------

    def _tick(self, at: datetime | None) -> str:
        self._clock = at or self._clock + timedelta(seconds=11)
        return graph_time(self._clock)

    def _id(self) -> str:
        self._n += 1
        return str(self._n)

    def add_post(self, message: str, *, author: tuple[str, str] | None = None,
                 created_at: datetime | None = None, photos: int = 0) -> str:
        """A post on the Page's feed, by the Page (default) or by a visitor ``(id, name)``; with ``photos``, its
        images as Graph gives them (``attachments.data[].media.image.src``; an album's in ``subattachments``),
        served only when ``fields`` asks for ``attachments``."""
        post_id = f"{self.page_id}_{self._id()}"
        who = author or (self.page_id, self.page_name)
        created = self._tick(created_at)
        self.posts[post_id] = {"id": post_id, "message": message, "created_time": created, "updated_time": created,
                               "from": {"id": who[0], "name": who[1]},
                               "permalink_url": f"https://www.facebook.com/{self.page_id}/posts/{post_id[-3:]}"}
        if photos:
            images = [{"media": {"image": {"height": 720, "width": 960,
                                           "src": f"https://scontent.xx.fbcdn.net/v/{post_id}_{n}.jpg"}},
                       "type": "photo", "url": f"https://www.facebook.com/photo.php?fbid={post_id}{n}"}
                      for n in range(photos)]
            one = images[0] if photos == 1 else {"type": "album", "url": f"https://www.facebook.com/{post_id}",
                                                 "media": images[0]["media"], "subattachments": {"data": images}}
            self.posts[post_id]["attachments"] = {"data": [one]}
        return post_id

    def add_comment(self, post_id: str, message: str, *,
                    author: tuple[str, str] | None = ("7001", "Camille Martin"), parent: str | None = None,
                    created_at: datetime | None = None, is_hidden: bool = False, **extra: Any) -> str:
        """A comment on ``post_id`` (a reply when ``parent`` is a comment id); bumps the post's updated_time.
        ``author=None``: no ``from`` (as Graph answers a token without the permission to see who wrote it)."""
        comment_id = f"{post_id.split('_')[-1]}_{self._id()}"
        created = self._tick(created_at)
        comment: dict[str, Any] = {"id": comment_id, "message": message, "created_time": created,
                                   **({"from": {"id": author[0], "name": author[1]}} if author else {}),
                                   "is_hidden": is_hidden,
                                   "permalink_url": f"https://www.facebook.com/{post_id}?comment_id={comment_id}",
                                   "_post": post_id}
        if parent:
            comment["parent"] = {"id": parent}
        comment.update(extra)
        self.comments[comment_id] = comment
        self._by_post.setdefault(post_id, []).append(comment_id)
        self.posts[post_id]["updated_time"] = max(self.posts[post_id]["updated_time"], created)
        return comment_id

    def add_tagged(self, message: str, *, author: tuple[str, str] = ("7002", "Association du Quartier"),
                   created_at: datetime | None = None) -> str:
        """A post elsewhere on Facebook that tags the Page."""
        post_id = f"{author[0]}_{self._id()}"
        self.tagged[post_id] = {"id": post_id, "message": message, "created_time": self._tick(created_at),
                                "from": {"id": author[0], "name": author[1]},
                                "permalink_url": f"https://www.facebook.com/{author[0]}/posts/{post_id}"}
        return post_id

    def edit(self, item_id: str, message: str) -> None:
        """The author edits a comment or post."""
        (self.comments.get(item_id) or self.posts[item_id])["message"] = message

    def remove(self, item_id: str) -> None:
        """The author deletes a comment or post."""
        self.comments.pop(item_id, None)
        self.posts.pop(item_id, None)

    # ---- reads -------------------------------------------------------------------------------------

    def _paged(self, items: list[dict[str, Any]], request_args: dict[str, str], limit: int, path: str) -> dict:
        start = _offset(request_args.get("after"))
        chunk = items[start:start + limit]
        body: dict[str, Any] = {"data": chunk}
        if items:
            paging: dict[str, Any] = {"cursors": {"before": _cursor(start), "after": _cursor(start + len(chunk))}}
            if start + limit < len(items):
                paging["next"] = (f"{self.base}/{self.version}/{path}?access_token={self.token}&limit={limit}"
                                  f"&after={_cursor(start + len(chunk))}")
            body["paging"] = paging
        return body

    def _stream(self, post_id: str) -> list[dict[str, Any]]:
        items = [self.comments[i] for i in self._by_post.get(post_id, ()) if i in self.comments]
        items.sort(key=lambda c: (c["created_time"], c["id"]), reverse=True)
        return [{k: v for k, v in c.items() if k != "_post"} for c in items]

    def _edge(self, obj: str, args: dict[str, str]) -> list[dict[str, Any]]:
        """GET /{obj}/comments: a comment's replies, or a post's top-level comments (all with filter=stream)."""
        if obj in self.comments:
            items = [c for c in self._stream(self.comments[obj]["_post"]) if c.get("parent", {}).get("id") == obj]
        else:
            items = self._stream(obj)
            if args.get("filter") != "stream":
                items = [c for c in items if "parent" not in c]
        return items if args.get("order") == "reverse_chronological" else items[::-1]

    def _feed(self, args: dict[str, str]) -> dict[str, Any]:
        posts = sorted(self.posts.values(), key=lambda p: (p["created_time"], p["id"]), reverse=True)
        page = self._paged(posts, args, int(args.get("limit", 25)), f"{self.page_id}/feed")
        fields = args.get("fields", "")
        if "attachments{" not in fields.split("comments", 1)[0]:
            page["data"] = [{k: v for k, v in p.items() if k != "attachments"} for p in page["data"]]
        if "comments" in fields:
            match = re.search(r"comments[^{]*limit\((\d+)\)", fields)
            climit = int(match[1]) if match else 25
            page["data"] = [dict(p) for p in page["data"]]
            for post in page["data"]:
                stream = self._stream(post["id"])
                if stream:
                    post["comments"] = self._paged(stream, {}, climit, f"{post['id']}/comments")
        return page

    # ---- HTTP --------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Route one request (``/{version}/{object}[/{edge}]``)."""
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return json_response(graph_error(190, "Error validating access token: Session has expired.",
                                             subcode=463), 400)
        match = re.fullmatch(rf"/{re.escape(self.version)}/([\w.]+)(?:/(\w+))?", request.path)
        if not match:
            return json_response(graph_error(2500, "Unknown path components", kind="OAuthException"), 400)
        obj, edge, method = match[1], match[2], request.method
        args, form = dict(request.args.items()), dict(request.form.items())
        if method == "GET" and obj == "debug_token":
            return self._failure("debug_token") or json_response(self.debug_token(args))
        if method == "GET" and obj == self.page_id and edge == "feed":
            return self._failure("feed") or json_response(self._feed(args))
        if method == "GET" and edge == "comments":
            return self._failure("comments") or json_response(
                self._paged(self._edge(obj, args), args, int(args.get("limit", 25)), f"{obj}/comments"))
        if method == "GET" and obj == self.page_id and edge == "tagged":
            tagged = sorted(self.tagged.values(), key=lambda p: p["created_time"], reverse=True)
            return self._failure("tagged") or json_response(
                self._paged(tagged, args, int(args.get("limit", 25)), f"{obj}/tagged"))
        if method == "GET" and obj == self.page_id and not edge:
            return self._failure("page") or json_response({"id": self.page_id, "name": self.page_name})
        if method == "POST" and obj == self.page_id and edge == "feed":
            failure = self._failure("publish")
            if failure:
                return failure
            self.published.append(form)
            post_id = self.add_post(form.get("message", ""))
            if form.get("published") == "false":
                self.posts.pop(post_id)  # scheduled: not on the feed yet
            return json_response({"id": post_id})
        if method == "POST" and edge == "comments":
            failure = self._failure("reply")
            if failure:
                return failure
            on_post = obj if obj in self.posts else self.comments.get(obj, {}).get("_post")
            if not on_post:
                return json_response(graph_error(100, "Unsupported post request.", kind="GraphMethodException"), 400)
            self.replies.append((obj, form.get("message", "")))
            parent = obj if obj in self.comments else None
            created = self.add_comment(on_post, form.get("message", ""), parent=parent,
                                       author=(self.page_id, self.page_name))
            if self.lose_answers:  # the comment exists, but the answer never reaches the client
                self.lose_answers -= 1
                return json_response(graph_error(2, "An unexpected error has occurred. Please retry your request "
                                                    "later."), 500)
            return json_response({"id": created})
        if method == "POST" and not edge and "is_hidden" in form:
            failure = self._failure("hide")
            if failure:
                return failure
            hidden = form["is_hidden"] == "true"
            self.hidden_ops.append((obj, hidden))
            if obj in self.comments:
                self.comments[obj]["is_hidden"] = hidden
            return json_response({"success": True})
        if method == "GET" and not edge and obj in self.comments:  # one comment's fields (is_hidden)
            if "message" in args.get("fields", ""):  # read by id (a webhook event points to it)
                return self._failure("object") or json_response(
                    {k: v for k, v in self.comments[obj].items() if k != "_post"})
            return self._failure("object") or json_response(
                {"id": obj, "is_hidden": bool(self.comments[obj].get("is_hidden"))})
        if method == "GET" and not edge and obj in self.posts:  # one post read by id
            return self._failure("object") or json_response(dict(self.posts[obj]))
        if obj == self.page_id and edge == "blocked":
            return self._blocked(method, args, form)
        if method == "DELETE" and not edge:
            failure = self._failure("delete")
            if failure:
                return failure
            self.deleted.append(obj)
            self.remove(obj)
            return json_response({"success": True})
        return json_response(graph_error(100, f"Unsupported {method} request.", kind="GraphMethodException"), 400)

    def _names(self) -> dict[str, str]:
        people = [c["from"] for c in [*self.comments.values(), *self.posts.values()] if "from" in c]
        return {p["id"]: p["name"] for p in people}

    def _blocked(self, method: str, args: dict[str, str], form: dict[str, str]) -> Response:
        """The Page's ``blocked`` edge: read (``user`` filters), block (POST), unblock (DELETE, query string)."""
        user = (form if method == "POST" else args).get("user", "")
        if method == "GET":
            rows = [{"id": i, "name": n} for i, n in self.blocked.items() if not user or i == user]
            return self._failure("blocked") or json_response(self._paged(rows, args, 25, f"{self.page_id}/blocked"))
        failure = self._failure("block" if method == "POST" else "unblock")
        if failure:
            return failure
        if not user:
            return json_response(graph_error(100, "(#100) The parameter user is required", kind="OAuthException"),
                                 400)
        if method == "POST":
            if user not in self._names():
                return json_response(graph_error(100, "(#100) Invalid user id", kind="OAuthException"), 400)
            self.blocked[user] = self._names()[user]
            return json_response({user: True})
        if user not in self.blocked:
            return json_response(graph_error(100, "Unsupported delete request.", subcode=33,
                                             kind="GraphMethodException"), 400)
        del self.blocked[user]
        return json_response({"success": True})

    def install(self, server: Any) -> str:
        """Answer every request ``server`` receives; returns the base URL (no version) for the connector."""
        self.base = super().install(server)
        return self.base
