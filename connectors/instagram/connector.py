"""Instagram connector (professional account linked to a Facebook Page): the Graph API through the Facebook
connector's transport (pyfacebook ``GraphAPI``, ``ConnectorSession`` with the token in a header, Graph error
codes translated by connectors.facebook.errors).

Reads the comments and replies on the account's recent media (``/{ig-user-id}/media`` then
``/{ig-media-id}/comments`` with ``replies`` embedded) and the other accounts' media where the account is tagged
(``/{ig-user-id}/tags``, kind ``tag``; see connectors/instagram/mentions.py); replies to a **top-level** comment
(``POST /{ig-comment-id}/replies``), hides/unhides (``POST /{ig-comment-id}?hide=``) and deletes comments.
Instagram's rules are checked on the live comment before replying: no reply to a reply, no reply to a hidden
comment (``PermanentFailure`` with a clear message, nothing sent).

Publishing (connectors/instagram/publish.py): an image post or a carousel with alt text; Instagram fetches the
images from ``PARVIS_MEDIA_BASE_URL`` (the public address of ``<data dir>/media/``) and refuses text-only posts
(``ConnectorInfo.publish_needs_image``). Exemptions: no native scheduling (``NATIVE_SCHEDULE`` absent; the
publisher posts at the time); a tag cannot be answered, hidden or deleted through the API (``Unsupported``: the
Instagram app does it). @mentions in other accounts' captions and comments have no list endpoint: Meta pushes
them by webhook only, and :meth:`InstagramConnector.mentions_from_webhook` reads what such a payload points to
(``python -m console instagram-mention``); they are answered through ``POST /{ig-user-id}/mentions``.

The cursor is JSON: ``seen`` maps each comment of the lookback window to ``[fingerprint, hidden, created]`` (edits
and hide/unhide done on Instagram come back as revisions/changes); a comment not in ``seen`` is new. ``tags`` maps
each tagged media already read to its time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from connectors.base import Capability, ConnectorInfo, FetchResult, Health, PlatformChange
from connectors.facebook.connector import DEFAULT_VERSION, FacebookConnector
from connectors.facebook.normalize import next_after
from connectors.http import with_read_retries
from connectors.instagram import mentions as igm, normalize as nz
from connectors.instagram.publish import InstagramPublisher
from core.clock import Clock, utcnow
from core.config import Settings
from core.errors import ConnectorError, MalformedPayload, PermanentFailure, RateLimited, Unsupported
from core.models import Mention, Platform, Published
from core.settings_schema import GraphSettings, InstagramSettings, MediaSettings

SETTINGS_KEYS = InstagramSettings.all_keys() + GraphSettings.all_keys() + MediaSettings.all_keys()
MAX_SEEN = 5000


class InstagramConnector:
    """Comments and replies on the account's media in; replies, hide/unhide and deletions out."""

    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        platform=Platform.INSTAGRAM, name="Instagram (professionnel)",
        capabilities=frozenset({Capability.REPLY, Capability.PUBLISH, Capability.HIDE, Capability.UNHIDE,
                                Capability.DELETE}),
        settings_keys=SETTINGS_KEYS, publish_needs_image=True)

    def __init__(self, *, ig_user_id: str, access_token: str, version: str = DEFAULT_VERSION,
                 base_url: str | None = None, name: str = "instagram", lookback_days: float = 7.0,
                 media_limit: int = 25, max_pages: int = 10, retries: int = 2, backoff: float = 1.0,
                 timeout: float = 20.0, sleep: Callable[[float], None] = time.sleep, clock: Clock = utcnow,
                 media_base_url: str | None = None, container_polls: int = 10,
                 container_poll_interval: float = 3.0) -> None:
        self.name, self.ig_user_id = name, str(ig_user_id)
        self.lookback, self.media_limit = timedelta(days=lookback_days), media_limit
        self.max_pages = max(1, max_pages)
        self._clock = clock
        # The Facebook connector's Graph plumbing (session, error hook, retries), pointed at the IG user.
        self._graph = FacebookConnector(page_id=self.ig_user_id, page_token=access_token, version=version,
                                        base_url=base_url, name=name, retries=retries, backoff=backoff,
                                        timeout=timeout, sleep=sleep, clock=clock)
        self.username, self.tags_note = "", ""
        self._publisher = InstagramPublisher(self._graph, self.ig_user_id, media_base_url=media_base_url,
                                             sleep=sleep, clock=clock, polls=container_polls,
                                             interval=container_poll_interval)

    def __repr__(self) -> str:
        return f"InstagramConnector(name={self.name!r}, ig_user_id={self.ig_user_id!r})"

    # ---- reading -----------------------------------------------------------------------------------

    def _pages(self, object_id: str, edge: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        after = None
        for _ in range(self.max_pages):
            params = {**params, **({"after": after} if after else {})}
            page = self._graph._get(object_id, edge, params)  # noqa: SLF001
            yield page
            after = next_after(page)
            if not after:
                return

    @staticmethod
    def _load(cursor: str | None, key: str = "seen") -> dict[str, Any]:
        try:
            state = json.loads(cursor) if cursor else {}
        except ValueError:
            return {}
        seen = state.get(key) if isinstance(state, dict) else None
        return seen if isinstance(seen, dict) else {}

    def fetch(self, cursor: str | None) -> FetchResult:
        """New, edited, hidden or unhidden comments on the media of the lookback window, and new photo tags."""
        seen = self._load(cursor)
        window_start = int((self._clock() - self.lookback).timestamp())
        mentions: dict[str, Mention] = {}
        changes: list[PlatformChange] = []
        skipped: list[str] = []
        for page in self._pages(self.ig_user_id, "media", {"fields": nz.MEDIA_FIELDS, "limit": self.media_limit}):
            items = page.get("data")
            if not isinstance(items, list):
                raise MalformedPayload("instagram media: 'data' is not a list")
            oldest = None
            for media in items:
                if not isinstance(media, Mapping) or not isinstance(media.get("id"), str):
                    skipped.append("instagram: media without id")
                    continue
                try:
                    oldest = int(nz.parse_time(media.get("timestamp")).timestamp())
                except nz.MalformedItem:
                    oldest = oldest or window_start
                if media.get("comments_count") == 0:
                    continue
                self._comments(media, seen, mentions, changes, skipped)
            if oldest is None or oldest < window_start:
                break
        tags = self._load(cursor, "tags")
        self.tags_note = ""
        try:
            tags = igm.read_tags(self, tags, window_start, mentions, skipped)
        except PermanentFailure as err:  # e.g. a permission missing: the comments still sync
            self.tags_note = f"photo tags not read ({err.code}: {err}); comments are synced"
        kept = sorted(((k, v) for k, v in seen.items() if isinstance(v, list) and len(v) == 3 and
                       v[2] >= window_start - 30 * 86400), key=lambda kv: kv[1][2])[-MAX_SEEN:]
        return FetchResult(mentions=list(mentions.values()), skipped=skipped, changes=changes,
                           cursor=json.dumps({"v": 1, "seen": dict(kept), "tags": tags}),
                           notes=(self.tags_note,) if self.tags_note else ())

    def mentions_from_webhook(self, payload: Any) -> FetchResult:
        """The @mentions a ``mentions`` webhook payload points to, read from the Graph API (no cursor)."""
        found: dict[str, Mention] = {}
        skipped: list[str] = []
        for item in igm.webhook_mentions(payload, self.ig_user_id):
            if isinstance(item, str):
                skipped.append(f"instagram webhook: {item}")
                continue
            try:
                mention = igm.fetch_mentioned(self, *item)
            except (nz.MalformedItem, PermanentFailure) as err:  # deleted since, comments disabled, malformed
                skipped.append(f"instagram @mention {item[0] or item[1]}: {err}")
                continue
            found[mention.uid] = mention
        return FetchResult(mentions=list(found.values()), cursor=None, skipped=skipped)

    def _comments(self, media: Mapping[str, Any], seen: dict[str, list[Any]], mentions: dict[str, Mention],
                  changes: list[PlatformChange], skipped: list[str]) -> None:
        for page in self._pages(media["id"], "comments", {"fields": nz.COMMENT_FIELDS, "limit": 50}):
            try:
                items = nz.flatten(page.get("data"), f"comments of {media['id']}")
            except nz.MalformedItem as err:
                raise MalformedPayload(f"instagram {err}") from err
            for item in items:
                try:
                    mention = nz.comment_to_mention(item, media=media, account=self.name)
                except nz.MalformedItem as err:
                    skipped.append(f"instagram: {err}")
                    continue
                if mention.author.platform_id == self.ig_user_id or (
                        self.username and mention.author.handle == self.username):
                    continue  # the account's own replies
                fp, hidden = nz.fingerprint(item), int(bool(item.get("hidden")))
                old = seen.get(mention.platform_id)
                if old is None or old[0] != fp:
                    mentions[mention.uid] = mention  # new, or its text was edited
                if (old is None and hidden) or (old is not None and old[1] != hidden):
                    changes.append(PlatformChange(uid=mention.uid, change="hidden" if hidden else "unhidden"))
                seen[mention.platform_id] = [fp, hidden, int(mention.created_at.timestamp())]

    def _object(self, object_id: str, fields: str) -> dict[str, Any]:
        graph = self._graph
        return with_read_retries(lambda: graph._call("GET /{id}", graph._api.get_object, object_id,  # noqa: SLF001
                                                     fields=fields),
                                 retries=graph.retries, backoff=graph.backoff, sleep=graph._sleep)  # noqa: SLF001

    # ---- writing -----------------------------------------------------------------------------------

    def reply(self, mention: Mention, text: str) -> Published:
        """Reply to a top-level comment or an @mention; refuses replies to replies, to hidden comments, to tags."""
        if mention.kind in ("tag", "mention"):
            return igm.reply(self, mention, text)
        try:
            live = self._object(mention.platform_id, "id,hidden,parent_id")
        except PermanentFailure:
            live = dict(mention.raw)  # the lookup is refused (e.g. older API versions): use what the sync saw
        if live.get("parent_id") or mention.kind == "reply":
            raise PermanentFailure("Instagram only allows replies to top-level comments: answer the comment this "
                                   "reply belongs to")
        if live.get("hidden"):
            raise PermanentFailure("Instagram does not allow replying to a hidden comment: unhide it first")
        answer = self._graph._write("POST /{id}/replies", mention.platform_id, "replies",  # noqa: SLF001
                                    {"message": text})
        if not answer.get("id"):
            raise MalformedPayload("POST /{id}/replies: no id in the answer")
        return Published(platform_id=str(answer["id"]), permalink=mention.permalink)

    def publish(self, text: str, *, scheduled_at: datetime | None = None,
                media: Sequence[dict[str, Any]] = ()) -> Published:
        """Publish an image post (or a carousel) with its alt text; see connectors/instagram/publish.py."""
        if scheduled_at is not None:
            raise Unsupported("Instagram has no native scheduling here: the publishing worker posts at the time")
        return self._publisher.publish(text, media)

    def find_published(self, text: str, since: datetime) -> Published | None:
        """Our post whose caption is exactly ``text``, published since ``since`` (the publisher's lookup)."""
        return self._publisher.find_published(text, since)

    def _set_hidden(self, mention: Mention, hidden: bool) -> None:
        if mention.kind in ("tag", "mention"):
            raise Unsupported("Instagram only allows hiding comments on the account's own posts: a tag or an "
                              "@mention on another account's post is handled in the Instagram app")
        answer = self._graph._write("POST /{id} hide", mention.platform_id, None,  # noqa: SLF001
                                    {"hide": "true" if hidden else "false"})
        if answer.get("success") is not True:
            raise MalformedPayload("POST /{id} hide: Instagram did not confirm")

    def hide(self, mention: Mention) -> None:
        """Hide a comment on the account's media (its author still sees it)."""
        self._set_hidden(mention, True)

    def unhide(self, mention: Mention) -> None:
        """Unhide a comment hidden with :meth:`hide`."""
        self._set_hidden(mention, False)

    def delete(self, platform_id: str) -> None:
        """Delete a comment on the account's media (or one of its own replies)."""
        self._graph.delete(platform_id)

    # ---- health ------------------------------------------------------------------------------------

    def health(self) -> Health:
        """Read the account's username with the token; never raises."""
        try:
            answer = self._graph._call("GET /{page}", self._graph._api.get_object, self.ig_user_id,  # noqa: SLF001
                                       fields="id,username")
        except RateLimited:
            return Health(ok=True, account=self.ig_user_id, detail="rate limited",
                          rate_limited_until=self._graph.rate_limited_until())
        except ConnectorError as err:
            return Health(ok=False, account=self.ig_user_id, detail=f"{err.code}: {err}",
                          rate_limited_until=self._graph.rate_limited_until())
        self.username = str(answer.get("username") or "")
        return Health(ok=True, account=f"@{self.username}" if self.username else self.ig_user_id,
                      detail=f"Graph {self._graph.version}; API usage {self._graph.usage_pct:.0f}%",
                      rate_limited_until=self._graph.rate_limited_until())


def from_settings(source: Settings | Callable[[str], Any], *, name: str = "instagram",
                  media_base_url: str | None = None) -> InstagramConnector:
    """Build from settings (or a ``get(key)`` of raw values); ``media_base_url`` overrides ``settings.media``."""
    settings = Settings.coerce(source)
    ig, graph = settings.ig, settings.graph
    return InstagramConnector(ig_user_id=str(ig.user_id), access_token=str(ig.access_token),
                              version=graph.api_version, base_url=graph.api_base, lookback_days=ig.lookback_days,
                              name=name, media_base_url=media_base_url or settings.media.base_url,
                              **settings.transport.connector_kwargs())
