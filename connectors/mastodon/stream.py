"""Mastodon's streaming API, user notifications (``GET /api/v1/streaming/user/notification``), read as
Server-Sent Events through the shared transport (:class:`connectors.http.EventStream`).

The streaming server sends ``event: notification`` + ``data: <Notification JSON>`` blocks separated by a blank line,
and a heartbeat comment (``:thump``) every few seconds; a connection silent for :data:`READ_TIMEOUT_S` is taken
as dead. The streaming host may differ from the instance (``urls.streaming`` of ``/api/v2/instance``;
``PARVIS_MASTODON_STREAMING_URL``). The token goes in the ``Authorization`` header, never in the URL.
What to do with the events, reconnecting and the fall-back to polling are the worker's
(services/connections/streaming.py).
"""

from __future__ import annotations

from connectors.http import EventStream, StreamEvent, parse_sse
from core.errors import AuthFailed, MalformedPayload, RateLimited, Unavailable

__all__ = ["PATH", "READ_TIMEOUT_S", "EventStream", "StreamEvent", "check", "parse_sse", "user_stream"]

PATH = "/api/v1/streaming/user/notification"
READ_TIMEOUT_S = 45.0  # Mastodon's heartbeat comes every 15 s or so


def check(status: int, text: str) -> None:
    """Raise the error an answer other than 200 means."""
    if status in (401, 403):
        raise AuthFailed(f"Mastodon stream refused the token ({status})")
    if status == 429:
        raise RateLimited("Mastodon stream: too many connections (429)")
    if status >= 500 or status in (404, 408):
        raise Unavailable(f"Mastodon stream answered {status}: {text}")
    raise MalformedPayload(f"Mastodon stream answered {status}: {text}")


def user_stream(base_url: str, access_token: str, *, read_timeout: float = READ_TIMEOUT_S) -> EventStream:
    """The user notification stream of the account behind ``access_token``."""
    return EventStream(base_url.rstrip("/") + PATH, headers={"Authorization": f"Bearer {access_token}"},
                       check=check, read_timeout=read_timeout)
