"""Mastodon's streaming API, user notifications (``GET /api/v1/streaming/user/notification``), read as
Server-Sent Events with httpx.

The streaming server sends ``event: notification`` + ``data: <Notification JSON>`` blocks separated by a blank line,
and a heartbeat comment (``:thump``) every few seconds; a connection silent for :data:`READ_TIMEOUT_S` is taken
as dead. The streaming host may differ from the instance (``urls.streaming`` of ``/api/v2/instance``;
``PARVIS_MASTODON_STREAMING_URL``). The token goes in the ``Authorization`` header, never in the URL.
What to do with the events, reconnecting and the fall-back to polling are the worker's
(services/connections/streaming.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from core.errors import AuthFailed, MalformedPayload, RateLimited, Unavailable

PATH = "/api/v1/streaming/user/notification"
READ_TIMEOUT_S = 45.0  # Mastodon's heartbeat comes every 15 s or so


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One SSE block: ``event`` (``notification``, ``delete``...; ``heartbeat`` for a comment line), its data."""

    event: str
    data: Any = None


def parse_sse(lines: Iterable[str]) -> Iterator[StreamEvent]:
    """SSE blocks of ``lines`` (without their line ends). ``data`` is parsed as JSON when it is JSON."""
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


class UserStream:
    """One connection at a time to the user notification stream; :meth:`close` (from another thread) ends it."""

    def __init__(self, *, base_url: str, access_token: str, timeout: float = 10.0,
                 read_timeout: float = READ_TIMEOUT_S) -> None:
        self.url = base_url.rstrip("/") + PATH
        self._token = access_token
        self._timeout = httpx.Timeout(timeout, read=read_timeout)
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"UserStream(url={self.url!r})"

    def events(self) -> Iterator[StreamEvent]:
        """Connect and yield the events until the connection ends (returns) or fails (raises ``Unavailable``,
        ``AuthFailed``, ``RateLimited``). The first event is ``StreamEvent("connected")`` once the server
        answered 200."""
        with self._lock:
            if self._closed:
                return
            client = self._client = httpx.Client(timeout=self._timeout)
        try:
            headers = {"Authorization": f"Bearer {self._token}", "Accept": "text/event-stream"}
            with client.stream("GET", self.url, headers=headers) as response:
                _check(response)
                yield StreamEvent("connected")
                yield from parse_sse(response.iter_lines())
        except httpx.HTTPError as err:
            if self._closed:
                return
            raise Unavailable(f"Mastodon stream: {type(err).__name__}: {err}") from err
        finally:
            with self._lock:
                self._client = None
            client.close()

    def close(self) -> None:
        """End the current connection and refuse new ones (the worker stops)."""
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


def _check(response: httpx.Response) -> None:
    if response.status_code == 200:
        return
    response.read()
    text = response.text[:200]
    if response.status_code in (401, 403):
        raise AuthFailed(f"Mastodon stream refused the token ({response.status_code})")
    if response.status_code == 429:
        raise RateLimited("Mastodon stream: too many connections (429)")
    if response.status_code >= 500 or response.status_code in (404, 408):
        raise Unavailable(f"Mastodon stream answered {response.status_code}: {text}")
    raise MalformedPayload(f"Mastodon stream answered {response.status_code}: {text}")
