"""A stateful fake of the Bluesky PDS XRPC endpoints Parvis uses (shapes from the atproto lexicons).

Routes (names for :meth:`FakeBase.fail`): ``createSession``, ``refreshSession``, ``listNotifications`` (newest
first, opaque ``cursor``), ``getProfile``, ``resolveHandle``, ``createRecord``, ``deleteRecord``, ``getRecord``,
``putRecord``, ``listRecords`` (newest first, ``limit``, opaque ``cursor``), ``uploadBlob`` (raw bytes,
``Content-Type`` the MIME type; answers ``{"blob": {"$type": "blob", "ref": {"$link": cid}, "mimeType",
"size"}}``) — the last segment of the NSID. A ``app.bsky.graph.block`` record needs a DID ``subject``. A post's
``app.bsky.embed.images`` is validated like the PDS does against the lexicon: 4 images at most, each with ``alt``
and a blob uploaded before, of 2,000,000 bytes at most. Tokens are unsigned JWTs with an ``exp`` claim (the SDK reads it
to decide when to refresh). ``sign_ins`` counts createSession calls.

Shapes learnt from the lexicons and the app: a post's links are shown shortened in ``text`` (« example.org/tr… »),
the full URL living in an ``app.bsky.richtext.facet#link`` facet indexed by UTF-8 bytes; images are an
``app.bsky.embed.images`` embed of blobs; a quote is an ``app.bsky.embed.record`` (or ``recordWithMedia``) embed.

Reads beyond the notifications (lexicons ``app.bsky.feed.getPostThread``, ``app.bsky.feed.getPosts``,
``app.bsky.feed.defs``; docs/connectors.md cites them): ``getPostThread`` answers ``{"thread": threadViewPost}``
whose ``parent`` chain climbs ``parentHeight`` levels and ends at a ``#notFoundPost`` (``{uri, notFound: true}``:
a deleted post, e.g. a deleted root) or a ``#blockedPost`` (``{uri, blocked: true, author: {did, viewer}}``: an
author in a block relation with the account, :meth:`block_relation`), which carry no parent; an anchor that is
gone answers 400 ``NotFound``. ``getPosts`` answers ``{"posts": [postView]}`` (missing ones left out). A postView
is ``{uri, cid, author: profileViewBasic, record, replyCount, repostCount, likeCount, quoteCount, indexedAt,
viewer, labels}``; :meth:`label` puts a moderation label (``com.atproto.label.defs#label``) on a post, served in its
views and its notification. :meth:`rate_limit` answers the next calls of a route 429 ``RateLimitExceeded`` with
the ``ratelimit-*`` headers the PDS sends; an unknown access token answers 400 ``ExpiredToken``.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug import Request, Response

from tests.fakes.base import FakeBase, json_response


def at_time(dt: datetime) -> str:
    """AT Protocol datetime: ``2026-01-05T08:12:00.000Z``."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


_issued = iter(range(1, 10**9))


def jwt(sub: str, scope: str, ttl: timedelta) -> str:
    """An unsigned JWT-shaped token (a unique ``jti`` each time)."""
    now = datetime.now(UTC)
    return ".".join([_b64({"typ": "at+jwt", "alg": "ES256K"}),
                     _b64({"scope": scope, "sub": sub, "iat": int(now.timestamp()), "jti": str(next(_issued)),
                           "exp": int((now + ttl).timestamp()), "aud": "did:web:fake.pds"}), "c2ln"])


_URL = re.compile(r"https?://\S+")


def shorten_links(text: str) -> tuple[str, list[dict[str, Any]]]:
    """``text`` as the app posts it: each URL shown without its scheme, cut to 20 characters with « … », and a link
    facet (UTF-8 byte offsets) holding the whole URL."""
    out, facets, last = "", [], 0
    for match in _URL.finditer(text):
        out += text[last:match.start()]
        shown = match[0].split("://", 1)[1]
        shown = shown if len(shown) <= 20 else shown[:19] + "…"
        start = len(out.encode("utf-8"))
        out += shown
        facets.append({"$type": "app.bsky.richtext.facet",
                       "index": {"byteStart": start, "byteEnd": len(out.encode("utf-8"))},
                       "features": [{"$type": "app.bsky.richtext.facet#link", "uri": match[0]}]})
        last = match.end()
    return out + text[last:], facets


