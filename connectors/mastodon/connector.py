"""Mastodon connector (any instance): Mastodon.py 2.3 on the instance's REST API.

Reads the account's ``mention`` notifications (``types[]=mention``, ``since_id``, newest first, older pages
followed through the ``Link`` header's ``max_id``); replies and posts with an ``Idempotency-Key`` (derived from
the target and the text unless given), so a retry after a timeout returns the status already created instead
of a duplicate (the instance keeps keys for about an hour); native scheduling with ``scheduled_at`` (the
instance refuses times less than 5 minutes ahead; the publisher then posts itself); deletes our own statuses
(and scheduled ones, ids ``scheduled:<id>``); blocks and mutes accounts (moderation extras, not part of the
contract; the moderation queue's ban and unban are block and unblock); reads a thread through the status
context and a status's edit history. After an uncertain write, our statuses are searched for the post
(``find_published``) or the reply (``find_reply``) that may have gone out (connectors/mastodon/lookups.py).

Edits: a mention arriving with ``edited_at`` set gets its edit history read, each edit returned as an ``edited``
:class:`PlatformChange`. Edits and deletions made after the sync are found by a bounded re-check of the statuses
taken in the last days (both in connectors/mastodon/sync.py).

The hot reads (a page of notifications, the statuses of the re-check, the lookups' walks) are plain JSON through
the connector's session, past Mastodon.py: casting each notification into its typed objects cost about 7 ms
(``bench sync``), ten times the rest of the path; their failures are raised as the Mastodon.py errors
(connectors/mastodon/errors.py), so one translation covers both paths.

Posts carry up to 4 images with their alt text (connectors/mastodon/publish.py; scope ``write:media``); replies
stay text-only. Exemptions: Mastodon has no way to hide someone else's reply, so ``HIDE``/``UNHIDE`` are absent.
Rate limits: the instance's ``X-RateLimit-Remaining``/``-Reset`` headers are honoured (a call is not even sent
while the window is used up) and a 429 raises ``RateLimited`` with the reset time.

The cursor is JSON: ``since_id`` (newest notification taken) and, while a walk is cut short by the page budget,
the walk's ``max_id`` and ``newest_id`` (``FetchResult.has_more``); ``history_due`` (edit histories still to
read), ``recent`` and ``multi_retry_at`` (the re-check's state); ``me``, ``roots_done`` and ``roots_due`` (the
city's statuses residents reply to, read once each as thread roots: connectors/mastodon/sync.py, decision 0285);
``roots_recent`` and ``roots_history_due`` (those roots re-checked for edits and deletion, decision 0305).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import requests
from mastodon import Mastodon
from mastodon.errors import MastodonError

from connectors.base import Capability, ConnectorInfo, FetchResult, Health, Rejected, secret_fingerprint
from connectors.http import ConnectorSession, with_read_retries
from connectors.mastodon import lookups, stream
from connectors.mastodon import normalize as nz
from connectors.mastodon.errors import raise_for_answer, remaining, reset_epoch, translate
from connectors.mastodon.publish import MAX_IMAGES, upload_images
from connectors.mastodon.sync import city_roots, edit_changes, recheck_pass, roots_recheck
from connectors.media import describe, load_images
from connectors.normalize import malformed_answer
from connectors.paging import Walk, link_cursor, load_state
from core.clock import Clock, utcnow
from core.config import Settings
from core.errors import ConnectorError, MalformedPayload, RateLimited, Unsupported
from core.models import Author, Mention, Platform, Published
from core.settings_schema import MastodonSettings

SETTINGS_KEYS = MastodonSettings.all_keys()
SCHEDULED = "scheduled:"
MAX_HISTORY_DUE = 200  # edited statuses whose history waits for the next fetch (rate limit, outage)


def idempotency_key(*parts: str) -> str:
    """A stable ``Idempotency-Key`` for one write (same target and text: same key)."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:40]


