"""The Graph API client of the Facebook Page and Instagram connectors: one token on one object (a Page, an
Instagram professional account), through python-facebook-api (``pyfacebook``, docs/decisions/0030).

What both connectors get from it: the base URL and version (``PARVIS_GRAPH_API_BASE``,
``PARVIS_GRAPH_API_VERSION``); the token in an ``Authorization: Bearer`` header, never in a URL
(``ConnectorSession`` moves pyfacebook's ``access_token`` parameter), so it cannot leak through an exception
message, a log line or a stored paging link; every HTTP error status turned into our error before pyfacebook
parses it, and whatever pyfacebook or requests raise besides (connectors/graph/errors.py, with the platform's
permission hints); the API usage headers (``usage_pct``); which endpoints are rate limited until when; retries
of reads (``connectors.http.with_read_retries``; writes are never retried); and paging through
``paging.cursors.after`` while ``paging.next`` is there (:meth:`GraphClient.pages`, a ``connectors.paging.Walk``).

Endpoint labels name the owner object ``{page}`` (the Page, or the Instagram account) and any other id ``{id}``:
they key the rate-limit windows and the permission hints, and appear in error messages instead of ids.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from pyfacebook import GraphAPI
from pyfacebook.exceptions import PyFacebookException

from connectors.graph.errors import Hints, graph_error, translate, usage_percent
from connectors.graph.normalize import next_after
from connectors.graph.tokens import INSTAGRAM_BASE, RefreshedToken
from connectors.http import ConnectorSession, RateWindows, quiet_secret_loggers, transport_error, with_read_retries
from connectors.paging import Walk
from core.clock import Clock, utcnow
from core.errors import AuthFailed, ConnectorError, MalformedPayload, PermanentFailure, RateLimited, Unavailable

DEFAULT_BASE = "https://graph.facebook.com"
DEFAULT_VERSION = "v24.0"
ID = re.compile(r"\d+(_\d+)?")
REFRESH_ENDPOINT = "GET /refresh_access_token"


class GraphClient:
    """Graph calls for one owner object with one token (see the module docstring)."""

    def __init__(self, *, owner_id: str, token: str, version: str = DEFAULT_VERSION, base_url: str | None = None,
                 hints: Hints | None = None, retries: int = 2, backoff: float = 1.0, timeout: float = 20.0,
                 sleep: Callable[[float], None] = time.sleep, clock: Clock = utcnow) -> None:
        quiet_secret_loggers()
        self.owner_id = str(owner_id)
        self.version = version if version.startswith("v") else f"v{version}"
        self.hints = dict(hints or {})
        self.retries, self.backoff, self._sleep, self._clock = retries, backoff, sleep, clock
        base = (base_url or DEFAULT_BASE).rstrip("/")
        self.api = GraphAPI(access_token=token, version=self.version, base_url=base + "/", sleep_on_rate_limit=False)
        self.session = ConnectorSession(default_host=base, timeout=timeout, token_param="access_token")
        self.session.hooks["response"] = [self._check_response]
        self.api.session = self.session
        self.limits = RateWindows(clock)
        self.usage_pct = 0.0

    # ---- transport ---------------------------------------------------------------------------------

    def label(self, object_id: str) -> str:
        """``{page}`` for the owner object, ``{id}`` for any other."""
        return "{page}" if object_id == self.owner_id else "{id}"

    def _endpoint(self, request: requests.PreparedRequest) -> str:
        """``GET /{page}/feed``-style label of a request (ids masked), for errors and per-endpoint limits."""
        path = urlsplit(request.url or "").path.split("/", 2)[-1] if request.url else ""
        parts = ["{page}" if p == self.owner_id else ("{id}" if ID.fullmatch(p) else p) for p in path.split("/")]
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
                              now=self._clock(), hints=self.hints)

    def call(self, endpoint: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        """One Graph call through pyfacebook, errors translated (the hook has already checked the status)."""
        try:
            answer = fn(*args, **kwargs)
        except RateLimited as err:
            self.limits.hit(err.endpoint or endpoint, err.reset_at)
            raise
        except ConnectorError:
            raise
        except (PyFacebookException, ValueError, KeyError, requests.RequestException) as err:
            raise translate(err, endpoint, now=self._clock(), hints=self.hints) from err
        if not isinstance(answer, dict):
            raise MalformedPayload(f"{endpoint}: expected a JSON object")
        self.limits.clear(endpoint)
        return answer

    def _read(self, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return with_read_retries(call, retries=self.retries, backoff=self.backoff, sleep=self._sleep)

    # ---- reading -----------------------------------------------------------------------------------

    def get(self, object_id: str, edge: str, params: dict[str, Any]) -> dict[str, Any]:
        """``GET /{object-id}/{edge}`` with ``params``, retried when Graph is unavailable."""
        endpoint = f"GET /{self.label(object_id)}/{edge}"
        return self._read(lambda: self.call(endpoint, self.api.get_connection, object_id, edge, **params))

    def pages(self, object_id: str, edge: str, params: dict[str, Any], *, max_pages: int) -> Walk[dict[str, Any]]:
        """The pages of ``GET /{object-id}/{edge}``, following ``paging.cursors.after`` (at most ``max_pages``)."""
        return Walk(lambda after: self.get(object_id, edge, {**params, **({"after": after} if after else {})}),
                    next_after, max_pages=max_pages)

    def get_object(self, object_id: str, fields: str, *, endpoint: str = "GET /{id}",
                   retry: bool = True) -> dict[str, Any]:
        """``GET /{object-id}?fields=``, retried when Graph is unavailable unless ``retry`` is false."""
        call = lambda: self.call(endpoint, self.api.get_object, object_id, fields=fields)  # noqa: E731
        return self._read(call) if retry else call()

    def debug_token(self) -> dict[str, Any]:
        """``GET /debug_token`` of this client's own token (its expiry, validity and scopes; see
        connectors/graph/tokens.py), retried when Graph is unavailable."""
        endpoint = "GET /debug_token"
        return self._read(lambda: self.call(endpoint, self.api.debug_token, self.api.access_token))

    def set_token(self, token: str) -> None:
        """Use ``token`` from now on (a refreshed token)."""
        self.api.access_token = token

    # ---- writing (never retried: the write may have been done) -------------------------------------

    def post(self, endpoint: str, object_id: str, edge: str | None, data: dict[str, Any]) -> dict[str, Any]:
        """``POST /{object-id}[/{edge}]`` with the form ``data``."""
        return self.call(endpoint, self.api.post_object, object_id, edge, data=data)

    def post_confirmed(self, endpoint: str, object_id: str, data: dict[str, Any], *, who: str) -> None:
        """``POST /{object-id}`` (e.g. hiding a comment); ``MalformedPayload`` unless Graph answers ``success``."""
        if self.post(endpoint, object_id, None, data).get("success") is not True:
            raise MalformedPayload(f"{endpoint}: {who} did not confirm")

    def delete(self, endpoint: str, object_id: str, edge: str | None = None,
               args: dict[str, Any] | None = None) -> dict[str, Any]:
        """``DELETE /{object-id}[/{edge}]`` (with query ``args``)."""
        return self.call(endpoint, self.api.delete_object, object_id, edge, **({"args": args} if args else {}))

    def delete_confirmed(self, object_id: str) -> None:
        """``DELETE /{object-id}`` (a post or a comment); ``MalformedPayload`` unless Graph answers ``success``."""
        answer = self.delete("DELETE /{id}", object_id)
        if answer.get("success") is not True:
            raise MalformedPayload("DELETE /{id}: Facebook did not confirm the deletion")

    # ---- state -------------------------------------------------------------------------------------

    def rate_limited_until(self) -> datetime | None:
        """The latest reset time among endpoints currently rate limited."""
        return self.limits.until()


def refresh_instagram_token(token: str, *, base_url: str = INSTAGRAM_BASE, timeout: float = 20.0,
                            now: datetime) -> RefreshedToken:
    """Refresh an Instagram long-lived token (errors name the endpoint, never the URL: it carries the token)."""
    try:
        response = requests.get(f"{base_url.rstrip('/')}/refresh_access_token",
                                params={"grant_type": "ig_refresh_token", "access_token": token}, timeout=timeout)
        body = response.json()
    except (requests.RequestException, ValueError) as err:
        raise transport_error(err, REFRESH_ENDPOINT) from None
    if response.status_code >= 400 or not isinstance(body, dict) or "error" in body:
        found = body.get("error") if isinstance(body, dict) else None
        error: dict[str, Any] = found if isinstance(found, dict) else {}
        message = f"{REFRESH_ENDPOINT}: HTTP {response.status_code} (#{error.get('code')}) " \
                  f"{str(error.get('message', ''))[:200]}"
        if error.get("code") in (102, 190) or response.status_code == 401:
            raise AuthFailed(message)
        raise (Unavailable if response.status_code >= 500 else PermanentFailure)(message)
    new, expires_in = body.get("access_token"), body.get("expires_in")
    if not isinstance(new, str) or not new or not isinstance(expires_in, int):
        raise MalformedPayload(f"{REFRESH_ENDPOINT}: no access_token/expires_in in the answer")
    return RefreshedToken(access_token=new, expires_at=now + timedelta(seconds=expires_in))