def xrpc_error(name: str, message: str, status: int = 400) -> Response:
    """An XRPC error answer."""
    return json_response({"error": name, "message": message}, status)


class FakeBlueskyApi(FakeBase):
    """State: the city's account, other accounts, posts (records), notifications, thread gates."""

    def __init__(self, *, handle: str = "ville-test.bsky.social", password: str = "app-pass-1234",
                 start: datetime | None = None) -> None:
        super().__init__()
        self.account_handle, self.password, self.did = handle, password, "did:plc:villetest0000000000000"
        self.accounts = {handle: self.did, "camille.bsky.social": "did:plc:camille00000000000000000"}
        self.records: dict[str, dict[str, Any]] = {}  # uri -> {"uri", "cid", "value"}
        self.notifications: list[dict[str, Any]] = []  # oldest first
        self.sign_ins = 0
        self.access_ttl = timedelta(hours=2)
        self.tokens: set[str] = set()
        self.blobs: dict[str, dict[str, Any]] = {}  # cid -> {"mimeType", "size", "data"}
        self.blocks: set[str] = set()  # DIDs in a block relation with the account (threads show blockedPost)
        self.labels: dict[str, list[dict[str, Any]]] = {}  # post uri -> its labels
        self.reply_counts: dict[str, int] = {}  # post uri -> replies to it (the views' replyCount)
        self._n = 0
        self._clock = start or datetime.now(UTC) - timedelta(hours=2)

    def _rkey(self) -> str:
        self._n += 1
        return f"3lf{self._n:010d}"

    def _cid(self) -> str:
        self._n += 1
        return f"bafyreib{self._n:050d}"

    def add_record(self, did: str, collection: str, value: dict[str, Any], rkey: str | None = None) -> dict:
        """Store a record; returns ``{"uri", "cid", "value"}``."""
        uri = f"at://{did}/{collection}/{rkey or self._rkey()}"
        self.records[uri] = {"uri": uri, "cid": self._cid(), "value": value}
        return self.records[uri]

    def post(self, text: str, *, by: str = "camille.bsky.social", reply_to: str | None = None,
             reason: str | None = "mention", **extra: Any) -> dict[str, Any]:
        """A post by ``by``; a notification to the city with ``reason`` (mention, reply, quote, or None)."""
        self._clock += timedelta(seconds=13)
        shown, facets = shorten_links(text)
        value: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": shown, "createdAt": at_time(self._clock),
                                 "langs": ["fr"], **({"facets": facets} if facets else {}), **extra}
        if reply_to:
            parent = self.records[reply_to]
            root = (parent["value"].get("reply") or {}).get("root") or {"uri": parent["uri"], "cid": parent["cid"]}
            value["reply"] = {"root": root, "parent": {"uri": parent["uri"], "cid": parent["cid"]}}
            self.reply_counts[parent["uri"]] = self.reply_counts.get(parent["uri"], 0) + 1
        record = self.add_record(self.accounts.get(by, f"did:plc:{by[:20]}"), "app.bsky.feed.post", value)
        if reason:
            self.notifications.append({
                "uri": record["uri"], "cid": record["cid"],
                "author": {"did": self.accounts.get(by, f"did:plc:{by[:20]}"), "handle": by,
                           "displayName": by.split(".")[0].title(), "avatar": "https://cdn.bsky.app/a.jpg",
                           "labels": [], "createdAt": "2023-05-01T00:00:00.000Z"},
                "reason": reason, "record": value, "isRead": False, "indexedAt": at_time(self._clock),
                "labels": [], **({"reasonSubject": reply_to} if reason == "reply" and reply_to else {})})
        return record

    def quote(self, text: str, quoted: str, *, images: int = 0, by: str = "camille.bsky.social") -> dict[str, Any]:
        """A quote of the post ``quoted`` (with ``images`` images: ``recordWithMedia``), notified as ``quote``."""
        target = self.records[quoted]
        record = {"$type": "app.bsky.embed.record", "record": {"uri": target["uri"], "cid": target["cid"]}}
        embed: dict[str, Any] = record
        if images:
            embed = {"$type": "app.bsky.embed.recordWithMedia", "record": record, "media": self.images(images)}
        record = self.post(text, by=by, reason="quote", embed=embed)
        self.notifications[-1]["reasonSubject"] = quoted  # the lexicon: the post the notification is about
        return record

    def images(self, n: int) -> dict[str, Any]:
        """An ``app.bsky.embed.images`` embed of ``n`` uploaded blobs."""
        blobs = []
        for _ in range(n):
            cid = self._cid()
            self.blobs[cid] = {"mimeType": "image/jpeg", "size": 1000, "data": b"\xff\xd8"}
            blobs.append({"alt": "photo", "image": {"$type": "blob", "ref": {"$link": cid},
                                                    "mimeType": "image/jpeg", "size": 1000}})
        return {"$type": "app.bsky.embed.images", "images": blobs}

    def own_post(self, text: str) -> dict[str, Any]:
        """A post by the city's account (no notification)."""
        return self.post(text, by=self.account_handle, reason=None)

    def like(self, uri: str) -> None:
        """A ``like`` notification (must be ignored)."""
        self._clock += timedelta(seconds=5)
        self.notifications.append({"uri": f"at://did:plc:dom/app.bsky.feed.like/{self._rkey()}",
                                   "cid": self._cid(),
                                   "author": {"did": "did:plc:dom", "handle": "dom.bsky.social"}, "reason": "like",
                                   "reasonSubject": uri, "record": {"$type": "app.bsky.feed.like"},
                                   "isRead": False, "indexedAt": at_time(self._clock)})

    def delete(self, uri: str) -> None:
        """The author deletes a post: threads show it as ``#notFoundPost``; its notification goes with it."""
        self.records.pop(uri, None)
        self.notifications = [n for n in self.notifications if n["uri"] != uri]

    def block_relation(self, handle: str) -> None:
        """``handle`` and the account block each other: their posts show as ``#blockedPost`` in threads."""
        self.blocks.add(self.accounts.get(handle, f"did:plc:{handle[:20]}"))

    def label(self, uri: str, val: str, *, src: str = "did:plc:ar7c4by46qjdydhdevvrndac") -> None:
        """A moderation label on a post (``com.atproto.label.defs#label``; the default source is Bluesky's
        moderation service), in its views and its notification."""
        label = {"src": src, "uri": uri, "cid": self.records[uri]["cid"], "val": val, "cts": at_time(self._clock),
                 "ver": 1}
        self.labels.setdefault(uri, []).append(label)
        for note in self.notifications:
            if note["uri"] == uri:
                note["labels"] = self.labels[uri]

    def rate_limit(self, route: str, *, reset_in: int = 300, times: int = 1) -> int:
        """The next ``times`` calls of ``route`` answer 429 as the PDS does (body ``RateLimitExceeded``, headers
        ``ratelimit-limit``, ``-remaining``, ``-reset`` in epoch seconds, ``-policy``); returns the reset time."""
        reset = int(datetime.now(UTC).timestamp()) + reset_in
        self.fail(route, 429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, times=times,
                  headers={"ratelimit-limit": "3000", "ratelimit-remaining": "0", "ratelimit-reset": str(reset),
                           "ratelimit-policy": "3000;w=300"})
        return reset

    def _author_view(self, did: str) -> dict[str, Any]:
        handle = next((h for h, d in self.accounts.items() if d == did), did.removeprefix("did:plc:") + ".bsky.social")
        return {"did": did, "handle": handle, "displayName": handle.split(".")[0].title(),
                "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did}/bafkreiavatar@jpeg",
                "viewer": {"muted": False, "blockedBy": False}, "labels": [], "createdAt": "2023-05-01T00:00:00.000Z"}

    def post_view(self, uri: str) -> dict[str, Any]:
        """``app.bsky.feed.defs#postView`` of a stored post."""
        stored = self.records[uri]
        did = uri[5:].split("/")[0]
        replies = self.reply_counts.get(uri, 0)
        return {"$type": "app.bsky.feed.defs#postView", "uri": uri, "cid": stored["cid"],
                "author": self._author_view(did), "record": stored["value"], "replyCount": replies,
                "repostCount": 0, "likeCount": 0, "quoteCount": 0,
                "indexedAt": stored["value"].get("createdAt", at_time(self._clock)), "viewer": {},
                "labels": self.labels.get(uri, [])}

    def _thread_node(self, uri: str, height: int) -> dict[str, Any]:
        """A ``threadViewPost`` (parents up to ``height`` levels), ``notFoundPost`` or ``blockedPost``."""
        if uri not in self.records:
            return {"$type": "app.bsky.feed.defs#notFoundPost", "uri": uri, "notFound": True}
        did = uri[5:].split("/")[0]
        if did in self.blocks:
            return {"$type": "app.bsky.feed.defs#blockedPost", "uri": uri, "blocked": True,
                    "author": {"did": did, "viewer": {"blocking": f"at://{self.did}/app.bsky.graph.block/3lblk",
                                                      "blockedBy": True}}}
        node: dict[str, Any] = {"$type": "app.bsky.feed.defs#threadViewPost", "post": self.post_view(uri)}
        parent = ((self.records[uri]["value"].get("reply") or {}).get("parent") or {}).get("uri")
        if parent and height > 0:
            node["parent"] = self._thread_node(parent, height - 1)
        return node

    def _get_post_thread(self, args: Any) -> Response:
        uri = args.get("uri", "")
        if uri not in self.records:
            return xrpc_error("NotFound", f"Post not found: {uri}")
        depth, height = int(args.get("depth", 6)), int(args.get("parentHeight", 80))
        if not (0 <= depth <= 1000 and 0 <= height <= 1000):
            return xrpc_error("InvalidRequest", "depth and parentHeight must be between 0 and 1000")
        thread = self._thread_node(uri, height)
        replies = [self._thread_node(r, 0) for r, rec in self.records.items()
                   if ((rec["value"].get("reply") or {}).get("parent") or {}).get("uri") == uri] if depth else []
        return json_response({"thread": {**thread, "replies": replies}})

    def gate(self, post_uri: str) -> dict[str, Any] | None:
        """The thread gate record of one of the city's posts."""
        rkey = post_uri.rsplit("/", 1)[-1]
        found = self.records.get(f"at://{self.did}/app.bsky.feed.threadgate/{rkey}")
        return found["value"] if found else None

    # ---- HTTP --------------------------------------------------------------------------------------

    def _session(self) -> Response:
        access = jwt(self.did, "com.atproto.appPass", self.access_ttl)
        refresh = jwt(self.did, "com.atproto.refresh", timedelta(days=60))
        self.tokens |= {access}
        return json_response({"did": self.did, "handle": self.account_handle, "accessJwt": access,
                              "refreshJwt": refresh, "active": True})

    def handle(self, request: Request) -> Response:
        """Route one XRPC request."""
        match = re.fullmatch(r"/xrpc/([\w.]+)", request.path)
        if not match:
            return xrpc_error("MethodNotImplemented", "Method Not Implemented", 501)
        nsid = match[1]
        route = nsid.rsplit(".", 1)[-1]
        failure = self._failure(route)
        if failure:
            return failure
        if nsid == "com.atproto.server.createSession":
            body = request.get_json(silent=True) or {}
            self.sign_ins += 1
            if body.get("identifier") not in (self.account_handle, self.did) or body.get("password") != self.password:
                return xrpc_error("AuthenticationRequired", "Invalid identifier or password", 401)
            return self._session()
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if nsid == "com.atproto.server.refreshSession":
            return self._session()
        if bearer not in self.tokens:
            return xrpc_error("ExpiredToken", "Token has expired", 400)
        args = request.args
        if nsid == "app.bsky.notification.listNotifications":
            ordered = list(reversed(self.notifications))
            start = int(args.get("cursor") or 0)
            limit = int(args.get("limit", 50))
            chunk = ordered[start:start + limit]
            page: dict[str, Any] = {"notifications": chunk, "priority": False, "seenAt": at_time(self._clock)}
            if start + limit < len(ordered):
                page["cursor"] = str(start + limit)
            return json_response(page)
        if nsid == "app.bsky.feed.getPostThread":
            return self._get_post_thread(args)
        if nsid == "app.bsky.feed.getPosts":
            uris = args.getlist("uris")
            if len(uris) > 25:
                return xrpc_error("InvalidRequest", "uris must not have more than 25 elements")
            return json_response({"posts": [self.post_view(u) for u in uris if u in self.records]})
        if nsid == "app.bsky.actor.getProfile":
            return json_response({"did": self.did, "handle": self.account_handle, "displayName": "Ville de Test",
                                  "followersCount": 1500, "followsCount": 20, "postsCount": 300})
        if nsid == "com.atproto.identity.resolveHandle":
            did = self.accounts.get(args.get("handle", ""))
            return json_response({"did": did}) if did else xrpc_error("InvalidRequest", "Unable to resolve handle")
        if nsid == "com.atproto.repo.uploadBlob":
            data = request.get_data()
            cid = f"bafkrei{self._n:052d}"
            self._n += 1
            self.blobs[cid] = {"mimeType": request.headers.get("Content-Type", ""), "size": len(data), "data": data}
            return json_response({"blob": {"$type": "blob", "ref": {"$link": cid},
                                           "mimeType": self.blobs[cid]["mimeType"], "size": len(data)}})
        body = request.get_json(silent=True) or {}
        if nsid == "com.atproto.repo.createRecord":
            if body.get("repo") != self.did:
                return xrpc_error("InvalidRequest", "repo does not match the session", 400)
            if body.get("collection") == "app.bsky.graph.block" and \
                    not str((body.get("record") or {}).get("subject", "")).startswith("did:"):
                return xrpc_error("InvalidRequest", "Invalid app.bsky.graph.block record: subject must be a did", 400)
            problem = self._embed_problem((body.get("record") or {}).get("embed"))
            if problem:
                return xrpc_error("InvalidRequest", problem, 400)
            record = self.add_record(self.did, body["collection"], body["record"])
            return json_response({"uri": record["uri"], "cid": record["cid"],
                                  "commit": {"cid": self._cid(), "rev": self._rkey()}, "validationStatus": "valid"})
        if nsid == "com.atproto.repo.putRecord":
            record = self.add_record(self.did, body["collection"], body["record"], rkey=body["rkey"])
            return json_response({"uri": record["uri"], "cid": record["cid"]})
        if nsid == "com.atproto.repo.deleteRecord":
            self.records.pop(f"at://{body['repo']}/{body['collection']}/{body['rkey']}", None)
            return json_response({"commit": {"cid": self._cid(), "rev": self._rkey()}})
        if nsid == "com.atproto.repo.listRecords":
            prefix = f"at://{args.get('repo')}/{args.get('collection')}/"
            found = [r for uri, r in reversed(self.records.items()) if uri.startswith(prefix)]
            start, limit = int(args.get("cursor") or 0), int(args.get("limit", 50))
            listed: dict[str, Any] = {"records": found[start:start + limit]}
            if start + limit < len(found):
                listed["cursor"] = str(start + limit)
            return json_response(listed)
        if nsid == "com.atproto.repo.getRecord":
            uri = f"at://{args.get('repo')}/{args.get('collection')}/{args.get('rkey')}"
            stored = self.records.get(uri)
            return json_response(stored) if stored else xrpc_error("RecordNotFound", f"Could not locate record: {uri}")
        return xrpc_error("MethodNotImplemented", "Method Not Implemented", 501)

    def _embed_problem(self, embed: Any) -> str:
        """Why the PDS would refuse this ``app.bsky.embed.images`` embed ("" when it is valid)."""
        if not isinstance(embed, dict) or embed.get("$type") != "app.bsky.embed.images":
            return ""
        images = embed.get("images") or []
        if len(images) > 4:
            return "Invalid app.bsky.feed.post record: embed/images must not have more than 4 elements"
        for n, item in enumerate(images):
            if not isinstance(item.get("alt"), str):
                return f'Invalid app.bsky.feed.post record: embed/images/{n} must have the property "alt"'
            blob = self.blobs.get(((item.get("image") or {}).get("ref") or {}).get("$link", ""))
            if blob is None:
                return "Could not find blob"
            if blob["size"] > 2_000_000:
                return "BlobTooLarge: This file is too large. It is 2.0MB but the maximum size is 2.0MB."
        return ""
