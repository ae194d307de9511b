"""``python -m console bench realtime``: seconds from an event on the platform to the item in the inbox.

Everything runs for real on 127.0.0.1 except the platforms, which are the tests' fakes (``tests/fakes``; a
developer tool, like ``bench sync``): the fake Graph API (Facebook Page), the fake Mastodon REST API and its fake
streaming server (``text/event-stream``, real event format, heartbeats). Parvis runs as in production: the ASGI
routes (``/webhooks/meta``, served by uvicorn) and the real worker loop (console/worker.py ``run``, all its jobs,
the scorer of the settings) in a thread, on a fresh database.

- **webhook**: a comment is created on the fake Page, then Meta's signed ``feed`` delivery is POSTed to
  ``/webhooks/meta`` (and POSTed again, as Meta retries: the replay must change nothing); latency = comment
  created → the comment is in the inbox query (``InboxQuery(platforms=("facebook",), order="newest")``), polled
  every 5 ms.
- **stream**: a mention is created on the fake Mastodon and its notification pushed on the open stream; same end.
- **polling**: the safety net, measured without the stream and webhooks: a comment is created, the next sync pass
  of the Facebook connector comes after a wait drawn uniformly in ``[0, poll_interval)`` (not slept: added, the
  interval being 60 s by default), and the pass itself is run and timed for real.
- **duplicates**: at the end every connector is polled once more (each item then came both ways); duplicates =
  inbox rows beyond one per created event (same text counted once).

Polling latency waits on ``PARVIS_SYNC_INTERVAL_S``; webhook and stream latency do not: their p95 is the target
(≤ 5 s) of issue #19.
"""

from __future__ import annotations

import asyncio
import random
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console.bench.stats import percentile
from core import repo
from core.config import Settings
from core.db import open_db
from core.repo.inbox import InboxQuery
from core.settings_platforms import GraphSettings, MastodonSettings
from core.settings_schema import SyncSettings

SECRET = "bench-app-secret"
VERIFY = "bench-verify-token"
VISIBLE_TIMEOUT_S = 30.0



@contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free port of 127.0.0.1, in a thread; yields the base URL."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    end = time.monotonic() + 10
    while not server.started and time.monotonic() < end:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


def _visible(db: Any, platform: str, uid: str) -> bool:
    items = repo.list_inbox(db, InboxQuery(platforms=(platform,), order="newest", limit=20))
    return any(i.uid == uid for i in items)


def _wait_visible(db: Any, platform: str, uid: str, started: float) -> float | None:
    while time.perf_counter() - started < VISIBLE_TIMEOUT_S:
        if _visible(db, platform, uid):
            return time.perf_counter() - started
        time.sleep(0.005)
    return None


