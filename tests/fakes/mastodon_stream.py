"""A fake of Mastodon's streaming server (``GET /api/v1/streaming/user/notification``), run by uvicorn in a thread.

It answers ``text/event-stream`` in the real format: ``event: notification`` + ``data: <Notification JSON>`` and a
blank line per event, and a ``:thump`` heartbeat every ``heartbeat_s``. The token must come as ``Authorization:
Bearer``. :meth:`push` sends a notification to every open connection, :meth:`drop` closes them all (the client
must reconnect), ``refuse`` = N answers the next N connections 503 (a streaming server restarting).
Notifications are built by :class:`tests.fakes.FakeMastodonApi` (``fake.mention(...)``), so the same mention can
be read by polling and by the stream.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

_DROP = object()


class FakeMastodonStream:
    """The streaming server's state: open connections (one queue each), how many were made."""

    def __init__(self, *, token: str = "MASTO-TOKEN", heartbeat_s: float = 5.0) -> None:
        self.token, self.heartbeat_s = token, heartbeat_s
        self.connections = 0  # connections answered 200
        self.refuse = 0
        self._queues: list[asyncio.Queue[Any]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # ---- control (any thread) ------------------------------------------------------------------------

    @property
    def open_connections(self) -> int:
        """Connections currently open."""
        return len(self._queues)

    def push(self, notification: dict[str, Any], *, event: str = "notification") -> int:
        """Send one event to every open connection; returns how many got it."""
        text = f"event: {event}\ndata: {json.dumps(notification, ensure_ascii=False)}\n\n"
        return self._each(text)

    def drop(self) -> int:
        """Close every open connection."""
        return self._each(_DROP)

    def _each(self, item: Any) -> int:
        queues = list(self._queues)
        assert self._loop is not None
        for queue in queues:
            self._loop.call_soon_threadsafe(queue.put_nowait, item)
        return len(queues)

    def wait_connected(self, count: int = 1, timeout: float = 10.0) -> bool:
        """Wait until ``count`` connections were answered and one is open."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.connections >= count and self._queues:
                return True
            time.sleep(0.01)
        return False

    # ---- HTTP ----------------------------------------------------------------------------------------

    async def _stream(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return PlainTextResponse('{"error":"Error: Invalid access token"}', status_code=401)
        if self.refuse:
            self.refuse -= 1
            return PlainTextResponse('{"error":"Service unavailable"}', status_code=503)
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self._queues.append(queue)
        self.connections += 1

        async def body() -> AsyncIterator[str]:
            try:
                yield ":)\n"  # Mastodon's streaming server opens with a comment
                while True:
                    try:
                        item = await asyncio.wait_for(queue.get(), timeout=self.heartbeat_s)
                    except TimeoutError:
                        yield ":thump\n"
                        continue
                    if item is _DROP:
                        return
                    yield item
            finally:
                if queue in self._queues:
                    self._queues.remove(queue)

        return StreamingResponse(body(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "Transfer-Encoding": "chunked"})

    # ---- server --------------------------------------------------------------------------------------

    def start(self) -> str:
        """Serve on a free port of 127.0.0.1; returns the base URL."""
        app = Starlette(routes=[Route("/api/v1/streaming/user/notification", self._stream)])
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            loop.run_until_complete(self._server.serve(sockets=[sock]))  # type: ignore[union-attr]
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-mastodon-stream", daemon=True)
        self._thread.start()
        end = time.monotonic() + 10
        while not (self._server.started and self._loop) and time.monotonic() < end:
            time.sleep(0.01)
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    def stop(self) -> None:
        """Close the connections and stop the server."""
        if self._server is None:
            return
        if self._loop is not None:
            self.drop()
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(5)
        self._server = None


def notification_for(api: Any, status: dict[str, Any]) -> dict[str, Any]:
    """The ``mention`` notification :class:`tests.fakes.FakeMastodonApi` holds for ``status`` (what the stream
    sends for it)."""
    return next(n for n in api.notifications.values() if (n.get("status") or {}).get("id") == status["id"])
