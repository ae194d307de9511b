"""Live streams: the worker holds Mastodon's user notification stream in a background thread.

:class:`StreamSupervisor` runs one thread per streamed connector. The thread connects
(connectors/mastodon/stream.py), stores each mention it receives through the normal ingest path
(:func:`services.connections.ingest.store_pushed`: an item that also comes by polling is stored once), and on any
failure or end of the connection waits and reconnects with exponential back-off (:data:`BACKOFF_START_S` doubling
to :data:`BACKOFF_MAX_S`, with jitter; reset once connected). Its state (``connecting``, ``connected``,
``reconnecting`` since when, last event, last error) is kept in memory for the worker and in
``realtime_channels`` for the Connexions page.

Polling stays the safety net: :meth:`StreamSupervisor.poll_due` says when the connector's normal sync should run:
at its usual interval while the stream is down, every ``stream_poll_s`` while it is up. The worker checks the
thread each :data:`CHECK_EVERY_S` and starts it again if it died (console/jobs/streams.py).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlite_utils import Database

from connectors.base import FetchResult
from core.clock import Clock, utcnow
from core.db import open_db, write_transaction
from core.errors import AuthFailed
from core.repo import realtime as rt
from services.connections.ingest import ScoreFn, store_pushed

log = logging.getLogger(__name__)

BACKOFF_START_S = 1.0
BACKOFF_MAX_S = 300.0
AUTH_BACKOFF_S = 900.0  # a refused token: the sync shows « Reconnexion nécessaire »; try again rarely
CHECK_EVERY_S = 5


class _Events(Protocol):
    def events(self) -> Any: ...
    def close(self) -> None: ...
    def drop(self) -> None: ...


class Streamable(Protocol):
    """A connector with a user stream (connectors/mastodon/connector.py)."""

    name: str

    def user_stream(self) -> Any: ...
    def from_stream_notification(self, data: Any) -> FetchResult: ...


@dataclass(frozen=True, slots=True)
class StreamStatus:
    """What the worker knows of a stream now."""

    state: str  # connecting, connected, reconnecting, stopped
    since: datetime
    last_event_at: datetime | None = None
    error: str = ""
    events: int = 0


def channel_name(connector_name: str) -> str:
    """The ``realtime_channels`` name of a connector's stream."""
    return f"stream:{connector_name}"


def backoff_s(failures: int, *, start: float = BACKOFF_START_S, cap: float = BACKOFF_MAX_S,
              rand: Callable[[], float] = random.random) -> float:
    """The wait before reconnect number ``failures`` (1, 2...): ``start · 2^(failures-1)`` capped, ±20 % jitter."""
    base = min(cap, start * 2 ** max(0, failures - 1))
    return base * (0.8 + 0.4 * rand())


