"""Bluesky connector: the ``atproto`` SDK (0.0.73) on the account's PDS, with an app password.

Reads ``mention``, ``reply`` and ``quote`` notifications (``app.bsky.notification.listNotifications``, newest
first, older pages through its ``cursor``); replies and posts with link and mention facets
(``com.atproto.repo.createRecord``); deletes our own posts; hides replies under the city's own posts through the
thread gate (``app.bsky.feed.threadgate`` ``hiddenReplies``, hide and unhide); bans (blocks) an author and lifts
the block (connectors/bluesky/blocks.py); after an uncertain reply, looks for it in the city's repository
(``find_reply``, connectors/bluesky/lookups.py). Calls go through the SDK's raw
XRPC methods so that one malformed notification is skipped instead of failing the page's model.

Sessions: the SDK's session string is written to ``session_path`` (under the data directory, mode 0600) on
every sign-in and refresh, and reused at start, so the account's sign-in limits (30 per 5 minutes, 300 per day)
are never reached by restarts. Write points (create 3, update 2, delete 1; 5,000 an hour, 35,000 a day) are
counted and a write that would pass them raises ``RateLimited`` before it is sent.

Images: a post carries up to 4 images, each uploaded with ``com.atproto.repo.uploadBlob`` and embedded with its
alt text (``app.bsky.embed.images``, connectors/bluesky/publish.py); the lexicon caps a blob at 2,000,000 bytes (the
prose docs still say 1 MB), a heavier file is refused before anything is sent. Replies stay text-only.
Exemptions: no native scheduling (the publisher posts at the time).
The cursor is JSON: ``since`` (the newest ``indexedAt`` taken) and, while a walk is cut short by the page
budget, the walk's ``cursor`` and ``newest`` (``FetchResult.has_more``); ``known``: the AT URIs of the posts
already read (mentions, thread context), the newest 500.

Thread context (decision 0260): a reply whose parent Parvis has not read gets its ancestors, root first, from
``app.bsky.feed.getPostThread`` (``depth=0``, ``parentHeight`` bounded) in ``raw["context"]`` (posts, deleted
``notFoundPost`` and ``blockedPost`` entries); one lookup per thread and pass, at most ``thread_lookups`` a pass,
none for a post whose parent is known; a rate limit or an unavailable AppView stops the lookups of the pass,
never the sync.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx
from atproto_client import Client
from atproto_client.client.session import SessionEvent
from atproto_client.exceptions import AtProtocolError
from atproto_client.models.dot_dict import DotDict
from atproto_client.request import Request

from connectors.base import Capability, ConnectorInfo, FetchResult, Health, Rejected, secret_fingerprint
from connectors.bluesky import blocks, lookups, publish
from connectors.bluesky import normalize as nz
from connectors.bluesky.errors import translate
from connectors.http import with_read_retries
from connectors.media import Image
from connectors.normalize import malformed_answer
from connectors.paging import Walk, load_state
from core.clock import Clock, utcnow
from core.config import Settings
from core.errors import (
    AuthFailed,
    ConnectorError,
    MalformedPayload,
    PermanentFailure,
    RateLimited,
    Unavailable,
    Unsupported,
)
from core.models import Author, Mention, Platform, Published
from core.settings_schema import BlueskySettings

DEFAULT_BASE = "https://bsky.social"
SETTINGS_KEYS = BlueskySettings.all_keys()
POINTS = {"create": 3, "update": 2, "delete": 1}
LIMITS = ((timedelta(hours=1), 5000), (timedelta(days=1), 35000))
POST, GATE = "app.bsky.feed.post", "app.bsky.feed.threadgate"
MAX_KNOWN = 500  # AT URIs of posts already read that the cursor remembers (the newest kept)
log = logging.getLogger(__name__)


class BlueskyConnector:
    """Mentions, replies and quotes in; replies, posts, deletions and hidden replies out, for one account."""

    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        platform=Platform.BLUESKY, name="Bluesky",
        capabilities=frozenset({Capability.REPLY, Capability.PUBLISH, Capability.HIDE, Capability.UNHIDE,
                                Capability.DELETE, Capability.BAN, Capability.UNBAN}),
        settings_keys=SETTINGS_KEYS)

    def __init__(self, *, handle: str, app_password: str, base_url: str | None = None, name: str = "bluesky",
                 session_path: Path | None = None, page_size: int = 50, max_pages: int = 10, lang: str = "fr",
                 retries: int = 2, backoff: float = 1.0, timeout: float = 20.0, thread_lookups: int = 10,
                 parent_height: int = 10,
                 sleep: Callable[[float], None] = time.sleep, clock: Clock = utcnow) -> None:
        if logging.getLogger("httpx").level in (logging.NOTSET, logging.DEBUG, logging.INFO):
            logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
        self.name, self.handle, self.lang = name, handle.lstrip("@"), lang
        self._password = app_password
        self.base_url = (base_url or DEFAULT_BASE).rstrip("/")
        self.session_path = session_path
        self.page_size, self.max_pages = max(1, min(100, page_size)), max(1, max_pages)
        self.thread_lookups, self.parent_height = max(0, thread_lookups), max(1, min(1000, parent_height))
        self.retries, self.backoff, self._sleep, self._clock = retries, backoff, sleep, clock
        self.credential_fingerprint = secret_fingerprint(self.handle, app_password)
        self._client = Client(self.base_url, request=Request(timeout=httpx.Timeout(timeout)))
        self._client.on_session_change(self._session_changed)
        self.did: str | None = None
        self._writes: deque[tuple[datetime, int]] = deque()
        self._limited_until: datetime | None = None

    def __repr__(self) -> str:
        return f"BlueskyConnector(name={self.name!r}, handle={self.handle!r})"

    # ---- session -----------------------------------------------------------------------------------

    def _session_changed(self, event: SessionEvent, session: Any) -> None:
        self.did = session.did
        if self.session_path is None or event is SessionEvent.IMPORT:
            return
        self.session_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.session_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(self._client.export_session_string())
        tmp.replace(self.session_path)

    def _forget_session(self) -> None:
        """Drop a refused session so that the next call signs in with the app password."""
        self.did = None
        if self.session_path is not None:
            self.session_path.unlink(missing_ok=True)

    def _login(self) -> None:
        """Reuse the stored session when there is one; sign in with the app password otherwise."""
        if self.did:
            return
        stored = self.session_path.read_text(encoding="utf-8").strip() if self.session_path and \
            self.session_path.is_file() else ""
        if stored:
            try:
                self._client.login(session_string=stored, fetch_bsky_profile=False)
                return
            except (AtProtocolError, ValueError):
                self.did = None  # expired or revoked: sign in again below
        try:
            self._client.login(self.handle, self._password, fetch_bsky_profile=False)
        except (AtProtocolError, ValueError, httpx.HTTPError) as err:
            raise translate(err, "com.atproto.server.createSession", now=self._clock()) from err

    def _call(self, endpoint: str, fn: Callable[[], Any]) -> Any:
        now = self._clock()
        if self._limited_until and self._limited_until > now:
            raise RateLimited(f"{endpoint}: rate limited", reset_at=self._limited_until.timestamp(),
                              endpoint=endpoint)
        self._login()
        try:
            response = fn()
        except (AtProtocolError, ValueError, httpx.HTTPError) as err:
            translated = translate(err, endpoint, now=now)
            if isinstance(translated, RateLimited) and translated.reset_at:
                self._limited_until = datetime.fromtimestamp(translated.reset_at, UTC)
            if isinstance(translated, AuthFailed):
                self._forget_session()
                # The session was refused, not the app password: the next call signs in with it, so this is no
                # « reconnexion nécessaire » (services/connections/ingest.py reads the mark).
                translated.session_only = True  # type: ignore[attr-defined]
            raise translated from err
        content = response.content
        if not isinstance(content, dict):
            raise MalformedPayload(f"{endpoint}: expected a JSON object")
        return content

    def _query(self, nsid: str, **params: Any) -> dict[str, Any]:
        call = lambda: self._call(nsid, lambda: self._client.invoke_query(  # noqa: E731
            nsid, params=DotDict({k: v for k, v in params.items() if v is not None})))
        return with_read_retries(call, retries=self.retries, backoff=self.backoff, sleep=self._sleep)

    def _procedure(self, nsid: str, data: dict[str, Any], *, points: int = 0) -> dict[str, Any]:
        if points:
            self._spend(points, nsid)
        return self._call(nsid, lambda: self._client.invoke_procedure(nsid, data=DotDict(data),
                                                                      input_encoding="application/json"))

    def _spend(self, points: int, endpoint: str) -> None:
        """Count write points; refuse a write that would pass the hourly or daily budget."""
        now = self._clock()
        while self._writes and self._writes[0][0] <= now - LIMITS[-1][0]:
            self._writes.popleft()
        for window, budget in LIMITS:
            used = sum(p for at, p in self._writes if at > now - window)
            if used + points > budget:
                oldest = next(at for at, _ in self._writes if at > now - window)
                raise RateLimited(f"{endpoint}: write points used up ({used}/{budget})",
                                  reset_at=(oldest + window).timestamp(), endpoint=endpoint)
        self._writes.append((now, points))

    # ---- reading -----------------------------------------------------------------------------------

    def fetch(self, cursor: str | None) -> FetchResult:
        """Mentions, replies and quotes newer than ``cursor`` (see the module docstring)."""
        state = load_state(cursor)
        since, newest = state.get("since"), state.get("newest")
        nsid = "app.bsky.notification.listNotifications"
        mentions: dict[str, Mention] = {}
        skipped: list[str] = []
        rejected: list[Rejected] = []
        walk = Walk(lambda cursor: self._query(nsid, limit=self.page_size, cursor=cursor),
                    lambda page: page.get("cursor"), cursor=state.get("cursor"), max_pages=self.max_pages)
        complete = True
        for page in walk:
            with malformed_answer(nsid):
                found, bad = nz.mentions_from_page(page, account=self.name, exclude_did=self.did or "",
                                                   rejected=rejected)
            times = [n["indexedAt"] for n in page["notifications"]
                     if isinstance(n, dict) and isinstance(n.get("indexedAt"), str)]
            if times and walk.first:
                newest = max(times)  # first page of a walk: the newest notification of the whole walk
            fresh = {n["uri"] for n in page["notifications"] if isinstance(n, dict) and
                     (since is None or str(n.get("indexedAt", "")) > since)}
            for mention in found:
                if mention.platform_id in fresh:
                    mentions.setdefault(mention.uid, mention)
            skipped.extend(bad)
            if not times or (since is not None and min(times) <= since):
                break  # back to notifications already taken
        else:
            complete = walk.done
        out: dict[str, Any] = {"v": 1, "since": newest or since} if complete else {
            "v": 1, "since": since, "cursor": walk.cursor, "newest": newest}
        known = [u for u in state.get("known") or () if isinstance(u, str)]
        mentions, known, notes = self._with_context(mentions, known)
        if known:
            out["known"] = known
        return FetchResult(mentions=list(mentions.values()), cursor=json.dumps(out, sort_keys=True),
                           skipped=skipped, has_more=not complete, rejected=rejected, notes=notes)

    def _with_context(self, mentions: dict[str, Mention], known: list[str]
                      ) -> tuple[dict[str, Mention], list[str], list[str]]:
        """Each reply whose parent is unknown, with its thread's ancestors in ``raw["context"]`` (module
        docstring, decision 0260); returns the mentions, the new ``known`` URIs and notes."""
        nsid = "app.bsky.feed.getPostThread"
        have = {*known, *(m.platform_id for m in mentions.values())}
        out, roots, notes, calls = dict(mentions), set(), [], 0
        for uid, mention in sorted(mentions.items(), key=lambda kv: kv[1].created_at, reverse=True):
            parent = mention.in_reply_to
            root = mention.conversation_id or parent
            if not parent or parent in have or root in roots:
                continue  # not a reply, its parent already read, or its thread already looked up this pass
            if calls >= self.thread_lookups:
                notes.append(f"thread context: {self.thread_lookups} lookups a pass, the others left without it")
                break
            roots.add(root)
            calls += 1
            try:
                answer = self._query(nsid, uri=mention.platform_id, depth=0, parentHeight=self.parent_height)
                context = nz.thread_context(answer, own_did=self.did or "")
            except (RateLimited, Unavailable) as err:
                notes.append(f"thread context not read this pass ({err.code}: {err})")
                break  # the sync itself goes on; the limit is shared with the notifications
            except (PermanentFailure, MalformedPayload, nz.MalformedItem) as err:
                log.info("bluesky: no thread context for %s: %s", mention.platform_id, err)
                continue
            out[uid] = replace(mention, raw={**mention.raw, "context": context})
            have |= {entry["uri"] for entry in context}
        fresh = [u for u in dict.fromkeys([*known, *have]) if u not in known]
        return out, [*known, *sorted(fresh)][-MAX_KNOWN:], notes

    # ---- writing -----------------------------------------------------------------------------------

    def _resolve(self, handle: str) -> str | None:
        try:
            return str(self._query("com.atproto.identity.resolveHandle", handle=handle).get("did") or "") or None
        except PermanentFailure:
            return None  # an unknown handle stays plain text

    def _images(self, media: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """Check every image, upload them, return the images embed (connectors/bluesky/publish.py)."""
        images = publish.check_images(media)  # every file is checked before anything is sent

        def upload(image: Image) -> dict[str, Any]:  # raw bytes go as ``content`` (httpx deprecates bytes ``data``)
            return self._call(publish.UPLOAD, lambda: self._client.invoke_procedure(
                publish.UPLOAD, content=image.data, input_encoding=image.mime, output_encoding="application/json"))

        return publish.images_embed(images, upload)

    def _post(self, text: str, reply: dict[str, Any] | None = None, media: Sequence[dict[str, Any]] = ()) -> Published:
        self._login()
        record: dict[str, Any] = {"$type": POST, "text": text, "createdAt": _at_time(self._clock()),
                                  "langs": [self.lang]}
        found = nz.facets(text, self._resolve)
        if found:
            record["facets"] = found
        if reply:
            record["reply"] = reply
        if media:
            record["embed"] = self._images(media)
        answer = self._procedure("com.atproto.repo.createRecord",
                                 {"repo": self.did, "collection": POST, "record": record}, points=POINTS["create"])
        if not isinstance(answer.get("uri"), str):
            raise MalformedPayload("com.atproto.repo.createRecord: no uri in the answer")
        return Published(platform_id=answer["uri"], permalink=nz.permalink(answer["uri"], self.handle))

    def reply(self, mention: Mention, text: str) -> Published:
        """Reply to the mention's post, in its thread (root and parent references)."""
        parent = {"uri": lookups.parent_uri(mention), "cid": mention.raw.get("cid")}
        if not parent["cid"]:
            raise PermanentFailure("cannot reply: the mention has no cid (re-sync it)")
        return self._post(text, {"root": mention.raw.get("root") or parent, "parent": parent})

    def find_reply(self, mention: Mention, text: str, since: datetime, *, max_pages: int = 3) -> Published | None:
        """Our reply to ``mention`` with ``text`` made since ``since`` (None: certainly absent; ``Unavailable``:
        cannot tell), read from the city's repository (connectors/bluesky/lookups.py)."""
        self._login()
        return lookups.find_reply(self._query, str(self.did), self.handle, mention, text, since,
                                  max_pages=max_pages)

    def publish(self, text: str, *, scheduled_at: datetime | None = None,
                media: Sequence[dict[str, Any]] = ()) -> Published:
        """Post now, with up to 4 images and their alt text (no native scheduling: the publisher posts at the time)."""
        if scheduled_at is not None:
            raise Unsupported("Bluesky has no native scheduling: the publishing worker posts at the scheduled time")
        return self._post(text, media=media)

    def delete(self, platform_id: str) -> None:
        """Delete one of our posts (``at://`` URI)."""
        did, collection, rkey = nz.split_uri(platform_id)
        self._login()
        if did != self.did:
            raise PermanentFailure("only the city's own posts can be deleted on Bluesky")
        self._procedure("com.atproto.repo.deleteRecord", {"repo": did, "collection": collection, "rkey": rkey},
                        points=POINTS["delete"])

    def _set_hidden(self, mention: Mention, hidden: bool) -> None:
        root = (mention.raw.get("root") or {}).get("uri") or mention.conversation_id or ""
        self._login()
        did, _, rkey = nz.split_uri(root)
        if did != self.did or root == mention.platform_id:
            raise PermanentFailure("Bluesky only lets the city hide replies under its own posts")
        try:
            gate = self._query("com.atproto.repo.getRecord", repo=did, collection=GATE, rkey=rkey).get("value")
        except PermanentFailure:
            gate = None  # no thread gate yet
        record = dict(gate) if isinstance(gate, dict) else {"$type": GATE, "post": root,
                                                            "createdAt": _at_time(self._clock())}
        hidden_uris = [u for u in record.get("hiddenReplies") or [] if u != mention.platform_id]
        if hidden:
            hidden_uris.append(mention.platform_id)
        record["hiddenReplies"] = hidden_uris[-300:]  # the lexicon allows 300
        self._procedure("com.atproto.repo.putRecord", {"repo": did, "collection": GATE, "rkey": rkey,
                                                       "record": record},
                        points=POINTS["update"] if gate else POINTS["create"])

    def hide(self, mention: Mention) -> None:
        """Hide a reply under one of the city's posts (thread gate ``hiddenReplies``)."""
        self._set_hidden(mention, True)

    def unhide(self, mention: Mention) -> None:
        """Take a reply out of the thread gate's ``hiddenReplies``."""
        self._set_hidden(mention, False)

    def ban(self, author: Author) -> None:
        """Block the author (an ``app.bsky.graph.block`` record; nothing new if already blocked)."""
        did = blocks.subject(author)
        self._login()
        if blocks.find(self._query, str(self.did), did) is not None:
            return
        record = blocks.block_record(did, _at_time(self._clock()))
        self._procedure("com.atproto.repo.createRecord", {"repo": self.did, "collection": blocks.BLOCK,
                                                          "record": record}, points=POINTS["create"])

    def unban(self, author: Author) -> None:
        """Delete the city's block of the author (nothing to do if there is none)."""
        did = blocks.subject(author)
        self._login()
        uri = blocks.find(self._query, str(self.did), did)
        if uri is None:
            return
        with malformed_answer("com.atproto.repo.listRecords"):
            _, collection, rkey = nz.split_uri(uri)
        self._procedure("com.atproto.repo.deleteRecord", {"repo": self.did, "collection": collection,
                                                          "rkey": rkey}, points=POINTS["delete"])

    # ---- health ------------------------------------------------------------------------------------

    def health(self) -> Health:
        """Sign in (or reuse the session) and read the profile; never raises."""
        until = self._limited_until if self._limited_until and self._limited_until > self._clock() else None
        try:
            profile = self._query("app.bsky.actor.getProfile", actor=self.did or self.handle)
        except RateLimited:
            return Health(ok=True, account=f"@{self.handle}", detail="rate limited", rate_limited_until=until)
        except ConnectorError as err:
            return Health(ok=False, account=f"@{self.handle}", detail=f"{err.code}: {err}", rate_limited_until=until)
        return Health(ok=True, account=f"@{profile.get('handle') or self.handle}",
                      detail=f"PDS {self.base_url}", rate_limited_until=until)


def _at_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def from_settings(source: Settings | Callable[[str], Any], *, data_dir: Path | None = None,
                  name: str = "bluesky") -> BlueskyConnector:
    """Build from settings (or a ``get(key)`` of raw values); the session string is kept in
    ``<data_dir>/bluesky-<name>.session``."""
    settings = Settings.coerce(source)
    b = settings.bluesky
    return BlueskyConnector(handle=str(b.handle), app_password=str(b.app_password), base_url=b.base_url, name=name,
                            session_path=(data_dir / f"bluesky-{name}.session") if data_dir else None,
                            **settings.transport.connector_kwargs())