class MastodonConnector:
    """Mentions in; replies, (scheduled) posts, deletions and account moderation out, for one Mastodon account."""

    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        platform=Platform.MASTODON, name="Mastodon",
        capabilities=frozenset({Capability.REPLY, Capability.PUBLISH, Capability.DELETE,
                                Capability.NATIVE_SCHEDULE, Capability.BAN, Capability.UNBAN}),
        settings_keys=SETTINGS_KEYS)

    def __init__(self, *, base_url: str, access_token: str, name: str = "mastodon", page_size: int = 40,
                 max_pages: int = 10, visibility: str = "public", retries: int = 2, backoff: float = 1.0,
                 timeout: float = 20.0, sleep: Callable[[float], None] = time.sleep, clock: Clock = utcnow,
                 media_polls: int = 10, media_poll_interval: float = 1.0, max_history: int = 20,
                 recheck_days: float = 7.0, recheck_per_pass: int = 40,
                 recheck_interval: timedelta = timedelta(minutes=10), streaming_url: str | None = None,
                 root_lookups: int = 10) -> None:
        self.name = name
        self.root_lookups = max(0, root_lookups)  # the city's statuses read as thread roots, at most, a pass
        self.streaming_url = (streaming_url or base_url).rstrip("/")
        self.max_history = max(0, max_history)
        self.recheck_window, self.recheck_per_pass = timedelta(days=max(0.0, recheck_days)), max(0, recheck_per_pass)
        self.recheck_interval = recheck_interval
        self.media_polls, self.media_poll_interval = media_polls, media_poll_interval
        self.base_url = base_url.rstrip("/")
        self.page_size = max(1, min(80, page_size))  # the API caps notifications at 80 a page
        self.max_pages = max(1, max_pages)
        self.visibility = visibility
        self.retries, self.backoff, self._sleep, self._clock = retries, backoff, sleep, clock
        self._session = ConnectorSession(default_host=self.base_url, timeout=timeout)
        self.credential_fingerprint = secret_fingerprint(access_token)
        self._api = Mastodon(access_token=access_token, api_base_url=self.base_url, session=self._session,
                             ratelimit_method="throw", request_timeout=timeout, version_check_mode="none")
        self._limited_until: datetime | None = None

    def __repr__(self) -> str:
        return f"MastodonConnector(name={self.name!r}, base_url={self.base_url!r})"

    # ---- plumbing ----------------------------------------------------------------------------------

    def _call(self, endpoint: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        now = self._clock()
        if self._limited_until and self._limited_until > now:  # the window is used up: do not even ask
            raise RateLimited(f"{endpoint}: rate limit window used up", reset_at=self._limited_until.timestamp(),
                              endpoint=endpoint)
        self._session.last_headers = {}
        try:
            answer = fn(*args, **kwargs)
        except (MastodonError, requests.RequestException, ValueError) as err:
            translated = translate(err, endpoint, headers=self._session.last_headers, now=now)
            if isinstance(translated, RateLimited) and translated.reset_at:
                self._limited_until = datetime.fromtimestamp(translated.reset_at, UTC)
            raise translated from err
        headers = self._session.last_headers
        reset = reset_epoch(headers, now=now)
        if remaining(headers) == 0 and reset and reset > now.timestamp():
            self._limited_until = datetime.fromtimestamp(reset, UTC)
        else:
            self._limited_until = None
        return answer

    def _read(self, endpoint: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return with_read_retries(lambda: self._call(endpoint, fn, *args, **kwargs), retries=self.retries,
                                 backoff=self.backoff, sleep=self._sleep)

    def _get(self, path: str, params: dict[str, Any] | None) -> requests.Response:
        """One GET past Mastodon.py (see the module docstring), its status not checked yet."""
        return self._session.get(f"{self.base_url}{path}", params=params,
                                 headers={"Authorization": f"Bearer {self._api.access_token}"})

    def _json(self, path: str, params: dict[str, Any] | None = None, *, absent: Collection[int] = (404,)) -> Any:
        """The JSON answer of one GET, or None when the instance answers one of the ``absent`` statuses."""
        response = self._get(path, params)
        if response.status_code in absent:
            return None
        raise_for_answer(response)
        return response.json()

    def _listing(self, path: str, params: dict[str, Any]) -> tuple[Any, str | None]:
        """One page of a list as JSON, and the ``max_id`` of its ``Link: <…>; rel="next"`` (None on the last page)."""
        response = self._get(path, params)
        raise_for_answer(response)
        return response.json(), link_cursor(response.links, "max_id")

    # ---- reading -----------------------------------------------------------------------------------

    @staticmethod
    def _load(cursor: str | None) -> dict[str, Any]:
        return load_state(cursor, lambda old: {"since_id": old} if old.isdigit() else {})

    def fetch(self, cursor: str | None) -> FetchResult:
        """Mentions newer than ``cursor``, newest first across pages; see the module docstring for the cursor."""
        state = self._load(cursor)
        since, max_id, newest = state.get("since_id"), state.get("max_id"), state.get("newest_id")
        endpoint = "GET /api/v1/notifications"
        mentions: dict[str, Mention] = {}
        skipped: list[str] = []
        ignored: dict[str, int] = {}
        rejected: list[Rejected] = []
        # A rate limit after the first page keeps the pages already read; the cursor resumes after the reset.
        walk = Walk(lambda cursor: self._read(endpoint, self._notifications, since, cursor),
                    lambda answer: answer[1] if _ids(answer[0]) else None, cursor=max_id, max_pages=self.max_pages,
                    stop_on=(RateLimited,))
        for page, _next_max in walk:
            with malformed_answer(endpoint):
                found, bad = nz.mentions_from_notifications(page, account=self.name, ignored=ignored,
                                                            rejected=rejected)
            skipped.extend(bad)
            for mention in found:
                mentions.setdefault(mention.uid, mention)
            ids = _ids(page)
            if ids and walk.first:
                newest = max(ids, key=_id_key)  # first page of a walk: the newest notification of the whole walk
        roots = _threads(mentions, state.get("roots"))
        if walk.done:
            return self._result(mentions, skipped, {"v": 1, "since_id": newest or since, "roots": roots}, state,
                                ignored=ignored, rejected=rejected)
        return self._result(mentions, skipped, {"v": 1, "since_id": since, "max_id": walk.cursor,
                                                "newest_id": newest, "roots": roots}, state, has_more=True,
                            ignored=ignored, rejected=rejected)

    def _result(self, mentions: dict[str, Mention], skipped: list[str], new_state: dict[str, Any],
                state: dict[str, Any], *, has_more: bool = False,
                ignored: dict[str, int] | None = None, rejected: list[Rejected] | None = None) -> FetchResult:
        """The fetch's answer, with the edit history of the edited statuses among the mentions and, once a walk is
        complete, the re-check of recent statuses (edited or deleted since taken); the same for the city's
        statuses read as thread roots (``own_changes``, decision 0305)."""
        due = [str(i) for i in state.get("history_due") or () if isinstance(i, str | int)]
        edited = [m.platform_id for m in mentions.values() if m.raw.get("edited_at")]
        check = recheck_pass(state, new_state, mentions.values(), many=self._statuses, one=self._status,
                             now=self._clock(), window=self.recheck_window, per_pass=self.recheck_per_pass,
                             interval=self.recheck_interval, run=not has_more)
        rechecked = check.edited if check else []
        changes, left = edit_changes(self.history, list(dict.fromkeys([*due, *edited, *rechecked])),
                                     limit=self.max_history)
        if left:
            new_state["history_due"] = left[:MAX_HISTORY_DUE]
        read: dict[str, str] = {}
        roots = city_roots(state, new_state, mentions.values(), me=self._account_id, one=self._status,
                           limit=self.root_lookups, credentials=self.credential_fingerprint, read=read)
        window = self.recheck_window if self.recheck_per_pass else timedelta(0)  # the re-check off: roots' too
        roots_check = roots_recheck(state, new_state, mentions.values(), read, many=self._statuses,
                                    one=self._status, history=self.history, now=self._clock(), window=window,
                                    per_pass=self.root_lookups, interval=self.recheck_interval, run=not has_more)
        return FetchResult(mentions=list(mentions.values()), cursor=json.dumps(new_state, sort_keys=True),
                           skipped=skipped, changes=[*changes, *(check.deleted if check else ())],
                           has_more=has_more, ignored=ignored or {}, rejected=rejected or [],
                           own_posts=[*roots, *roots_check.posts], own_changes=roots_check.changes,
                           notes=roots_check.notes)

    # ---- streaming (connectors/mastodon/stream.py) ---------------------------------------------------

    def user_stream(self, *, read_timeout: float = stream.READ_TIMEOUT_S) -> stream.EventStream:
        """The user notification stream of the account (one connection; the worker reconnects)."""
        return stream.user_stream(self.streaming_url, str(self._api.access_token), read_timeout=read_timeout)

    def from_stream_notification(self, data: Any) -> FetchResult:
        """The mention a streamed ``notification`` event carries (other notification types: nothing)."""
        rejected: list[Rejected] = []
        try:
            mentions, skipped = nz.mentions_from_notifications([data], account=self.name, rejected=rejected)
        except nz.MalformedItem as err:
            return FetchResult(mentions=(), cursor=None, skipped=[f"mastodon stream: {err}"])
        return FetchResult(mentions=mentions, cursor=None, skipped=skipped, rejected=rejected)

    def _notifications(self, since: str | None, max_id: str | None) -> tuple[Any, str | None]:
        """One page of mention notifications as plain JSON, and the ``max_id`` of its ``Link: rel="next"``."""
        params: dict[str, Any] = {"types[]": list(nz.NOTIFICATION_TYPES), "limit": self.page_size}
        if since:
            params["since_id"] = since
        if max_id:
            params["max_id"] = max_id
        return self._listing("/api/v1/notifications", params)

    def _statuses(self, ids: list[str]) -> list[Any] | None:
        """Several statuses as plain JSON (``GET /api/v1/statuses?id[]=``, 4.3+); None where the instance lacks it."""
        endpoint = "GET /api/v1/statuses"
        answer = self._read(endpoint, self._json, "/api/v1/statuses", {"id[]": ids}, absent=(404, 405))
        if answer is not None and not isinstance(answer, list):
            raise MalformedPayload(f"{endpoint}: expected a list")
        return answer

    def _status(self, status_id: str) -> Any:
        """One status as plain JSON (``GET /api/v1/statuses/:id``); None when it is gone (404, 410)."""
        return self._read("GET /api/v1/statuses/:id", self._json, f"/api/v1/statuses/{quote(status_id, safe='')}",
                          absent=(404, 410))

    def thread(self, mention: Mention) -> list[Mention]:
        """The conversation around a mention (ancestors and descendants), oldest first."""
        endpoint = "GET /api/v1/statuses/:id/context"
        context = self._read(endpoint, self._api.status_context, mention.platform_id)
        with malformed_answer(endpoint):
            found, _ = nz.thread_from_context(context, account=self.name)
        return found

    def history(self, platform_id: str) -> list[dict[str, Any]]:
        """Every version of a status (``GET /api/v1/statuses/:id/history``), oldest first, JSON-safe."""
        answer = self._read("GET /api/v1/statuses/:id/history", self._api.status_history, platform_id)
        if not isinstance(answer, list) or not all(isinstance(edit, dict) for edit in answer):
            # Mastodon.py turns an object answered in place of the list into the list of its keys
            raise MalformedPayload("GET /api/v1/statuses/:id/history: expected a list of versions")
        return [nz.plain(edit) for edit in answer]

    def _account_id(self) -> str:
        if not getattr(self, "_me", None):
            answer = self._read("GET /api/v1/accounts/verify_credentials", self._api.account_verify_credentials)
            if not isinstance(answer, dict) or not answer.get("id"):
                raise MalformedPayload("GET /api/v1/accounts/verify_credentials: no account id")
            self._me = str(answer["id"])
        return self._me

    def find_published(self, text: str, since: datetime, *, max_pages: int = 3) -> Published | None:
        """Our status with exactly ``text`` created at or after ``since`` (for the publisher's reconciliation)."""
        return lookups.find_published(self, text, since, max_pages=max_pages)

    def find_reply(self, mention: Mention, text: str, since: datetime, *, max_pages: int = 3) -> Published | None:
        """Our reply to ``mention`` with ``text`` made since ``since`` (None: certainly absent; ``Unavailable``:
        cannot tell), for the reply outbox's reconciliation (connectors/mastodon/lookups.py)."""
        return lookups.find_reply(self, mention, text, since, max_pages=max_pages)

    # ---- writing -----------------------------------------------------------------------------------

    def _created(self, answer: Any, endpoint: str) -> Published:
        if not isinstance(answer, dict) or not answer.get("id"):
            raise MalformedPayload(f"{endpoint}: no id in the answer")
        if "params" in answer and "scheduled_at" in answer:  # a ScheduledStatus, not a Status
            return Published(platform_id=f"{SCHEDULED}{answer['id']}")
        return Published(platform_id=str(answer["id"]), permalink=answer.get("url") or answer.get("uri"))

    def reply(self, mention: Mention, text: str, *, idempotency_key_: str | None = None) -> Published:
        """Reply to the mention's status, mentioning its author (Mastodon addresses replies by handle)."""
        handle = mention.author.handle
        body = text if not handle or f"@{handle}" in text else f"@{handle} {text}"
        visibility = mention.raw.get("visibility") if mention.raw.get("visibility") == "direct" else None
        key = idempotency_key_ or idempotency_key("reply", self.name, mention.platform_id, text)
        endpoint = "POST /api/v1/statuses"
        answer = self._call(endpoint, self._api.status_post, body, in_reply_to_id=mention.platform_id,
                            visibility=visibility, idempotency_key=key)
        return self._created(answer, endpoint)

    def publish(self, text: str, *, scheduled_at: datetime | None = None, media: Sequence[dict[str, Any]] = (),
                idempotency_key_: str | None = None) -> Published:
        """Post now, or let the instance publish at ``scheduled_at`` (at least 5 minutes ahead), with images.

        Images (4 at most) are uploaded first with their alt text; the ``Idempotency-Key`` covers the text, the
        time and every image (file and alt text), so a retry re-uploads (the orphans are removed by the instance)
        but the instance answers the status already created instead of posting twice.
        """
        if scheduled_at is not None and scheduled_at.tzinfo is None:
            raise ValueError("scheduled_at must be timezone-aware")
        when = scheduled_at.astimezone(UTC).isoformat() if scheduled_at else ""
        key = idempotency_key_ or idempotency_key("post", self.name, text, when, *describe(media))
        media_ids = upload_images(self._call, self._api, load_images(media, platform="Mastodon",
                                                                     max_count=MAX_IMAGES),
                                  sleep=self._sleep, polls=self.media_polls,
                                  interval=self.media_poll_interval) if media else None
        endpoint = "POST /api/v1/statuses"
        answer = self._call(endpoint, self._api.status_post, text, visibility=self.visibility,
                            scheduled_at=scheduled_at, idempotency_key=key, media_ids=media_ids)
        return self._created(answer, endpoint)

    def delete(self, platform_id: str) -> None:
        """Delete one of our statuses, or cancel a natively scheduled one (``scheduled:<id>``)."""
        if platform_id.startswith(SCHEDULED):
            self._call("DELETE /api/v1/scheduled_statuses/:id", self._api.scheduled_status_delete,
                       platform_id.removeprefix(SCHEDULED))
            return
        self._call("DELETE /api/v1/statuses/:id", self._api.status_delete, platform_id)

    def hide(self, mention: Mention) -> None:
        """Mastodon cannot hide someone else's reply (block or mute the account instead)."""
        raise Unsupported("Mastodon has no way to hide a reply: block or mute the account instead")

    def unhide(self, mention: Mention) -> None:
        """See :meth:`hide`."""
        raise Unsupported("Mastodon has no way to hide a reply")

    def block(self, account_id: str) -> None:
        """Block an account (it can no longer mention or follow the city's account)."""
        self._call("POST /api/v1/accounts/:id/block", self._api.account_block, account_id)

    def unblock(self, account_id: str) -> None:
        """Lift a block (the instance answers the relationship; unblocking twice is harmless)."""
        self._call("POST /api/v1/accounts/:id/unblock", self._api.account_unblock, account_id)

    def ban(self, author: Author) -> None:
        """The moderation queue's ban: block the author's account."""
        self.block(author.platform_id)

    def unban(self, author: Author) -> None:
        """Lift :meth:`ban` (unblock the account)."""
        self.unblock(author.platform_id)

    def mute(self, account_id: str, *, duration_s: int | None = None) -> None:
        """Mute an account (its posts and notifications are hidden from the city's account)."""
        self._call("POST /api/v1/accounts/:id/mute", self._api.account_mute, account_id, duration=duration_s)

    # ---- health ------------------------------------------------------------------------------------

    def rate_limited_until(self) -> datetime | None:
        """When the instance's rate-limit window reopens, if it is used up now."""
        until = self._limited_until
        return until if until and until > self._clock() else None

    def health(self) -> Health:
        """Verify the token (``GET /api/v1/accounts/verify_credentials``); never raises."""
        try:
            answer = self._call("GET /api/v1/accounts/verify_credentials", self._api.account_verify_credentials)
        except RateLimited:
            return Health(ok=True, account=self.base_url, detail="rate limited",
                          rate_limited_until=self.rate_limited_until())
        except ConnectorError as err:
            return Health(ok=False, account=self.base_url, detail=f"{err.code}: {err}",
                          rate_limited_until=self.rate_limited_until())
        acct = answer.get("acct") if isinstance(answer, dict) else None
        if not acct:
            return Health(ok=False, account=self.base_url, detail="no account behind this token")
        host = self.base_url.split("://", 1)[-1]
        left = remaining(self._session.last_headers)
        detail = f"instance {host}" + (f"; {left} calls left in the window" if left is not None else "")
        return Health(ok=True, account=f"@{acct}@{host}", detail=detail,
                      rate_limited_until=self.rate_limited_until())


MAX_ROOTS = 500  # statuses whose thread root the cursor remembers (the newest kept)


def _threads(mentions: dict[str, Mention], known: Any) -> dict[str, str]:
    """Give each mention its thread's root as ``conversation_id`` (Mastodon's REST statuses carry no conversation
    id): a reply joins the thread of the status it answers when that status was taken before (``known``: status
    id → root, kept in the cursor), else its parent's; returns the updated map, bounded to :data:`MAX_ROOTS`."""
    roots = {str(k): str(v) for k, v in known.items()} if isinstance(known, dict) else {}
    for uid, mention in sorted(mentions.items(), key=lambda kv: kv[1].created_at):
        root = roots.get(mention.in_reply_to or "", mention.conversation_id or mention.platform_id)
        if root != mention.conversation_id:
            mentions[uid] = replace(mention, conversation_id=root)
        roots[mention.platform_id] = root
    return dict(sorted(roots.items(), key=lambda kv: _id_key(kv[0]))[-MAX_ROOTS:])


def _ids(page: Any) -> list[str]:
    """The ids of a page of notifications (none when the page is not a list)."""
    return [str(n["id"]) for n in page if isinstance(n, dict) and n.get("id")] if isinstance(page, list) else []


def _id_key(value: str) -> tuple[int, str]:
    return (len(value), value)  # ids are numeric strings (snowflakes): longer is newer, then lexical


def from_settings(source: Settings | Callable[[str], Any], *, name: str = "mastodon") -> MastodonConnector:
    """Build from settings (or a ``get(key)`` of raw values)."""
    settings = Settings.coerce(source)
    m = settings.mastodon
    return MastodonConnector(base_url=str(m.base_url), access_token=str(m.access_token), name=name,
                             recheck_days=m.recheck_days, recheck_per_pass=m.recheck_per_pass,
                             streaming_url=m.streaming_url, **settings.transport.connector_kwargs())