class StreamSupervisor:
    """One streamed connector's background thread (see the module docstring)."""

    def __init__(self, db_path: str | Path, connector: Streamable, *, poll_every_s: float, stream_poll_s: float,
                 clock: Clock = utcnow, score: ScoreFn | None = None, backoff_start_s: float = BACKOFF_START_S,
                 backoff_max_s: float = BACKOFF_MAX_S) -> None:
        self.db_path, self.connector, self.clock, self.score = db_path, connector, clock, score
        self.poll_every_s, self.stream_poll_s = poll_every_s, stream_poll_s
        self.backoff_start_s, self.backoff_max_s = backoff_start_s, backoff_max_s
        self.status = StreamStatus(state="stopped", since=clock())
        self.connects = 0  # successful connections (a test, the bench)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stream: _Events | None = None
        self._lock = threading.Lock()
        self._last_poll = 0.0  # time.monotonic() of the last poll the gate let through

    # ---- the worker's side ---------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether the stream is up now."""
        return self.status.state == "connected"

    def ensure_running(self) -> bool:
        """Start the thread if it is not running (first call, or it died); True when it was (re)started."""
        if self._stop.is_set() or (self._thread is not None and self._thread.is_alive()):
            return False
        if self._thread is not None:
            log.warning("stream %s: its thread had stopped; starting it again", self.connector.name)
        self._thread = threading.Thread(target=self._run, name=f"stream-{self.connector.name}", daemon=True)
        self._thread.start()
        return True

    def poll_due(self) -> bool:
        """Whether the connector's polling should run now: always while the stream is down, every
        ``stream_poll_s`` while it is up (the safety net)."""
        now = time.monotonic()
        every = self.stream_poll_s if self.connected else self.poll_every_s
        if now - self._last_poll >= every - 0.5:
            self._last_poll = now
            return True
        return False

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread (the worker stops)."""
        self._stop.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.close()
        if self._thread is not None:
            self._thread.join(timeout)

    def drop(self) -> None:
        """Close the current connection (a test, the bench): the thread reconnects."""
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.drop()

    # ---- the thread ----------------------------------------------------------------------------------

    def _set(self, db: Database, state: str, *, error: str = "") -> None:
        now = self.clock()
        since = self.status.since if state == self.status.state else now
        try:
            with write_transaction(db):
                rt.set_channel_state(db, channel_name(self.connector.name), kind="mastodon-stream", state=state,
                                     now=now, detail=error or None)
        except Exception:  # noqa: BLE001 - the state on the Connexions page must not stop the stream
            log.exception("stream %s: could not record its state", self.connector.name)
        self.status = StreamStatus(state=state, since=since, last_event_at=self.status.last_event_at, error=error,
                                   events=self.status.events)

    def _run(self) -> None:
        db = open_db(self.db_path)
        failures = 0
        try:
            while not self._stop.is_set():
                self._set(db, "connecting" if failures == 0 else "reconnecting", error=self.status.error)
                stream = self.connector.user_stream()
                with self._lock:
                    self._stream = stream
                wait = 0.0
                try:
                    for event in stream.events():
                        if self._stop.is_set():
                            break
                        if event.event == "connected":
                            failures = 0
                            self.connects += 1
                            self._set(db, "connected")
                            log.info("stream %s: connected", self.connector.name)
                        elif event.event == "notification":
                            self._store(db, event.data)
                    error = "connection closed by the server"
                except AuthFailed as err:
                    error, wait = f"{err.code}: {err}", AUTH_BACKOFF_S
                except Exception as err:  # noqa: BLE001 - any failure of one connection: reconnect
                    error = f"{getattr(err, 'code', type(err).__name__)}: {err}"
                finally:
                    with self._lock:
                        self._stream = None
                    stream.close()
                if self._stop.is_set():
                    break
                failures += 1
                wait = wait or backoff_s(failures, start=self.backoff_start_s, cap=self.backoff_max_s)
                log.warning("stream %s: %s; reconnecting in %.1f s (polling runs meanwhile)", self.connector.name,
                            error, wait)
                self._set(db, "reconnecting", error=error)
                self._stop.wait(wait)
            self._set(db, "stopped")
        finally:
            db.close()

    def _store(self, db: Database, data: Any) -> None:
        now = self.clock()
        fetched = self.connector.from_stream_notification(data)
        with write_transaction(db):
            if fetched.mentions or fetched.skipped:
                store_pushed(db, self.connector.name, fetched, now=now, score=self.score,
                             platform=_platform(self.connector))
            rt.channel_event(db, channel_name(self.connector.name), now=now)
        self.status = StreamStatus(state=self.status.state, since=self.status.since, last_event_at=now,
                                   error=self.status.error, events=self.status.events + 1)


def _platform(connector: Any) -> str:
    """The platform a stream's connector reads ('' for a stand-in without ``info``: nothing is listed then)."""
    info = getattr(connector, "info", None)
    return str(getattr(info, "platform", "") or "")


def channel_states(db: Database) -> list[rt.ChannelState]:
    """Every pushed channel's recorded state (the Connexions page)."""
    return rt.channel_states(db)
