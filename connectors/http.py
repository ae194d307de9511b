"""The HTTP seam shared by the real-platform connectors: host rewrite, timeouts, token hygiene, read retries.

Client libraries (tweepy, pyfacebook) accept a ``requests.Session``; :class:`ConnectorSession` is the one we
give them. It points the library at a configurable base URL (a fake server in tests, a proxy in staging),
puts a default timeout on every call (tweepy sets none), remembers the last response's headers (rate-limit
usage) and can move a query-string token into the ``Authorization`` header so that it never appears in a URL,
an exception message or a log line. :class:`EventStream` reads a streaming API (Server-Sent Events, httpx).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import requests

from core.errors import ConnectorError, MalformedPayload, Unavailable

T = TypeVar("T")

# Libraries that log credentials at DEBUG level (tweepy logs request headers, oauthlib the signed params).
_CHATTY_LOGGERS = ("tweepy", "oauthlib", "requests_oauthlib")


def quiet_secret_loggers() -> None:
    """Keep libraries that log tokens at DEBUG from doing so, even when the root logger is at DEBUG."""
    for name in _CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < logging.INFO:
            logger.setLevel(logging.INFO)


class ConnectorSession(requests.Session):
    """A ``requests.Session`` that rewrites a library's hard-coded host and applies our transport rules."""

    def __init__(self, *, default_host: str, base_url: str | None = None, timeout: float = 20.0,
                 token_param: str | None = None) -> None:
        super().__init__()
        self.default_host = default_host.rstrip("/")
        self.base_url = (base_url or default_host).rstrip("/")
        self.timeout = timeout
        self.token_param = token_param  # e.g. "access_token": moved from params/body to a Bearer header
        self.last_headers: Mapping[str, str] = {}
        self.last_status: int | None = None

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        """Send one request through the configured host, with a timeout and no token in the URL."""
        method = method.decode() if isinstance(method, bytes) else method
        url = url.decode() if isinstance(url, bytes) else url
        if self.base_url != self.default_host and url.startswith(self.default_host):
            url = self.base_url + url[len(self.default_host):]
        kwargs.setdefault("timeout", self.timeout)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        if self.token_param:
            token = None
            for key in ("params", "data"):
                values = kwargs.get(key)
                if isinstance(values, dict) and self.token_param in values:
                    values = dict(values)
                    token = values.pop(self.token_param) or token
                    kwargs[key] = {k: v for k, v in values.items() if v is not None}
            if token:
                headers = dict(kwargs.get("headers") or {})
                headers["Authorization"] = f"Bearer {token}"
                kwargs["headers"] = headers
        response = super().request(method, url, *args, **kwargs)
        self.last_headers = response.headers
        self.last_status = response.status_code
        return response


