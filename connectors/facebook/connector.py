"""Facebook Page connector: python-facebook-api (``pyfacebook``) on the Graph API (docs/decisions/0030).

Reads the Page feed (visitor posts, comments and replies on the Page's posts) and the posts the Page is tagged
in (see :mod:`connectors.facebook.sync` for how a pass decides what is new); replies to comments, hides and
unhides them, deletes, and publishes Page posts, natively scheduled with ``published=false`` +
``scheduled_publish_time``; bans a comment's author from the Page and lifts the ban (the Page's ``blocked`` edge:
``POST``/``DELETE /{page-id}/blocked`` with ``user``). After an uncertain reply, ``find_reply`` looks for it
under the mention (connectors/facebook/lookups.py). Everything uses one Page access token (``PARVIS_FB_PAGE_TOKEN``).

The token travels in an ``Authorization: Bearer`` header, never in a URL (``ConnectorSession``), so it cannot
leak through an exception message, a log line or a stored paging link. Graph errors (connectors.facebook.errors):
190/102 → AuthFailed; 4, 17, 32, 341, 613, 80001 → RateLimited (reset from the usage headers); 1, 2 and 5xx →
Unavailable; other 4xx → PermanentFailure.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
from pyfacebook import GraphAPI
from pyfacebook.exceptions import PyFacebookException

from connectors.base import Capability, ConnectorInfo, FetchResult, Health
from connectors.facebook import lookups
from connectors.facebook import normalize as nz
from connectors.facebook.errors import graph_error, usage_percent
from connectors.facebook.sync import PageSync
from connectors.http import ConnectorSession, quiet_secret_loggers, transport_settings, with_read_retries
from core.clock import Clock, utcnow
from core.errors import ConnectorError, MalformedPayload, PermanentFailure, RateLimited, Unavailable, Unsupported
from core.models import Author, Mention, Platform, Published

DEFAULT_BASE = "https://graph.facebook.com"
DEFAULT_VERSION = "v24.0"
_ID = re.compile(r"\d+(_\d+)?")
SETTINGS_KEYS = ("PARVIS_FB_PAGE_ID", "PARVIS_FB_PAGE_TOKEN", "PARVIS_GRAPH_API_BASE", "PARVIS_GRAPH_API_VERSION",
                 "PARVIS_FB_LOOKBACK_DAYS")


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
        quiet_secret_loggers()
        self.name, self.page_id = name, str(page_id)
        self.version = version if version.startswith("v") else f"v{version}"
        self.lookback = timedelta(days=lookback_days)
        self.post_limit, self.comment_limit, self.max_pages = post_limit, comment_limit, max(1, max_pages)
        self.include_tagged = include_tagged
        self.retries, self.backoff, self._sleep, self._clock = retries, backoff, sleep, clock
        base = (base_url or DEFAULT_BASE).rstrip("/")
        self._api = GraphAPI(access_token=page_token, version=self.version, base_url=base + "/",
                             sleep_on_rate_limit=False)
        self._session = ConnectorSession(default_host=base, timeout=timeout, token_param="access_token")
        self._session.hooks["response"] = [self._check_response]
        self._api.session = self._session
        self._limited: dict[str, datetime] = {}
        self.usage_pct = 0.0
        self.tagged_note = ""

    def __repr__(self) -> str:
        return f"FacebookConnector(name={self.name!r}, page_id={self.page_id!r}, version={self.version!r})"

    # ---- plumbing ----------------------------------------------------------------------------------

    def _endpoint(self, request: requests.PreparedRequest) -> str:
        """``GET /{page}/feed``-style label of a request (ids masked), for errors and per-endpoint limits."""
        path = urlsplit(request.url or "").path.split("/", 2)[-1] if request.url else ""
        parts = ["{page}" if p == self.page_id else ("{id}" if _ID.fullmatch(p) else p) for p in path.split("/")]
        return f"{request.method} /{'/'.join(parts)}"

    def _check_response(self, response: requests.Response, *_: Any, **__: Any) -> None:
        """Response hook: note API usage; turn any HTTP error status into our error before pyfacebook parses."""
        self.usage_pct, _regain = usage_percent(response.headers)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = None
            raise graph_error(response.status_code, body, response.headers, self._endpoint(response.request),
                              now=self._clock())

    def _call(self, endpoint: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        """One Graph call through pyfacebook, errors translated (the hook has already checked the status)."""
        try:
            answer = fn(*args, **kwargs)
        except RateLimited as err:
            self._limited[err.endpoint or endpoint] = datetime.fromtimestamp(err.reset_at or 0, UTC)
            raise
        except ConnectorError:
            raise
        except PyFacebookException as err:  # an {"error": ...} with HTTP 200, or a non-JSON answer
            code = getattr(err, "code", None)
            if isinstance(code, int) and code > 0:
                raise graph_error(200, {"error": {"code": code, "message": getattr(err, "message", "")}}, {},
                                  endpoint, now=self._clock()) from err
            raise MalformedPayload(f"{endpoint}: the answer is not JSON") from err
        except (ValueError, KeyError) as err:  # invalid JSON, or no Content-Type at all
            raise MalformedPayload(f"{endpoint}: the answer is not valid JSON") from err
        except requests.RequestException as err:
            raise Unavailable(f"{endpoint}: {type(err).__name__} (network)") from err
        if not isinstance(answer, dict):
            raise MalformedPayload(f"{endpoint}: expected a JSON object")
        self._limited.pop(endpoint, None)
        return answer

    def _get(self, object_id: str, edge: str, params: dict[str, Any]) -> dict[str, Any]:
        endpoint = f"GET /{{{'page' if object_id == self.page_id else 'id'}}}/{edge}"
        return with_read_retries(lambda: self._call(endpoint, self._api.get_connection, object_id, edge, **params),
                                 retries=self.retries, backoff=self.backoff, sleep=self._sleep)

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
        sync = PageSync(get=self._get, page_id=self.page_id, account=self.name, now=self._clock(),
                        lookback=self.lookback, post_limit=self.post_limit, comment_limit=self.comment_limit,
                        max_pages=self.max_pages, include_tagged=self.include_tagged,
                        on_tagged_error=self._tagged_failed)
        return sync.run(cursor)

    # ---- writing -----------------------------------------------------------------------------------

    def _write(self, endpoint: str, object_id: str, edge: str | None, data: dict[str, Any]) -> dict[str, Any]:
        return self._call(endpoint, self._api.post_object, object_id, edge, data=data)

    def reply(self, mention: Mention, text: str) -> Published:
        """Comment under the mention; a reply to a reply goes to its thread (Facebook nests two levels)."""
        answer = self._write("POST /{id}/comments", lookups.reply_target(mention), "comments", {"message": text})
        if not answer.get("id"):
            raise MalformedPayload("POST /{id}/comments: no id in the answer")
        return Published(platform_id=str(answer["id"]), permalink=f"{nz.WEB}/{answer['id']}")

    def find_reply(self, mention: Mention, text: str, since: datetime, *, max_pages: int = 3) -> Published | None:
        """Our reply to ``mention`` with ``text`` made since ``since`` (None: certainly absent; ``Unavailable``:
        cannot tell), read under the object ``reply`` commented on (connectors/facebook/lookups.py)."""
        return lookups.find_reply(self._get, self.page_id, mention, text, since, max_pages=max_pages)

    def publish(self, text: str, *, scheduled_at: datetime | None = None, media: Any = ()) -> Published:
        """Publish a Page post now, or let Facebook publish it at ``scheduled_at`` (native scheduling)."""
        if media:
            raise Unsupported("media upload to Facebook is not supported yet")
        data: dict[str, Any] = {"message": text}
        if scheduled_at is not None:
            if scheduled_at.tzinfo is None:
                raise ValueError("scheduled_at must be timezone-aware")
            data.update(published="false", scheduled_publish_time=str(int(scheduled_at.timestamp())))
        answer = self._write("POST /{page}/feed", self.page_id, "feed", data)
        if not answer.get("id"):
            raise MalformedPayload("POST /{page}/feed: no id in the answer")
        return Published(platform_id=str(answer["id"]), permalink=nz.post_permalink(str(answer["id"])))

    def _set_hidden(self, mention: Mention, hidden: bool) -> None:
        answer = self._write("POST /{id} is_hidden", mention.platform_id, None,
                             {"is_hidden": "true" if hidden else "false"})
        if answer.get("success") is not True:
            raise MalformedPayload("POST /{id} is_hidden: Facebook did not confirm")

    def hide(self, mention: Mention) -> None:
        """Hide a comment (the author and their friends still see it)."""
        self._set_hidden(mention, True)

    def unhide(self, mention: Mention) -> None:
        """Unhide a comment hidden with :meth:`hide`."""
        self._set_hidden(mention, False)

    def delete(self, platform_id: str) -> None:
        """Delete a Page post, a Page comment, or a comment on the Page's content."""
        answer = self._call("DELETE /{id}", self._api.delete_object, platform_id)
        if answer.get("success") is not True:
            raise MalformedPayload("DELETE /{id}: Facebook did not confirm the deletion")

    def ban(self, author: Author) -> None:
        """Block the author from the Page (``POST /{page}/blocked``, ``user``; Graph answers ``{"<id>": true}``).

        A blocked person can no longer comment on, react to or message the Page; their past comments stay.
        """
        user = self._user_id(author)
        answer = self._write("POST /{page}/blocked", self.page_id, "blocked", {"user": user})
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
            answer = self._call("DELETE /{page}/blocked", self._api.delete_object, self.page_id, "blocked",
                                args={"user": user})
        except PermanentFailure:
            # Graph refuses (#100) to unblock someone who is not blocked (e.g. unblocked in Meta Business Suite
            # meanwhile): read the blocked list to tell that apart from a real refusal.
            if self._is_blocked(user) is False:
                return
            raise
        if answer.get("success") is not True:
            raise MalformedPayload("DELETE /{page}/blocked: Facebook did not confirm lifting the ban")

    def act_applied(self, action: str, mention: Mention) -> bool:
        """Whether a moderation act is in effect now (the outbox's lookup after an uncertain answer or a crash,
        decision 0051): ban/unban from the Page's blocked list, hide/unhide from the comment's ``is_hidden``.
        Raises when it cannot tell, and always for ``delete``: Graph answers the same error for a deleted comment
        and for one the token may not read."""
        if action in ("ban", "unban"):
            blocked = self._is_blocked(self._user_id(mention.author))
            if blocked is None:
                raise Unavailable("GET /{page}/blocked: cannot tell whether the author is blocked")
            return blocked is (action == "ban")
        if action in ("hide", "unhide"):
            answer = self._call("GET /{id}", self._api.get_object, mention.platform_id, fields="id,is_hidden")
            hidden = answer.get("is_hidden")
            if not isinstance(hidden, bool):
                raise MalformedPayload("GET /{id}?fields=is_hidden: no is_hidden in the answer")
            return hidden is (action == "hide")
        raise Unsupported(f"Facebook cannot tell whether a {action} happened")

    def _is_blocked(self, user: str) -> bool | None:
        """Whether ``user`` is on the Page's blocked list (``GET /{page}/blocked?user=``); None if it cannot tell."""
        try:
            data = self._get(self.page_id, "blocked", {"user": user, "fields": "id"}).get("data")
        except ConnectorError:
            return None
        return bool(data) if isinstance(data, list) else None

    @staticmethod
    def _user_id(author: Author) -> str:
        user = str(author.platform_id or "").strip()
        if not _ID.fullmatch(user):
            raise PermanentFailure("this comment carries no Facebook user id (Graph hides `from` without the "
                                   "MODERATE task on the Page): the author cannot be banned from Parvis")
        return user

    # ---- health ------------------------------------------------------------------------------------

    def rate_limited_until(self) -> datetime | None:
        """The latest reset time among endpoints currently rate limited."""
        now = self._clock()
        active = [until for until in self._limited.values() if until > now]
        return max(active) if active else None

    def health(self) -> Health:
        """Read the Page's name with the token; never raises."""
        try:
            answer = self._call("GET /{page}", self._api.get_object, self.page_id, fields="id,name")
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


def from_settings(get: Callable[[str], Any], *, name: str = "facebook") -> FacebookConnector:
    """Build from settings (``get`` returns a value or None)."""
    return FacebookConnector(page_id=str(get("PARVIS_FB_PAGE_ID")), page_token=str(get("PARVIS_FB_PAGE_TOKEN")),
                             version=str(get("PARVIS_GRAPH_API_VERSION") or DEFAULT_VERSION),
                             base_url=get("PARVIS_GRAPH_API_BASE") or None,
                             lookback_days=float(get("PARVIS_FB_LOOKBACK_DAYS") or 7), name=name,
                             **transport_settings(get))
