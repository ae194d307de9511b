"""A stateful fake of the Mastodon REST endpoints Parvis uses (shapes from docs.joinmastodon.org/entities).

Routes (names for :meth:`FakeBase.fail`): ``notifications`` GET /api/v1/notifications (``types[]``, ``since_id``,
``max_id``, ``limit``; ``Link`` header with ``next``/``prev``), ``context`` GET /api/v1/statuses/:id/context,
``history`` GET /api/v1/statuses/:id/history, ``status`` GET /api/v1/statuses/:id (404 once deleted),
``lookup`` GET /api/v1/statuses?id[]= (Mastodon 4.3+: ``version`` below 4.3 answers 404 like an older instance;
more than 20 ids 422; statuses missing, deleted, or by accounts the city blocks or mutes, are left out),
``post`` POST /api/v1/statuses (``Idempotency-Key``: the same
key answers the status already created; ``scheduled_at`` answers a ScheduledStatus), ``delete`` DELETE
/api/v1/statuses/:id, ``unschedule`` DELETE /api/v1/scheduled_statuses/:id, ``verify`` GET
/api/v1/accounts/verify_credentials, ``block``/``unblock``/``mute``/``unmute`` POST
/api/v1/accounts/:id/{block,unblock,mute,unmute} (a Relationship; idempotent), ``upload`` POST /api/v2/media
(multipart ``file`` + ``description``; 200 with ``url`` set, or 202 with ``url: null`` while the next
``processing_polls`` reads of GET /api/v1/media/:id, route ``media``, answer 206), ``instance`` GET
/api/v{1,2}/instance (Mastodon.py reads the version once before choosing the media endpoint). A status refuses
unknown or still-processing ``media_ids[]`` (422) like the instance does.
Every answer carries ``X-RateLimit-Limit/-Remaining/-Reset`` (ISO time); ``remaining`` sets the budget.

Shapes learnt from statuses recorded on mastodon.social (../shared/real-payloads/mastodon/): a link's text is cut
(``<span class="invisible">https://</span><span class="ellipsis">…</span><span class="invisible">rest</span>``),
the whole URL only in ``href``; a ``mention`` notification may carry ``status: null`` (the status deleted since, or
not visible to the account); a Mastodon 4.5 quote post has ``quote{state, quoted_status}``.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug import Request, Response

from tests.fakes.base import FakeBase, json_response

_URL = re.compile(r"https?://\S+")


def content_html(text: str) -> str:
    """``content`` as Mastodon renders ``text``: paragraphs, ``<br />``, links cut for display."""
    def line(raw: str) -> str:
        out, last = "", 0
        for match in _URL.finditer(raw):
            scheme, rest = match[0].split("://", 1)
            out += html.escape(raw[last:match.start()])
            out += (f'<a href="{html.escape(match[0])}" target="_blank" rel="nofollow noopener" translate="no">'
                    f'<span class="invisible">{scheme}://</span><span class="ellipsis">{html.escape(rest[:30])}'
                    f'</span><span class="invisible">{html.escape(rest[30:])}</span></a>')
            last = match.end()
        return out + html.escape(raw[last:])
    return "<p>" + "<br />".join(line(raw) for raw in text.split("\n")) + "</p>"


def masto_time(dt: datetime) -> str:
    """Mastodon's timestamp format: ``2026-01-05T08:12:00.000Z``."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class FakeMastodonApi(FakeBase):
    """State: accounts, statuses, mention notifications, what was posted, scheduled, deleted, blocked, muted."""

    def __init__(self, *, token: str = "MASTO-TOKEN", host: str = "social.ville-test.fr",
                 start: datetime | None = None, limit: int = 300) -> None:
        super().__init__()
        self.token, self.host = token, host
        self.me = self._account("109000", "villedetest", "Ville de Test")
        self.statuses: dict[str, dict[str, Any]] = {}
        self.notifications: dict[str, dict[str, Any]] = {}
        self.scheduled: dict[str, dict[str, Any]] = {}
        self.posted: list[dict[str, Any]] = []  # request bodies of POST /api/v1/statuses that created something
        self.keys: dict[str, dict[str, Any]] = {}  # Idempotency-Key -> answer
        self.deleted: list[str] = []
        self.blocked: list[str] = []
        self.muted: list[str] = []
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.media: dict[str, dict[str, Any]] = {}  # uploaded attachments (with "_left": polls before processed)
        self.uploads: list[dict[str, Any]] = []  # {"id", "description", "filename", "mimetype", "size"}
        self.processing_polls = 0  # uploads answer 202 and stay processing for this many GET /api/v1/media/:id
        self.version = "4.3.2"
        self.limit, self.remaining = limit, limit
        self.lose_answers = 0  # the next N created statuses answer 503 (an ambiguous failure)
        self.base = ""
        self._n = 110000000000000000
        self._clock = start or datetime.now(UTC) - timedelta(hours=2)

    def _id(self) -> str:
        self._n += 1
        return str(self._n)

    def _account(self, account_id: str, username: str, name: str) -> dict[str, Any]:
        return {"id": account_id, "username": username, "acct": username, "display_name": name,
                "locked": False, "bot": False, "created_at": "2022-11-05T00:00:00.000Z", "note": "",
                "url": f"https://{self.host}/@{username}", "avatar": f"https://{self.host}/avatars/{account_id}.png",
                "followers_count": 1200, "following_count": 80, "statuses_count": 420, "emojis": [], "fields": []}

    def status(self, text: str, *, author: tuple[str, str, str] | None = None, reply_to: str | None = None,
               visibility: str = "public", created_at: datetime | None = None, **extra: Any) -> dict[str, Any]:
        """A status (by ``author`` = (id, acct, name), by default a resident of another instance)."""
        self._clock = created_at or self._clock + timedelta(seconds=9)
        acct = author or ("209001", "camille@mastodon.example", "Camille Martin")
        account = self._account(*acct)
        account["acct"] = acct[1]
        status_id = self._id()
        content = content_html(text)
        status: dict[str, Any] = {
            "id": status_id, "uri": f"https://{self.host}/users/{acct[1]}/statuses/{status_id}",
            "url": f"https://{self.host}/@{acct[1]}/{status_id}", "created_at": masto_time(self._clock),
            "account": account, "content": content, "visibility": visibility, "sensitive": False,
            "spoiler_text": "", "media_attachments": [], "mentions": [], "tags": [], "emojis": [],
            "reblogs_count": 0, "favourites_count": 0, "replies_count": 0, "in_reply_to_id": reply_to,
            "in_reply_to_account_id": self.statuses[reply_to]["account"]["id"] if reply_to in self.statuses
            else None, "reblog": None, "poll": None, "card": None, "language": "fr", "text": None,
            "edited_at": None, "application": None}
        status.update(extra)
        self.statuses[status_id] = status
        return status

    def mention(self, text: str, **kwargs: Any) -> dict[str, Any]:
        """A resident mentions the city's account: a status and its ``mention`` notification."""
        status = self.status(f"@{self.me['acct']} {text}", **kwargs)
        note_id = str(len(self.notifications) + 1 + 500)
        self.notifications[note_id] = {"id": note_id, "type": "mention", "created_at": status["created_at"],
                                       "account": status["account"], "status": status}
        return status

    def _version(self, status: dict[str, Any], at: str) -> dict[str, Any]:
        """One StatusEdit of a status's history, as the instance shows it."""
        return {"content": status["content"], "spoiler_text": status["spoiler_text"],
                "sensitive": status["sensitive"], "created_at": at, "account": status["account"], "poll": None,
                "media_attachments": status["media_attachments"], "emojis": status["emojis"]}

    def edit(self, status_id: str, text: str) -> dict[str, Any]:
        """The author edits a status: new content and ``edited_at``, the new version added to its history."""
        status = self.statuses[status_id]
        versions = self.history.setdefault(status_id, [self._version(status, status["created_at"])])
        self._clock += timedelta(minutes=1)
        status["content"] = content_html(text)
        status["edited_at"] = masto_time(self._clock)
        versions.append(self._version(status, status["edited_at"]))
        return status

    def remove(self, status_id: str) -> None:
        """The author deletes a status (its notifications go with it, as on the instance)."""
        self.statuses.pop(status_id)
        self.history.pop(status_id, None)
        for note_id in [k for k, n in self.notifications.items() if (n.get("status") or {}).get("id") == status_id]:
            del self.notifications[note_id]

    def quote(self, text: str, status_id: str, **kwargs: Any) -> dict[str, Any]:
        """A resident quotes ``status_id`` (Mastodon 4.5): a status with ``quote`` and a ``quote`` notification."""
        quoted = self.statuses[status_id]
        status = self.status(text, quote={"state": "accepted", "quoted_status": quoted}, **kwargs)
        note_id = str(len(self.notifications) + 1 + 500)
        self.notifications[note_id] = {"id": note_id, "type": "quote", "created_at": status["created_at"],
                                       "account": status["account"], "status": status}
        return status

    def gone_mention(self) -> None:
        """A ``mention`` notification whose ``status`` is null (deleted since, or not visible to the account)."""
        note_id = str(len(self.notifications) + 1 + 500)
        self.notifications[note_id] = {"id": note_id, "type": "mention", "created_at": masto_time(self._clock),
                                       "account": self._account("209003", "eve", "Eve"), "status": None}

    def favourite(self, status_id: str) -> None:
        """A ``favourite`` notification (must be filtered out by ``types[]=mention``)."""
        note_id = str(len(self.notifications) + 1 + 500)
        self.notifications[note_id] = {"id": note_id, "type": "favourite", "created_at": masto_time(self._clock),
                                       "account": self._account("209002", "dom", "Dom"),
                                       "status": self.statuses.get(status_id)}

    # ---- HTTP --------------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        reset = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(max(self.remaining, 0)),
                "X-RateLimit-Reset": masto_time(reset)}

    def _json(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return json_response(body, status, {**self._headers(), **(headers or {})})

    def _notifications(self, request: Request) -> Response:
        args = request.args
        types = args.getlist("types[]")
        limit = min(int(args.get("limit", 40)), 80)
        since, below = int(args.get("since_id", 0) or 0), args.get("max_id")
        ids = sorted((int(i) for i, n in self.notifications.items()
                      if (not types or n["type"] in types) and int(i) > since), reverse=True)
        if below:
            ids = [i for i in ids if i < int(below)]
        chunk = [self.notifications[str(i)] for i in ids[:limit]]
        headers = {}
        if chunk:
            path = f"{self.base}/api/v1/notifications"
            headers["Link"] = (f'<{path}?max_id={chunk[-1]["id"]}>; rel="next", '
                               f'<{path}?min_id={chunk[0]["id"]}>; rel="prev"')
        return self._json(chunk, headers=headers)

    def _post(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key and key in self.keys:
            return self._json(self.keys[key])
        form = request.get_json(silent=True) or dict(request.form.items())
        text = str(form.get("status", ""))
        if len(text) > 500:
            return self._json({"error": "Validation failed: Text character limit of 500 exceeded"}, 422)
        media_ids = request.form.getlist("media_ids[]") or list(form.get("media_ids") or [])
        if len(media_ids) > 4:
            return self._json({"error": "Validation failed: Media attachments cannot attach more than 4 files"}, 422)
        if any(m not in self.media for m in media_ids):
            return self._json({"error": "Record not found"}, 404)
        if any(self.media[m]["_left"] > 0 for m in media_ids):
            return self._json({"error": "Validation failed: Cannot attach files that have not finished processing. "
                                        "Try again in a moment!"}, 422)
        attachments = [self._attachment(self.media[m]) for m in media_ids]
        form = {**form, "media_ids": media_ids}
        if form.get("scheduled_at"):
            when = datetime.fromisoformat(str(form["scheduled_at"]).replace("Z", "+00:00"))
            if when < datetime.now(UTC) + timedelta(minutes=5):
                return self._json({"error": "Validation failed: Scheduled at The scheduled date must be in the "
                                            "future"}, 422)
            sched_id = self._id()
            answer: dict[str, Any] = {"id": sched_id, "scheduled_at": masto_time(when),
                                      "media_attachments": attachments,
                                      "params": {"text": text, "visibility": form.get("visibility", "public"),
                                                 "scheduled_at": None, "in_reply_to_id": None,
                                                 "idempotency": key}}
            self.scheduled[sched_id] = answer
        else:
            answer = self.status(text, author=(self.me["id"], self.me["acct"], self.me["display_name"]),
                                 reply_to=form.get("in_reply_to_id") or None,
                                 visibility=str(form.get("visibility") or "public"), media_attachments=attachments)
        self.posted.append(dict(form))
        if key:
            self.keys[key] = answer
        if self.lose_answers:  # the status exists, but the answer never reaches the client
            self.lose_answers -= 1
            return self._json({"error": "Bad gateway"}, 503)
        return self._json(answer)

    def handle(self, request: Request) -> Response:
        """Route one request."""
        self.remaining -= 1
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._json({"error": "The access token is invalid"}, 401)
        path, method = request.path, request.method
        if self.remaining < 0:
            return self._json({"error": "Too many requests"}, 429)
        if method == "GET" and path == "/api/v1/notifications":
            return self._failure("notifications") or self._notifications(request)
        if method == "GET" and path == "/api/v1/accounts/verify_credentials":
            return self._failure("verify") or self._json({**self.me, "source": {"privacy": "public"}})
        if method == "GET" and (m := re.fullmatch(r"/api/v1/accounts/(\d+)/statuses", path)):
            return self._failure("statuses") or self._statuses(m[1], request)
        if m := re.fullmatch(r"/api/v1/statuses/(\d+)/context", path):
            return self._failure("context") or self._context(m[1])
        if m := re.fullmatch(r"/api/v1/statuses/(\d+)/history", path):
            return self._failure("history") or self._json(self.history.get(m[1], [
                {k: self.statuses[m[1]][k] for k in ("content", "spoiler_text", "sensitive", "created_at",
                                                      "account", "media_attachments", "emojis")}]))
        if method == "GET" and path == "/api/v1/statuses":
            return self._failure("lookup") or self._lookup(request)
        if method == "GET" and (m := re.fullmatch(r"/api/v1/statuses/(\d+)", path)):
            found = self.statuses.get(m[1])
            return self._failure("status") or (self._json(found) if found else self._json(
                {"error": "Record not found"}, 404))
        if method == "POST" and path == "/api/v1/statuses":
            return self._failure("post") or self._post(request)
        if method == "GET" and path.rstrip("/") in ("/api/v1/instance", "/api/v2/instance"):
            return self._failure("instance") or self._json(self._instance(path))
        if method == "POST" and path == "/api/v2/media":
            return self._failure("upload") or self._upload(request)
        if method == "GET" and (m := re.fullmatch(r"/api/v1/media/(\d+)", path)):
            return self._failure("media") or self._media(m[1])
        if method == "DELETE" and (m := re.fullmatch(r"/api/v1/statuses/(\d+)", path)):
            failure = self._failure("delete")
            if failure:
                return failure
            status = self.statuses.get(m[1])
            if status is None or status["account"]["id"] != self.me["id"]:
                return self._json({"error": "Record not found"}, 404)
            self.deleted.append(m[1])
            return self._json({**self.statuses.pop(m[1]), "text": "deleted"})
        if method == "DELETE" and (m := re.fullmatch(r"/api/v1/scheduled_statuses/(\d+)", path)):
            if self.scheduled.pop(m[1], None) is None:
                return self._json({"error": "Record not found"}, 404)
            self.deleted.append(f"scheduled:{m[1]}")
            return self._json({})
        if method == "POST" and (m := re.fullmatch(r"/api/v1/accounts/(\d+)/(un)?(block|mute)", path)):
            failure = self._failure(f"{m[2] or ''}{m[3]}")
            if failure:
                return failure
            kept = self.blocked if m[3] == "block" else self.muted
            kept[:] = [a for a in kept if a != m[1]] + ([] if m[2] else [m[1]])  # idempotent, like the instance
            return self._json({"id": m[1], "following": False, "showing_reblogs": False, "notifying": False,
                               "followed_by": False, "blocking": m[1] in self.blocked, "blocked_by": False,
                               "muting": m[1] in self.muted, "muting_notifications": m[1] in self.muted,
                               "requested": False, "domain_blocking": False, "endorsed": False, "note": ""})
        return self._json({"error": "Record not found"}, 404)

    # ---- media -------------------------------------------------------------------------------------

    def _attachment(self, media: dict[str, Any]) -> dict[str, Any]:
        """A MediaAttachment as the API shows it (``url`` null while processing)."""
        files = f"https://files.{self.host}/media_attachments/files/{media['id']}"
        return {"id": media["id"], "type": "image",
                "url": None if media["_left"] > 0 else f"{files}/original/{media['_name']}",
                "preview_url": f"{files}/small/{media['_name']}", "remote_url": None,
                "text_url": f"https://{self.host}/media/{media['id']}",
                "meta": {"original": {"width": 640, "height": 480, "size": "640x480", "aspect": 1.3333333333333333},
                         "small": {"width": 461, "height": 346, "size": "461x346", "aspect": 1.3323699421965318}},
                "description": media["description"], "blurhash": "UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}"}

    def _upload(self, request: Request) -> Response:
        upload = request.files.get("file")
        if upload is None or not upload.mimetype:
            return self._json({"error": "Validation failed: File content type is invalid, File is invalid"}, 422)
        data = upload.read()
        media_id = self._id()
        self.media[media_id] = {"id": media_id, "description": request.form.get("description"),
                                "_left": self.processing_polls, "_name": f"{media_id}.{upload.mimetype[6:]}"}
        self.uploads.append({"id": media_id, "description": request.form.get("description"),
                             "filename": upload.filename, "mimetype": upload.mimetype, "size": len(data)})
        return self._json(self._attachment(self.media[media_id]), 202 if self.processing_polls else 200)

    def _media(self, media_id: str) -> Response:
        media = self.media.get(media_id)
        if media is None:
            return self._json({"error": "Record not found"}, 404)
        if media["_left"] > 0:
            media["_left"] -= 1
            return self._json(self._attachment({**media, "_left": 1}), 206)
        return self._json(self._attachment(media))

    def _instance(self, path: str) -> dict[str, Any]:
        """The instance document (v1 or v2), with the version Mastodon.py reads."""
        body: dict[str, Any] = {"title": "Ville de Test", "version": self.version, "languages": ["fr"],
                                "description": "Instance de test", "registrations": False}
        if path.startswith("/api/v2"):
            body.update({"domain": self.host, "source_url": "https://github.com/mastodon/mastodon",
                         "api_versions": {"mastodon": 2},
                         "configuration": {"statuses": {"max_characters": 500, "max_media_attachments": 4},
                                           "media_attachments": {"image_size_limit": 16777216,
                                                                 "description_limit": 1500}}})
        else:
            body.update({"uri": self.host, "short_description": "", "email": "admin@ville-test.fr"})
        return body

    def _statuses(self, account_id: str, request: Request) -> Response:
        ids = sorted((int(i) for i, s in self.statuses.items() if s["account"]["id"] == account_id), reverse=True)
        if request.args.get("max_id"):
            ids = [i for i in ids if i < int(request.args["max_id"])]
        chunk = [self.statuses[str(i)] for i in ids[:int(request.args.get("limit", 20))]]
        headers = {"Link": f'<{self.base}{request.path}?max_id={chunk[-1]["id"]}>; rel="next"'} if chunk else {}
        return self._json(chunk, headers=headers)

    def _lookup(self, request: Request) -> Response:
        """GET /api/v1/statuses?id[]=…: what the city's account may see of them, in no promised order."""
        if tuple(int(p) for p in self.version.split(".")[:2]) < (4, 3):
            return self._json({"error": "Record not found"}, 404)  # the route does not exist before 4.3
        ids = list(dict.fromkeys(request.args.getlist("id[]")))
        if len(ids) > 20:
            return self._json({"error": "Validation failed"}, 422)
        hidden = set(self.blocked) | set(self.muted)
        found = [self.statuses[i] for i in ids if i in self.statuses
                 and self.statuses[i]["account"]["id"] not in hidden]
        return self._json(found[::-1])

    def _context(self, status_id: str) -> Response:
        if status_id not in self.statuses:
            return self._json({"error": "Record not found"}, 404)
        ancestors: list[dict[str, Any]] = []
        cur = self.statuses[status_id].get("in_reply_to_id")
        while cur and cur in self.statuses:
            ancestors.insert(0, self.statuses[cur])
            cur = self.statuses[cur].get("in_reply_to_id")
        descendants, frontier = [], [status_id]
        while frontier:
            parent = frontier.pop(0)
            kids = [s for s in self.statuses.values() if s.get("in_reply_to_id") == parent]
            descendants.extend(kids)
            frontier.extend(k["id"] for k in kids)
        return self._json({"ancestors": ancestors, "descendants": descendants})

    def install(self, server: Any) -> str:
        """Answer every request ``server`` receives; returns the base URL (the instance)."""
        self.base = super().install(server)
        return self.base