class RateWindows:
    """Until when each endpoint is rate limited, from the ``RateLimited`` errors met (what ``health()`` reports)."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._until: dict[str, datetime] = {}

    def hit(self, endpoint: str, reset_at: float | None) -> None:
        """``endpoint`` is rate limited until ``reset_at`` (epoch seconds)."""
        self._until[endpoint] = datetime.fromtimestamp(reset_at or 0, UTC)

    def clear(self, endpoint: str) -> None:
        """A call to ``endpoint`` went through."""
        self._until.pop(endpoint, None)

    def until(self, endpoint: str | None = None, *, now: datetime | None = None) -> datetime | None:
        """When ``endpoint`` opens again if it is rate limited now; None: the latest reset of all endpoints."""
        now = now or self._clock()
        active = [until for name, until in self._until.items() if until > now and endpoint in (None, name)]
        return max(active) if active else None


def transport_error(err: Exception, endpoint: str) -> ConnectorError:
    """What a platform's ``errors.translate`` maps last, once its SDK's own errors are handled: an answer that is
    not JSON → MalformedPayload; a network failure or timeout (requests) → Unavailable; else a ConnectorError
    naming the type (never the message: it may quote the request)."""
    if isinstance(err, ValueError | KeyError):  # invalid JSON (requests' JSONDecodeError too), or a missing key
        return MalformedPayload(f"{endpoint}: the answer is not valid JSON")
    if isinstance(err, requests.RequestException):
        return Unavailable(f"{endpoint}: {type(err).__name__} (network)")
    return ConnectorError(f"{endpoint}: {type(err).__name__}")


def with_read_retries(call: Callable[[], T], *, retries: int, backoff: float,
                      sleep: Callable[[float], None] = time.sleep) -> T:
    """Run an idempotent read, retrying ``Unavailable`` up to ``retries`` times with exponential backoff.

    Writes are never retried here: after a timeout the platform may have published, and only the caller
    (the publishing worker) can decide to verify before trying again.
    """
    attempt = 0
    while True:
        try:
            return call()
        except Unavailable:
            if attempt >= retries:
                raise
            sleep(backoff * (2 ** attempt))
            attempt += 1



# ---- Server-Sent Events (a platform's streaming API: Mastodon's user stream) -------------------------------


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One SSE block: ``event`` (``notification``, ``delete``...; ``heartbeat`` for a comment line, ``connected``
    once the server answered 200), its data (parsed as JSON when it is JSON)."""

    event: str
    data: Any = None


def parse_sse(lines: Iterable[str]) -> Iterator[StreamEvent]:
    """SSE blocks of ``lines`` (without their line ends)."""
    event, data = "", list[str]()
    for line in lines:
        if line == "":
            if data or event:
                text = "\n".join(data)
                try:
                    value: Any = json.loads(text) if text else None
                except ValueError:
                    value = text
                yield StreamEvent(event or "message", value)
            event, data = "", []
        elif line.startswith(":"):
            yield StreamEvent("heartbeat")
        else:
            name, _, value_text = line.partition(":")
            value_text = value_text[1:] if value_text.startswith(" ") else value_text
            if name == "event":
                event = value_text
            elif name == "data":
                data.append(value_text)


class EventStream:
    """One ``text/event-stream`` connection at a time (httpx); :meth:`close` or :meth:`drop`, from another thread,
    ends it. ``check(status, text)`` raises the platform's error for an answer other than 200. The token goes in
    ``headers`` (never the URL)."""

    def __init__(self, url: str, *, headers: Mapping[str, str], check: Callable[[int, str], None],
                 timeout: float = 10.0, read_timeout: float = 45.0) -> None:
        self.url, self._headers, self._check = url, {**headers, "Accept": "text/event-stream"}, check
        self._timeout = httpx.Timeout(timeout, read=read_timeout)
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"EventStream(url={self.url!r})"

    def events(self) -> Iterator[StreamEvent]:
        """Connect and yield ``StreamEvent("connected")`` then the events, until the connection ends (returns)
        or fails (``Unavailable``, or what ``check`` raises)."""
        with self._lock:
            if self._closed:
                return
            client = self._client = httpx.Client(timeout=self._timeout)
        try:
            with client.stream("GET", self.url, headers=self._headers) as response:
                if response.status_code != 200:
                    response.read()
                    self._check(response.status_code, response.text[:200])
                    raise Unavailable(f"stream answered {response.status_code}")
                yield StreamEvent("connected")
                yield from parse_sse(response.iter_lines())
        except httpx.HTTPError as err:
            if self._closed:
                return
            raise Unavailable(f"stream: {type(err).__name__}: {err}") from err
        finally:
            with self._lock:
                self._client = None
            client.close()

    def close(self) -> None:
        """End the current connection and refuse new ones."""
        with self._lock:
            self._closed = True
            client = self._client
        if client is not None:
            client.close()

    def drop(self) -> None:
        """End the current connection only (a reconnect follows)."""
        with self._lock:
            client = self._client
        if client is not None:
            client.close()
