"""X (Twitter) connector: tweepy 4.17 ``Client`` on the X API v2.

Reading uses the app's bearer token: the mentions timeline of the city's account and, when
``PARVIS_X_SEARCH_QUERY`` is set, recent search (deduplicated against the mentions). Writing (reply, post,
hide/unhide a reply, delete our own post) uses OAuth 1.0a user-context keys of the city's account.

Exemption (quality-scale style): X has no native scheduling, so ``Capability.NATIVE_SCHEDULE`` is absent and
the publishing worker posts at the scheduled time. Media upload is not supported yet. No lookups after an
uncertain write (connectors/x/lookups.py says why).

Usage billing: every successful billable call is reported to ``usage_hook`` and every billable call is first submitted
to ``budget_gate`` (both injectable callables, see connectors/x/usage.py and services/connections/x_budget.py), so the
monthly X bill can be counted and capped without the connector seeing the database.

The cursor is JSON holding, per stream (``mentions``, ``search``), the ``since_id`` and, while a pagination
walk is cut short by the page budget, the walk's ``next_token`` and ``newest_id`` (``FetchResult.has_more``).

``since_id`` moves to the newest post of a finished walk, past the posts that failed validation too (reading them
again would bring the same answer, and X bills every read): each is handed back in ``FetchResult.rejected`` (id,
reason, link), which the sync lists on the Connexions page, so none is lost silently (decision 0132). Pure
retweets are not inbox items (decision 0131): left out of pages (counted in ``FetchResult.ignored``) and out of
the search (``-is:retweet`` added to ``PARVIS_X_SEARCH_QUERY`` unless it says ``is:retweet`` itself). A 200
answer holding only ``errors[]`` (unknown or suspended account, refused query) is the API saying no: it raises
``PermanentFailure`` with X's reason, never "ok, 0 mentions".

Thread roots (decisions 0212, 0285): the pages already expand ``referenced_tweets.id``, so the post a resident
replies to comes in ``includes.tweets``; when the city's account wrote it and it starts its conversation, it is
handed back in ``FetchResult.own_posts`` (no extra request, nothing more billed) for « Fil » to show first.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar

import requests
import tweepy

from connectors.base import (
    Capability,
    ConnectorInfo,
    FetchResult,
    Health,
    OwnPost,
    PlatformChange,
    Rejected,
    secret_fingerprint,
)
from connectors.http import ConnectorSession, RateWindows, quiet_secret_loggers, with_read_retries
from connectors.paging import Walk, load_state
from connectors.x import normalize as nz
from connectors.x.errors import translate
from connectors.x.usage import Billable, BudgetGate, UsageHook, create_kind, read_units
from core.clock import Clock, utcnow
from core.config import Settings
from core.errors import (
    AuthFailed,
    BudgetExceeded,
    ConnectorError,
    MalformedPayload,
    PermanentFailure,
    RateLimited,
    Unsupported,
)
from core.models import Mention, Platform, Published
from core.settings_schema import XSettings

log = logging.getLogger(__name__)

TWEEPY_HOST = "https://api.twitter.com"  # hard-coded in tweepy's BaseClient.request (research-notes §2)
DEFAULT_BASE = "https://api.x.com"
WRITE_KEYS = XSettings.keys("consumer_key", "consumer_secret", "access_token", "access_token_secret")
SETTINGS_KEYS = XSettings.all_keys()
_STREAMS = {"mentions": "GET /2/users/:id/mentions", "search": "GET /2/tweets/search/recent"}
_BILLED = {"GET /2/users/:id/mentions": Billable.POST_READ, "GET /2/tweets/search/recent": Billable.POST_READ,
           "GET /2/users/:id": Billable.USER_READ, "PUT /2/tweets/:id/hidden": Billable.MANAGE,
           "DELETE /2/tweets/:id": Billable.DELETE}


class XConnector:
    """Mentions and search in, replies/posts/moderation out, for one X account."""

    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        platform=Platform.X, name="X (Twitter)",
        capabilities=frozenset({Capability.REPLY, Capability.PUBLISH, Capability.HIDE, Capability.UNHIDE,
                                Capability.DELETE}),
        settings_keys=SETTINGS_KEYS)

    def __init__(self, *, bearer_token: str, user_id: str, search_query: str = "",
                 consumer_key: str | None = None, consumer_secret: str | None = None,
                 access_token: str | None = None, access_token_secret: str | None = None,
                 base_url: str | None = None, name: str = "x", page_size: int = 100, max_pages: int = 10,
                 retries: int = 2, backoff: float = 1.0, timeout: float = 20.0,
                 sleep: Callable[[float], None] = time.sleep, clock: Clock = utcnow,
                 usage_hook: UsageHook | None = None, budget_gate: BudgetGate | None = None) -> None:
        quiet_secret_loggers()
        self.name = name
        self.usage_hook = usage_hook  # told (kind, units) after each successful billable call
        self.budget_gate = budget_gate  # asked before each billable call; raises BudgetExceeded to stop it
        self.user_id = str(user_id)
        self.search_query = search_query.strip()
        self.page_size = max(5, min(100, page_size))  # the API accepts 5..100 (search: 10..100)
        self.max_pages = max(1, max_pages)
        self.retries, self.backoff, self._sleep, self._clock = retries, backoff, sleep, clock
        self.can_write = all((consumer_key, consumer_secret, access_token, access_token_secret))
        self.credential_fingerprint = secret_fingerprint(bearer_token, consumer_key, consumer_secret, access_token,
                                                         access_token_secret)
        self._client = tweepy.Client(bearer_token=bearer_token, consumer_key=consumer_key,
                                     consumer_secret=consumer_secret, access_token=access_token,
                                     access_token_secret=access_token_secret, return_type=dict,
                                     wait_on_rate_limit=False)
        self._client.session = ConnectorSession(default_host=TWEEPY_HOST, base_url=base_url or DEFAULT_BASE,
                                                timeout=timeout)
        self._limits = RateWindows(clock)  # endpoint -> rate-limited until

    def __repr__(self) -> str:
        return f"XConnector(name={self.name!r}, user_id={self.user_id!r})"

    # ---- plumbing ----------------------------------------------------------------------------------

    def _bill(self, endpoint: str, kwargs: Mapping[str, Any]) -> Billable | None:
        """The billable kind of a call (X bills every endpoint Parvis uses)."""
        if endpoint == "POST /2/tweets":
            return create_kind(str(kwargs.get("text") or ""))
        return _BILLED.get(endpoint)

    def _report(self, kind: Billable, answer: Mapping[str, Any]) -> None:
        if self.usage_hook is None:
            return
        if kind is Billable.POST_READ:
            for read_kind, units in read_units(answer).items():
                if units:
                    self.usage_hook(read_kind, units)
        else:
            self.usage_hook(kind, 1)

    def _call(self, endpoint: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        kind = self._bill(endpoint, kwargs)
        if kind is not None and self.budget_gate is not None:
            self.budget_gate(kind)  # BudgetExceeded: nothing is sent
        try:
            answer = fn(*args, **kwargs)
        except (tweepy.TweepyException, requests.RequestException, ValueError) as err:
            translated = translate(err, endpoint, now=self._clock())
            if isinstance(translated, RateLimited) and translated.reset_at:
                self._limits.hit(endpoint, translated.reset_at)
            raise translated from err
        if not isinstance(answer, dict):
            raise MalformedPayload(f"{endpoint}: expected a JSON object")
        self._limits.clear(endpoint)
        if kind is not None:
            self._report(kind, answer)
        return answer

    def _read(self, endpoint: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        return with_read_retries(lambda: self._call(endpoint, fn, *args, **kwargs), retries=self.retries,
                                 backoff=self.backoff, sleep=self._sleep)

    def _need_write(self) -> None:
        if not self.can_write:
            raise AuthFailed("X write access needs user-context keys: set " + ", ".join(WRITE_KEYS))

    # ---- reading -----------------------------------------------------------------------------------

    def _walk(self, stream: str, state: Mapping[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
        """Page through one stream from its state; returns ``(pages, new state, more left)``."""
        endpoint = _STREAMS[stream]
        since, newest = state.get("since_id"), state.get("newest_id")
        params: dict[str, Any] = {"max_results": max(self.page_size, 10 if stream == "search" else 5),
                                  "expansions": list(nz.EXPANSIONS), "tweet_fields": list(nz.TWEET_FIELDS),
                                  "user_fields": list(nz.USER_FIELDS), "media_fields": list(nz.MEDIA_FIELDS)}
        if since:
            params["since_id"] = since

        def fetch(token: str | None) -> dict[str, Any]:
            if token:
                params["pagination_token" if stream == "mentions" else "next_token"] = token
            if stream == "mentions":
                return self._read(endpoint, self._client.get_users_mentions, self.user_id, **params)
            return self._read(endpoint, self._client.search_recent_tweets, nz.without_retweets(self.search_query),
                              **params)

        walk = Walk(fetch, lambda page: _meta(page).get("next_token"), cursor=state.get("next_token"),
                    max_pages=self.max_pages)
        pages: list[dict[str, Any]] = []
        for page in walk:
            meta = _meta(page)
            if walk.first and meta.get("newest_id"):
                newest = str(meta["newest_id"])  # first page of a walk: the newest post of the whole walk
            if page.get("data") is not None and not isinstance(page.get("data"), list):
                raise MalformedPayload(f"{endpoint}: 'data' is not a list")
            if (reason := nz.refusal(page)) is not None:
                raise PermanentFailure(f"{endpoint}: X answered with errors only: {reason}")
            pages.append(page)
        if walk.done:
            return pages, {"since_id": newest or since}, False
        return pages, {"since_id": since, "newest_id": newest, "next_token": walk.cursor}, True

    @staticmethod
    def _load(cursor: str | None) -> dict[str, Any]:
        return load_state(cursor, lambda old: {"mentions": {"since_id": old}} if old.isdigit() else {})

    def fetch(self, cursor: str | None) -> FetchResult:
        """Mentions (and search hits) newer than ``cursor``; see the module docstring for the cursor."""
        state = self._load(cursor)
        now = self._clock()
        pages, mention_state, more = self._walk("mentions", state.get("mentions") or {})
        mentions: dict[str, Mention] = {}
        skipped: list[str] = []
        rejected: dict[str, Rejected] = {}
        retweets = 0
        changes: dict[str, PlatformChange] = {}
        roots: dict[str, OwnPost] = {}

        def take(page: dict[str, Any], kind: str) -> None:
            nonlocal retweets
            read = nz.read_page(page, account=self.name, kind=kind, exclude_authors=[self.user_id])
            skipped.extend(read.skipped)
            retweets += read.retweets
            for ident, reason, link in read.rejected:
                rejected.setdefault(ident, Rejected(item_id=ident, reason=reason, permalink=link))
            for mention in read.mentions:
                mentions.setdefault(mention.uid, mention)  # a mention wins over the same post found by search
            for post_id, error in nz.deleted_references(page):
                uid = f"{Platform.X}:{post_id}"
                changes.setdefault(uid, PlatformChange(uid=uid, change="deleted", raw=error))
            for root in nz.city_roots(page, user_id=self.user_id):
                roots.setdefault(root.platform_id, root)

        for page in pages:
            take(page, "mention")
        new_state: dict[str, Any] = {"v": 1, "mentions": mention_state}
        if self.search_query:
            search_state = state.get("search") if state.get("query") == self.search_query else None
            search_state = search_state or {}
            if self._limits.until(_STREAMS["search"], now=now):
                new_state["search"] = search_state  # honour the search window; mentions go on meanwhile
            else:
                try:
                    pages, search_state, search_more = self._walk("search", search_state)
                except RateLimited as err:
                    log.warning("x search rate limited until %s; mentions still synced", err.reset_at)
                    pages, search_more = [], False
                for page in pages:
                    take(page, "search")
                new_state["search"] = search_state
                more = more or search_more
            new_state["query"] = self.search_query
        return FetchResult(mentions=list(mentions.values()), cursor=json.dumps(new_state, sort_keys=True),
                           skipped=skipped, changes=list(changes.values()), has_more=more,
                           rejected=list(rejected.values()), ignored={"retweets": retweets} if retweets else {},
                           own_posts=list(roots.values()))

    # ---- writing -----------------------------------------------------------------------------------

    @staticmethod
    def _target(mention: Mention) -> str:
        return str(mention.raw.get("id") or mention.platform_id)  # the latest version of an edited post

    def _created(self, answer: Mapping[str, Any], endpoint: str) -> Published:
        data = answer.get("data")
        if not isinstance(data, Mapping) or not data.get("id"):
            raise MalformedPayload(f"{endpoint}: no id in the answer")
        return Published(platform_id=str(data["id"]), permalink=nz.permalink(str(data["id"])))

    def reply(self, mention: Mention, text: str) -> Published:
        """Reply to the mention's post (its latest version) as the city's account."""
        self._need_write()
        endpoint = "POST /2/tweets"
        answer = self._call(endpoint, self._client.create_tweet, text=text,
                            in_reply_to_tweet_id=self._target(mention), user_auth=True)
        return self._created(answer, endpoint)

    def publish(self, text: str, *, scheduled_at: datetime | None = None,
                media: Any = ()) -> Published:
        """Post now; X has no native scheduling (the worker posts at the scheduled time)."""
        if scheduled_at is not None:
            raise Unsupported("X has no native scheduling: the publishing worker posts at the scheduled time")
        if media:
            raise Unsupported("media upload to X is not supported yet")
        self._need_write()
        endpoint = "POST /2/tweets"
        return self._created(self._call(endpoint, self._client.create_tweet, text=text, user_auth=True), endpoint)

    def _set_hidden(self, mention: Mention, hidden: bool) -> None:
        self._need_write()
        endpoint = "PUT /2/tweets/:id/hidden"
        fn = self._client.hide_reply if hidden else self._client.unhide_reply
        answer = self._call(endpoint, fn, self._target(mention), user_auth=True)
        data = answer.get("data")
        if not isinstance(data, Mapping) or data.get("hidden") is not hidden:
            raise MalformedPayload(f"{endpoint}: X did not confirm hidden={hidden}")

    def hide(self, mention: Mention) -> None:
        """Hide a reply in a conversation the city's account started."""
        self._set_hidden(mention, True)

    def unhide(self, mention: Mention) -> None:
        """Unhide a reply hidden with :meth:`hide`."""
        self._set_hidden(mention, False)

    def delete(self, platform_id: str) -> None:
        """Delete one of the city's own posts."""
        self._need_write()
        endpoint = "DELETE /2/tweets/:id"
        answer = self._call(endpoint, self._client.delete_tweet, platform_id, user_auth=True)
        data = answer.get("data")
        if not isinstance(data, Mapping) or data.get("deleted") is not True:
            raise MalformedPayload(f"{endpoint}: X did not confirm the deletion")

    # ---- health ------------------------------------------------------------------------------------

    def rate_limited_until(self) -> datetime | None:
        """The latest reset time among endpoints currently rate limited."""
        return self._limits.until()

    def health(self) -> Health:
        """Look the account up with the bearer token; never raises."""
        until = self.rate_limited_until()
        try:
            answer = self._call("GET /2/users/:id", self._client.get_user, id=self.user_id,
                                user_fields=["username", "name"])
        except RateLimited:
            return Health(ok=True, account=self.user_id, detail="rate limited",
                          rate_limited_until=self.rate_limited_until())
        except BudgetExceeded as err:
            return Health(ok=True, account=self.user_id, detail=str(err), rate_limited_until=until)
        except ConnectorError as err:
            return Health(ok=False, account=self.user_id, detail=f"{err.code}: {err}", rate_limited_until=until)
        data = found if isinstance(found := answer.get("data"), Mapping) else {}
        if not data.get("username"):
            return Health(ok=False, account=self.user_id, detail="account not found: check PARVIS_X_USER_ID",
                          rate_limited_until=until)
        account = f"@{data['username']}"
        detail = "read and write" if self.can_write else "read only: user-context keys missing"
        if until:
            detail += f"; rate limited until {until.isoformat()}"
        return Health(ok=True, account=account, detail=detail, rate_limited_until=until)


def _meta(page: Mapping[str, Any]) -> dict[str, Any]:
    meta = page.get("meta")
    return meta if isinstance(meta, dict) else {}


def from_settings(source: Settings | Callable[[str], Any], *, name: str = "x") -> XConnector:
    """Build from settings (or a ``get(key)`` of raw values); the user id may come from the access token."""
    settings = Settings.coerce(source)
    x = settings.x
    return XConnector(
        bearer_token=str(x.bearer_token), user_id=x.user_id or (x.access_token or "").partition("-")[0],
        search_query=x.search_query, consumer_key=x.consumer_key, consumer_secret=x.consumer_secret,
        access_token=x.access_token, access_token_secret=x.access_token_secret, base_url=x.api_base,
        name=name, **settings.transport.connector_kwargs())
