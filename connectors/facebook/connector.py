"""Facebook Page connector: python-facebook-api (``pyfacebook``) on the Graph API (docs/decisions/0030).

Reads the Page feed (visitor posts, comments and replies on the Page's posts) and the posts the Page is tagged
in (see :mod:`connectors.facebook.sync` for how a pass decides what is new); replies to comments, hides and
unhides them, deletes, and publishes Page posts, natively scheduled with ``published=false`` +
``scheduled_publish_time``; bans a comment's author from the Page and lifts the ban (the Page's ``blocked`` edge:
``POST``/``DELETE /{page-id}/blocked`` with ``user``). After an uncertain reply, ``find_reply`` looks for it
under the mention, and after an uncertain moderation act ``act_applied`` tells whether it is in effect
(connectors/facebook/lookups.py). Everything uses one Page access token (``PARVIS_FB_PAGE_TOKEN``).

Transport, token handling (an ``Authorization: Bearer`` header, never a URL), retries, paging and Graph error
translation are the Graph client's, shared with Instagram (connectors/graph/client.py): 190/102 → AuthFailed;
4, 17, 32, 341, 613, 80001 → RateLimited (reset from the usage headers); 1, 2 and 5xx → Unavailable; other 4xx
→ PermanentFailure, with the permission hints of connectors/facebook/errors.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pyfacebook import GraphAPI

from connectors.base import Capability, ConnectorInfo, FetchResult, Health, secret_fingerprint
from connectors.facebook import lookups, webhooks
from connectors.facebook import normalize as nz
from connectors.facebook.errors import NO_USER_ID, PERMISSION_HINTS
from connectors.facebook.sync import PageSync
from connectors.graph.client import DEFAULT_BASE, DEFAULT_VERSION, ID, GraphClient
from connectors.graph.tokens import TokenInfo, parse_debug_token
from core.clock import Clock, utcnow
from core.config import Settings
from core.errors import ConnectorError, MalformedPayload, PermanentFailure, RateLimited, Unsupported
from core.models import Author, Mention, Platform, Published
from core.settings_schema import FacebookSettings, GraphSettings

__all__ = ["DEFAULT_BASE", "DEFAULT_VERSION", "FacebookConnector", "from_settings"]
SETTINGS_KEYS = FacebookSettings.all_keys() + GraphSettings.all_keys()


class FacebookConnector:
    """Comments, replies, visitor and tagged posts in; replies, moderation and (scheduled) posts out."""

    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        platform=Platform.FACEBOOK, name="Facebook (Page)",
        capabilities=frozenset({Capability.REPLY, Capability.PUBLISH, Capability.HIDE, Capability.UNHIDE,
                                Capability.DELETE, Capability.NATIVE_SCHEDULE, Capability.BAN, Capability.UNBAN}),
        settings_keys=SETTINGS_KEYS)

    def __init__(self, *, page_id: str, page_token: str, version: str = DEFAULT_VERSION,
                 base_url: str | None = None, name: str = "facebook", lookback_days: float = 7.0,
                 post_limit: int = 25, comment_limit: int = 50, max_pages: int = 10, include_tagged: bool = True,
                 retries: int = 2, backoff: float = 1.0, timeout: float = 20.0,
                 sleep: Callable[[float], None] = time.sleep, clock: Clock = utcnow) -> None:
        self.name, self.page_id = name, str(page_id)
        self.lookback = timedelta(days=lookback_days)
        self.post_limit, self.comment_limit, self.max_pages = post_limit, comment_limit, max(1, max_pages)
        self.include_tagged = include_tagged
        self._clock = clock
        self.credential_fingerprint = secret_fingerprint(page_token)
        self._graph = GraphClient(owner_id=self.page_id, token=page_token, version=version, base_url=base_url,
                                  hints=PERMISSION_HINTS, retries=retries, backoff=backoff, timeout=timeout,
                                  sleep=sleep, clock=clock)
        self.tagged_note = ""

    def __repr__(self) -> str:
        return f"FacebookConnector(name={self.name!r}, page_id={self.page_id!r}, version={self.version!r})"

    # ---- the Graph client's settings (shown by health(), checked by the registry tests) ----------------

    @property
    def version(self) -> str:
        """The Graph API version in use (``v24.0``)."""
        return self._graph.version

    @property
    def retries(self) -> int:
        """How many times a failed read is retried."""
        return self._graph.retries

    @property
    def usage_pct(self) -> float:
        """The highest API usage (percent) the last answer's headers showed."""
        return self._graph.usage_pct

    @property
    def _api(self) -> GraphAPI:
        """pyfacebook's ``GraphAPI`` under the client (its ``base_url`` says which host is called)."""
        return self._graph.api

    def _tagged_failed(self, err: ConnectorError) -> bool:
        """Tagged posts need pages_read_user_content; without it (or when throttled) the feed still syncs."""
        if isinstance(err, PermanentFailure | RateLimited):
            self.tagged_note = f"tagged posts not read: {err.code}"
            return True
        return False

    # ---- reading -----------------------------------------------------------------------------------

    def fetch(self, cursor: str | None) -> FetchResult:
        """New comments, replies, visitor and tagged posts since ``cursor`` (see connectors.facebook.sync)."""
        self.tagged_note = ""
        sync = PageSync(graph=self._graph, page_id=self.page_id, account=self.name, now=self._clock(),
                        lookback=self.lookback, post_limit=self.post_limit, comment_limit=self.comment_limit,
                        max_pages=self.max_pages, include_tagged=self.include_tagged,
                        on_tagged_error=self._tagged_failed)
        return sync.run(cursor)

    def comment_by_id(self, comment_id: str, *, post_id: str) -> Mention:
        """One comment (or reply) on the Page's content, read by id (connectors/facebook/webhooks.py)."""
        return webhooks.comment_by_id(self._graph, comment_id, post_id=post_id, account=self.name)

    def post_by_id(self, post_id: str) -> Mention:
        """One visitor post on the Page, read by id."""
        return webhooks.post_by_id(self._graph, post_id, account=self.name)

    def from_feed_change(self, value: Any) -> FetchResult:
        """What a Page ``feed`` webhook change points to: the comment or post read by id, or a state change
        (removed, hidden, unhidden); no cursor (connectors/facebook/webhooks.py)."""
        return webhooks.feed_change(self._graph, value, page_id=self.page_id, account=self.name)

    # ---- writing -----------------------------------------------------------------------------------

    def reply(self, mention: Mention, text: str) -> Published:
        """Comment under the mention; a reply to a reply goes to its thread (Facebook nests two levels)."""
        answer = self._graph.post("POST /{id}/comments", lookups.reply_target(mention), "comments", {"message": text})
        if not answer.get("id"):
            raise MalformedPayload("POST /{id}/comments: no id in the answer")
        return Published(platform_id=str(answer["id"]), permalink=f"{nz.WEB}/{answer['id']}")

    def find_reply(self, mention: Mention, text: str, since: datetime, *, max_pages: int = 3) -> Published | None:
        """Our reply to ``mention`` with ``text`` made since ``since`` (None: certainly absent; ``Unavailable``:
        cannot tell), read under the object ``reply`` commented on (connectors/facebook/lookups.py)."""
        return lookups.find_reply(self._graph, mention, text, since, max_pages=max_pages)

    def publish(self, text: str, *, scheduled_at: datetime | None = None, media: Any = ()) -> Published:
        """Publish a Page post now, or let Facebook publish it at ``scheduled_at`` (native scheduling)."""
        if media:
            raise Unsupported("media upload to Facebook is not supported yet")
        data: dict[str, Any] = {"message": text}
        if scheduled_at is not None:
            if scheduled_at.tzinfo is None:
                raise ValueError("scheduled_at must be timezone-aware")
            data.update(published="false", scheduled_publish_time=str(int(scheduled_at.timestamp())))
        answer = self._graph.post("POST /{page}/feed", self.page_id, "feed", data)
        if not answer.get("id"):
            raise MalformedPayload("POST /{page}/feed: no id in the answer")
        return Published(platform_id=str(answer["id"]), permalink=nz.post_permalink(str(answer["id"])))

    def _set_hidden(self, mention: Mention, hidden: bool) -> None:
        self._graph.post_confirmed("POST /{id} is_hidden", mention.platform_id,
                                   {"is_hidden": "true" if hidden else "false"}, who="Facebook")

    def hide(self, mention: Mention) -> None:
        """Hide a comment (the author and their friends still see it)."""
        self._set_hidden(mention, True)

    def unhide(self, mention: Mention) -> None:
        """Unhide a comment hidden with :meth:`hide`."""
        self._set_hidden(mention, False)

    def delete(self, platform_id: str) -> None:
        """Delete a Page post, a Page comment, or a comment on the Page's content."""
        self._graph.delete_confirmed(platform_id)

    def ban(self, author: Author) -> None:
        """Block the author from the Page (``POST /{page}/blocked``, ``user``; Graph answers ``{"<id>": true}``).

        A blocked person can no longer comment on, react to or message the Page; their past comments stay.
        """
        user = self._user_id(author)
        answer = self._graph.post("POST /{page}/blocked", self.page_id, "blocked", {"user": user})
        if answer.get(user) is True or answer.get("success") is True:
            return
        if answer.get(user) is False:
            raise PermanentFailure(f"POST /{{page}}/blocked: Facebook did not block {author.handle or 'this person'} "
                                   "(already blocked, or a profile the Page cannot block)")
        raise MalformedPayload("POST /{page}/blocked: Facebook did not confirm the ban")

    def unban(self, author: Author) -> None:
        """Lift a ban (``DELETE /{page}/blocked``, ``user``; Graph answers ``{"success": true}``)."""
        user = self._user_id(author)
        try:
            answer = self._graph.delete("DELETE /{page}/blocked", self.page_id, "blocked", {"user": user})
        except PermanentFailure:
            # Graph refuses (#100) to unblock someone who is not blocked (e.g. unblocked in Meta Business Suite
            # meanwhile): read the blocked list to tell that apart from a real refusal.
            if lookups.is_blocked(self._graph, user) is False:
                return
            raise
        if answer.get("success") is not True:
            raise MalformedPayload("DELETE /{page}/blocked: Facebook did not confirm lifting the ban")

    def act_applied(self, action: str, mention: Mention) -> bool:
        """Whether a moderation act is in effect now (the outbox's lookup after an uncertain answer or a crash,
        decision 0051): ban/unban from the Page's blocked list, hide/unhide from the comment's ``is_hidden``
        (connectors/facebook/lookups.py). Raises when it cannot tell, and always for ``delete``."""
        user = self._user_id(mention.author) if action in ("ban", "unban") else ""
        return lookups.act_applied(self._graph, action, mention, user)

    @staticmethod
    def _user_id(author: Author) -> str:
        user = str(author.platform_id or "").strip()
        if not ID.fullmatch(user):
            raise PermanentFailure(NO_USER_ID)
        return user

    # ---- health ------------------------------------------------------------------------------------

    def rate_limited_until(self) -> datetime | None:
        """The latest reset time among endpoints currently rate limited."""
        return self._graph.rate_limited_until()

    def token_info(self) -> TokenInfo:
        """What Meta's ``debug_token`` says of the Page token (expiry, validity, scopes)."""
        return parse_debug_token(self._graph.debug_token())

    def health(self) -> Health:
        """Read the Page's name with the token; never raises."""
        try:
            answer = self._graph.get_object(self.page_id, "id,name", endpoint="GET /{page}", retry=False)
        except RateLimited:
            return Health(ok=True, account=self.page_id, detail="rate limited",
                          rate_limited_until=self.rate_limited_until())
        except ConnectorError as err:
            return Health(ok=False, account=self.page_id, detail=f"{err.code}: {err}",
                          rate_limited_until=self.rate_limited_until())
        parts = [f"Graph {self.version}", f"API usage {self.usage_pct:.0f}%"]
        if self.tagged_note:
            parts.append(self.tagged_note)
        return Health(ok=True, account=str(answer.get("name") or self.page_id), detail="; ".join(parts),
                      rate_limited_until=self.rate_limited_until())


def from_settings(source: Settings | Callable[[str], Any], *, name: str = "facebook") -> FacebookConnector:
    """Build from settings (or a ``get(key)`` of raw values)."""
    settings = Settings.coerce(source)
    fb, graph = settings.fb, settings.graph
    return FacebookConnector(page_id=str(fb.page_id), page_token=str(fb.page_token), version=graph.api_version,
                             base_url=graph.api_base, lookback_days=fb.lookback_days, name=name,
                             **settings.transport.connector_kwargs())
