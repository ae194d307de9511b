"""Parvis's routes beside the console: ``/healthz``, ``/readyz``, ``/metrics``, and the ``/webhooks`` mount.

- ``/healthz``: 200 ``ok`` while the process answers (no database access): for a supervisor's liveness check.
- ``/readyz``: 200 when the database is writable, its schema current and the worker's heartbeat recent, else
  503; a JSON body says which check failed and why (services/operations/health.py).
- ``/auth/cookie``: sets the session cookie a page asked for with a one-time code (console/web/cookies.py).
- ``/inbox``: redirected to the console's root, where the inbox (the default page) is served: Streamlit answers a
  default page's own path with an English « Page not found » box (console/ui/nav.py, ``INBOX_PATH``).
- ``/metrics``: the Prometheus text format (console/web/metrics.py). When ``PARVIS_METRICS_TOKEN`` is set, it
  asks for ``Authorization: Bearer <token>``; else restrict it at the reverse proxy (docs/operations.md).

The database work runs in Starlette's thread pool, never on the event loop that serves the console.
"""

from __future__ import annotations

import hmac
import logging
import sqlite3

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from console.web import cookies, webhooks
from console.web.metrics import CONTENT_TYPE, render
from core.clock import utcnow
from core.config import Settings
from core.db import open_db
from core.errors import ParvisError, StorageError
from services.operations import health, metrics

log = logging.getLogger("parvis.http")
_NO_STORE = {"Cache-Control": "no-store"}
INBOX_PATH = "inbox"  # the inbox page's url_path (console/ui/nav.py): the default page, served at the root


def parvis_routes(settings: Settings) -> list[BaseRoute]:
    """The routes to serve beside the console, for ``settings``'s database."""

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok\n", headers=_NO_STORE)

    async def readyz(_request: Request) -> Response:
        ready = await run_in_threadpool(health.readiness, settings, now=utcnow())
        if not ready.ok:
            log.warning("not ready: %s", ready.reason)
        return JSONResponse(ready.as_dict(), status_code=200 if ready.ok else 503, headers=_NO_STORE)

    def snapshot_text() -> bytes:
        if not settings.db_path.is_file():
            raise StorageError(f"no database at {settings.db_path}")
        db = open_db(settings.db_path, migrate=False)
        try:
            return render(metrics.collect(db, settings, now=utcnow()))
        finally:
            db.close()

    async def metrics_endpoint(request: Request) -> Response:
        token = settings.server.metrics_token
        if token:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return PlainTextResponse("unauthorized\n", status_code=401,
                                         headers={"WWW-Authenticate": "Bearer", **_NO_STORE})
        try:
            body = await run_in_threadpool(snapshot_text)
        except (ParvisError, sqlite3.Error) as err:
            log.warning("metrics unavailable: %s", err)
            return PlainTextResponse(f"metrics unavailable: {err}\n", status_code=503, headers=_NO_STORE)
        return Response(body, media_type=CONTENT_TYPE, headers=_NO_STORE)

    async def inbox(request: Request) -> Response:
        query = request.url.query
        return RedirectResponse("./" + (f"?{query}" if query else ""), status_code=308)

    return [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route(f"/{INBOX_PATH}", inbox, methods=["GET", "HEAD"]),
        Route("/readyz", readyz, methods=["GET", "HEAD"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        cookies.route(),  # /auth/cookie: the session kept across reloads (console/web/cookies.py)
        webhooks.mount(settings),
    ]