def run(*, events: int = 50, poll_events: int = 20, poll_interval_s: float = 60.0, seed: int = 19,
        score: Callable[..., Any] | None = None) -> dict[str, Any]:
    """Measure the three ways in (see the module docstring); returns the figures."""
    import httpx
    from starlette.applications import Starlette

    from connectors.facebook.connector import FacebookConnector
    from connectors.mastodon.connector import MastodonConnector
    from console import worker
    from console.web.routes import parvis_routes
    from services.connections.ingest import sync_connector
    from tests.fakes import FakeGraphApi, FakeMastodonApi
    from tests.fakes.base import serve
    from tests.fakes.mastodon_stream import FakeMastodonStream, notification_for
    from tests.fakes.meta_webhooks import body_and_headers, feed_comment

    rng = random.Random(seed)
    out: dict[str, Any] = {"events": events, "poll_events": poll_events, "poll_interval_s": poll_interval_s}
    with tempfile.TemporaryDirectory(prefix="parvis-bench-realtime-") as tmp:
        db_path = Path(tmp) / "parvis.db"
        settings = Settings(data_dir=Path(tmp), db_path=db_path, values={
            GraphSettings.key("app_secret"): SECRET, GraphSettings.key("verify_token"): VERIFY,
            SyncSettings.key("interval_s"): "3600", MastodonSettings.key("stream_poll_s"): "3600"})
        db = open_db(db_path)
        graph, masto, live = FakeGraphApi(), FakeMastodonApi(), FakeMastodonStream(heartbeat_s=15)
        live.start()
        try:
            with serve(graph) as (_, graph_url), serve(masto) as (_, masto_url), \
                    serve_asgi(Starlette(routes=parvis_routes(settings))) as web_url:
                fb = FacebookConnector(page_id=graph.page_id, page_token=graph.token, base_url=graph_url,
                                       version=graph.version, backoff=0)
                mc = MastodonConnector(base_url=masto_url, access_token=masto.token, streaming_url=live.base_url,
                                       backoff=0)
                post = graph.add_post("Alerte météo : vigilance orange inondations", created_at=datetime.now(UTC))
                stop = threading.Event()
                loop = threading.Thread(target=worker.run, args=(settings, [fb, mc]),
                                        kwargs={"stop": stop, "score": score}, daemon=True)
                loop.start()
                try:
                    if not live.wait_connected(1, timeout=30):
                        raise RuntimeError("the worker did not open the Mastodon stream")
                    hooks, replays = _webhooks(db, graph, post, web_url, events, rng, httpx, feed_comment,
                                               body_and_headers)
                    streamed = _stream(db, masto, live, events, rng, notification_for)
                finally:
                    stop.set()
                    loop.join(30)
                polled = _polling(db, graph, post, fb, poll_events, poll_interval_s, rng, sync_connector, score)
                for connector in (fb, mc):  # every item now also comes by polling
                    sync_connector(db, connector, score=score)
                created = 2 * events + poll_events  # comments and mentions (the Page's own post is not one)
                texts = [i.mention.text for i in repo.list_inbox(db, InboxQuery(open_only=False, limit=10**6))]
                duplicates = len(texts) - len(set(texts)) + max(0, len(set(texts)) - created)
        finally:
            live.stop()
            db.close()
    out.update({
        "webhook_p50_s": _r(percentile(hooks, 0.50)), "webhook_p95_s": _r(percentile(hooks, 0.95)),
        "webhook_max_s": _r(max(hooks, default=None)),
        "stream_p50_s": _r(percentile(streamed, 0.50)), "stream_p95_s": _r(percentile(streamed, 0.95)),
        "stream_max_s": _r(max(streamed, default=None)),
        "polling_p50_s": _r(percentile(polled, 0.50)), "polling_p95_s": _r(percentile(polled, 0.95)),
        "lost": (events - len(hooks)) + (events - len(streamed)) + (poll_events - len(polled)),
        "replays_ignored": replays, "duplicates": duplicates, "stored": len(texts),
        "scorer": "settings" if score is not None else "none",
    })
    return out


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _webhooks(db: Any, graph: Any, post: str, web_url: str, n: int, rng: random.Random, httpx: Any,
              feed_comment: Any, body_and_headers: Any) -> tuple[list[float], int]:
    latencies: list[float] = []
    replays = 0
    with httpx.Client(base_url=web_url, timeout=10) as client:
        for i in range(n):
            time.sleep(rng.uniform(0, 0.3))  # events arrive at random moments of the worker's loop
            started = time.perf_counter()
            cid = graph.add_comment(post, f"Commentaire {i} : la rue {i} est inondée, que faire ?",
                                    created_at=datetime.now(UTC))
            body, headers = body_and_headers(feed_comment(graph, cid), SECRET)
            answer = client.post("/webhooks/meta", content=body, headers=headers)
            answer.raise_for_status()
            again = client.post("/webhooks/meta", content=body, headers=headers)  # Meta retries
            replays += again.text.strip() == "replayed"
            seconds = _wait_visible(db, "facebook", f"facebook:{cid}", started)
            if seconds is not None:
                latencies.append(seconds)
    return latencies, replays


def _stream(db: Any, masto: Any, live: Any, n: int, rng: random.Random, notification_for: Any) -> list[float]:
    latencies: list[float] = []
    for i in range(n):
        time.sleep(rng.uniform(0, 0.3))
        started = time.perf_counter()
        status = masto.mention(f"message {i} : arbre tombé sur la chaussée avenue {i}", created_at=datetime.now(UTC))
        live.push(notification_for(masto, status))
        seconds = _wait_visible(db, "mastodon", f"mastodon:{status['id']}", started)
        if seconds is not None:
            latencies.append(seconds)
    return latencies


def _polling(db: Any, graph: Any, post: str, fb: Any, n: int, interval: float, rng: random.Random,
             sync_connector: Any, score: Any) -> list[float]:
    latencies: list[float] = []
    for i in range(n):
        cid = graph.add_comment(post, f"Relevé {i} : le parking du marché est fermé ?", created_at=datetime.now(UTC))
        started = time.perf_counter()
        sync_connector(db, fb, score=score)
        if _visible(db, "facebook", f"facebook:{cid}"):
            latencies.append(rng.uniform(0, interval) + time.perf_counter() - started)
    return latencies
