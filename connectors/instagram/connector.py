"""Instagram connector (an Instagram professional account): the Graph API through the Graph client shared with
Facebook (connectors/graph/client.py: pyfacebook ``GraphAPI``, the token in a header, retries, paging, Graph error
codes translated by connectors/graph/errors.py).

Two ways in, chosen by ``PARVIS_IG_LOGIN`` (docs/decisions/0190): ``facebook`` (Instagram API with Facebook Login:
the account is linked to a Facebook Page, host ``graph.facebook.com``, ``PARVIS_GRAPH_API_BASE``) or ``instagram``
(Instagram API with Instagram Login: no Page, the Instagram User access token, host ``graph.instagram.com``,
``PARVIS_IG_API_BASE``, the same version). Both serve the same nodes and edges for what Parvis does (media,
comments with ``replies``, replies, hide, delete, content publishing, @mentions); health reads ``GET /me``
(``user_id,username``) with Instagram Login. What Instagram Login lacks is declared in :data:`UNAVAILABLE` and
shown on Connexions, never read as an empty list: photo tags (``/{ig-user-id}/tags`` is a Facebook Login edge).

Reads the comments and replies on the account's recent media (``/{ig-user-id}/media`` then
``/{ig-media-id}/comments`` with ``replies`` embedded) and the other accounts' media where the account is tagged
(``/{ig-user-id}/tags``, kind ``tag``; see connectors/instagram/sync.py); replies to a **top-level** comment
(``POST /{ig-comment-id}/replies``), hides/unhides (``POST /{ig-comment-id}?hide=``) and deletes comments.
Instagram's rules are checked on the live comment before replying: no reply to a reply, no reply to a hidden
comment (``PermanentFailure`` with a clear message, nothing sent).

Publishing (connectors/instagram/publish.py): an image post or a carousel with alt text; Instagram fetches the
images from ``PARVIS_MEDIA_BASE_URL`` (the public address of ``<data dir>/media/``) and refuses text-only posts
(``ConnectorInfo.publish_needs_image``). Exemptions: no native scheduling (``NATIVE_SCHEDULE`` absent; the
publisher posts at the time); a tag cannot be answered, hidden or deleted through the API (``Unsupported``: the
Instagram app does it). @mentions in other accounts' captions and comments have no list endpoint: Meta pushes
them by webhook only, and :meth:`InstagramConnector.mentions_from_webhook` reads what such a payload points to
(``python -m console instagram-mention``, connectors/instagram/mentions.py); they are answered through
``POST /{ig-user-id}/mentions``. After an uncertain publish, ``find_published`` looks for the post
(connectors/instagram/lookups.py).

The cursor is JSON: ``seen`` maps each comment of the lookback window to ``[fingerprint, hidden, created]`` (edits
and hide/unhide done on Instagram come back as revisions/changes); a comment not in ``seen`` is new. ``tags`` maps
each tagged media already read to its time (connectors/instagram/sync.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from connectors.base import Capability, ConnectorInfo, FetchResult, Health, secret_fingerprint
from connectors.graph.client import DEFAULT_VERSION, GraphClient, refresh_instagram_token
from connectors.graph.tokens import (
    INSTAGRAM_BASE,
    RefreshedToken,
    TokenInfo,
    TokenStore,
    parse_debug_token,
    token_path,
)
from connectors.instagram import lookups, webhooks
from connectors.instagram import mentions as igm
from connectors.instagram.errors import (
    INSTAGRAM_LOGIN_HINTS,
    NO_HIDE_ELSEWHERE,
    NO_REPLY_TO_HIDDEN,
    NO_REPLY_TO_REPLY,
    PERMISSION_HINTS,
)
from connectors.instagram.publish import InstagramPublisher
from connectors.instagram.sync import AccountSync
from core.clock import Clock, utcnow
from core.config import Settings
from core.errors import ConfigError, ConnectorError, MalformedPayload, PermanentFailure, RateLimited, Unsupported
from core.models import Mention, Platform, Published
from core.settings_schema import GraphSettings, InstagramSettings, MediaSettings

SETTINGS_KEYS = InstagramSettings.all_keys() + GraphSettings.all_keys() + MediaSettings.all_keys()
LOGINS = ("facebook", "instagram")  # PARVIS_IG_LOGIN
INSTAGRAM_LOGIN_BASE = "https://graph.instagram.com"
# What each login cannot read, by key (console/messages/labels.py says it in French on Connexions).
UNAVAILABLE: dict[str, tuple[str, ...]] = {"facebook": (), "instagram": ("instagram_tags",)}


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
                 container_poll_interval: float = 3.0, login: str = "facebook",
                 token_store: TokenStore | None = None, refresh_base_url: str = INSTAGRAM_BASE) -> None:
        if login not in LOGINS:
            raise ConfigError(f"Instagram login must be one of {', '.join(LOGINS)}, got {login!r}")
        self.login = login
        if login == "instagram":
            base_url = base_url or INSTAGRAM_LOGIN_BASE
        self.name, self.ig_user_id = name, str(ig_user_id)
        self.lookback, self.media_limit = timedelta(days=lookback_days), media_limit
        self.max_pages = max(1, max_pages)
        self._clock = clock
        self.token_store, self.refresh_base_url = token_store, refresh_base_url
        access_token = (token_store.load() if token_store is not None else None) or access_token  # refreshed
        self._token = access_token
        self.credential_fingerprint = secret_fingerprint(access_token)
        self._graph = GraphClient(owner_id=self.ig_user_id, token=access_token, version=version, base_url=base_url,
                                  hints=INSTAGRAM_LOGIN_HINTS if login == "instagram" else PERMISSION_HINTS,
                                  retries=retries, backoff=backoff, timeout=timeout,
                                  sleep=sleep, clock=clock)
        self.username, self.tags_note = "", ""
        self._publisher = InstagramPublisher(self._graph, self.ig_user_id, media_base_url=media_base_url,
                                             sleep=sleep, clock=clock, polls=container_polls,
                                             interval=container_poll_interval)

    def __repr__(self) -> str:
        return f"InstagramConnector(name={self.name!r}, ig_user_id={self.ig_user_id!r}, login={self.login!r})"

    @property
    def unavailable(self) -> tuple[str, ...]:
        """What this login cannot read (keys of :data:`UNAVAILABLE`)."""
        return UNAVAILABLE[self.login]

    # ---- reading -----------------------------------------------------------------------------------

    def fetch(self, cursor: str | None) -> FetchResult:
        """New, edited, hidden or unhidden comments on the media of the lookback window, and new photo tags
        (connectors/instagram/sync.py)."""
        sync = AccountSync(graph=self._graph, ig_user_id=self.ig_user_id, account=self.name, username=self.username,
                           now=self._clock(), lookback=self.lookback, media_limit=self.media_limit,
                           max_pages=self.max_pages, read_tags="instagram_tags" not in self.unavailable)
        result = sync.run(cursor)
        self.tags_note = sync.tags_note
        return result

    def mentions_from_webhook(self, payload: Any) -> FetchResult:
        """The @mentions a ``mentions`` webhook payload points to, read from the Graph API (no cursor;
        connectors/instagram/mentions.py)."""
        return igm.from_webhook(self._graph, payload, account=self.name)

    def comment_by_id(self, comment_id: str, *, media_id: str) -> Mention:
        """One comment (or reply) on the account's media, read by id (connectors/instagram/webhooks.py)."""
        return webhooks.comment_by_id(self._graph, comment_id, media_id=media_id, account=self.name)

    def from_comments_change(self, value: Any) -> FetchResult:
        """The comment a ``comments`` webhook change points to, read by id; no cursor."""
        return webhooks.comments_change(self._graph, value, account=self.name)

    # ---- writing -----------------------------------------------------------------------------------

    def reply(self, mention: Mention, text: str) -> Published:
        """Reply to a top-level comment or an @mention; refuses replies to replies, to hidden comments, to tags."""
        if mention.kind in ("tag", "mention"):
            return igm.reply(self._graph, mention, text)
        try:
            live = self._graph.get_object(mention.platform_id, "id,hidden,parent_id")
        except PermanentFailure:
            live = dict(mention.raw)  # the lookup is refused (e.g. older API versions): use what the sync saw
        if live.get("parent_id") or mention.kind == "reply":
            raise PermanentFailure(NO_REPLY_TO_REPLY)
        if live.get("hidden"):
            raise PermanentFailure(NO_REPLY_TO_HIDDEN)
        answer = self._graph.post("POST /{id}/replies", mention.platform_id, "replies", {"message": text})
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
        """Our post whose caption is exactly ``text``, published since ``since`` (the publisher's lookup,
        connectors/instagram/lookups.py)."""
        return lookups.find_published(self._graph, text, since)

    def _set_hidden(self, mention: Mention, hidden: bool) -> None:
        if mention.kind in ("tag", "mention"):
            raise Unsupported(NO_HIDE_ELSEWHERE)
        self._graph.post_confirmed("POST /{id} hide", mention.platform_id, {"hide": "true" if hidden else "false"},
                                   who="Instagram")

    def hide(self, mention: Mention) -> None:
        """Hide a comment on the account's media (its author still sees it)."""
        self._set_hidden(mention, True)

    def unhide(self, mention: Mention) -> None:
        """Unhide a comment hidden with :meth:`hide`."""
        self._set_hidden(mention, False)

    def delete(self, platform_id: str) -> None:
        """Delete a comment on the account's media (or one of its own replies)."""
        self._graph.delete_confirmed(platform_id)

    # ---- health ------------------------------------------------------------------------------------

    def token_info(self) -> TokenInfo:
        """What Meta's ``debug_token`` says of the account's token (expiry, validity, scopes)."""
        return parse_debug_token(self._graph.debug_token())

    def refresh_token(self, *, now: datetime | None = None) -> RefreshedToken:
        """Refresh the 60-day token (``refresh_access_token``), use the new one from now on and keep it in the
        token store (connectors/graph/tokens.py) for the next start."""
        now = now or self._clock()
        refreshed = refresh_instagram_token(self._token, base_url=self.refresh_base_url, now=now)
        if self.token_store is not None:
            self.token_store.save(refreshed, now=now)
        self._use_token(refreshed.access_token)
        return refreshed

    def _use_token(self, token: str) -> None:
        self._token = token
        self._graph.set_token(token)
        self.credential_fingerprint = secret_fingerprint(token)

    def health(self) -> Health:
        """Read the account's username with the token (Instagram Login: ``GET /me``, whose ``user_id`` must be the
        configured account); never raises."""
        try:
            if self.login == "instagram":
                answer = self._graph.get_object("me", "user_id,username", endpoint="GET /me", retry=False)
            else:
                answer = self._graph.get_object(self.ig_user_id, "id,username", endpoint="GET /{page}", retry=False)
        except RateLimited:
            return Health(ok=True, account=self.ig_user_id, detail="rate limited",
                          rate_limited_until=self._graph.rate_limited_until())
        except ConnectorError as err:
            return Health(ok=False, account=self.ig_user_id, detail=f"{err.code}: {err}",
                          rate_limited_until=self._graph.rate_limited_until())
        owner = str(answer.get("user_id") or "")
        if self.login == "instagram" and owner != self.ig_user_id:
            return Health(ok=False, account=self.ig_user_id,
                          detail=f"the token is for the Instagram account {owner or '?'}, not PARVIS_IG_USER_ID "
                                 f"({self.ig_user_id}): set the user_id of GET /me",
                          rate_limited_until=self._graph.rate_limited_until())
        self.username = str(answer.get("username") or "")
        host = "Instagram Login" if self.login == "instagram" else "Graph"
        return Health(ok=True, account=f"@{self.username}" if self.username else self.ig_user_id,
                      detail=f"{host} {self._graph.version}; API usage {self._graph.usage_pct:.0f}%",
                      rate_limited_until=self._graph.rate_limited_until())


def from_settings(source: Settings | Callable[[str], Any], *, name: str = "instagram",
                  media_base_url: str | None = None) -> InstagramConnector:
    """Build from settings (or a ``get(key)`` of raw values); ``media_base_url`` overrides ``settings.media``."""
    settings = Settings.coerce(source)
    ig, graph = settings.ig, settings.graph
    base = ig.api_base if ig.login == "instagram" else graph.api_base
    return InstagramConnector(ig_user_id=str(ig.user_id), access_token=str(ig.access_token), login=ig.login,
                              version=graph.api_version, base_url=base, lookback_days=ig.lookback_days,
                              name=name, media_base_url=media_base_url or settings.media.base_url,
                              token_store=TokenStore(token_path(settings.data_dir, name), str(ig.access_token)),
                              **settings.transport.connector_kwargs())
