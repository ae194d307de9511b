"""``/webhooks/meta``: Meta's webhooks for the Facebook Page (``feed``) and Instagram (``comments``, ``mentions``).

- ``GET``: the verification handshake: ``hub.mode=subscribe`` and ``hub.verify_token`` equal (constant-time) to
  ``PARVIS_META_VERIFY_TOKEN`` → 200 with ``hub.challenge`` as plain text; anything else 403.
- ``POST``: accepted only with ``X-Hub-Signature-256`` = HMAC-SHA256 of the raw body with
  ``PARVIS_META_APP_SECRET`` (``hmac.compare_digest``); anything else 403, logged without the body. A signed body
  is recorded once (services/connections/webhooks.accept: a byte-identical replay changes nothing) and answered
  200 at once; the worker reads what it points to.

The route exists only when the app secret or the verify token is set (else ``/webhooks/meta`` is the extension
point's JSON 404, so a Meta app configured before Parvis sees a clear failure). Bodies are capped at
:data:`MAX_BODY` bytes.
"""

from __future__ import annotations

import logging
import sqlite3

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from connectors.graph import webhooks as meta
from core.clock import utcnow
from core.config import Settings
from core.db import open_db
from core.errors import ParvisError
from services.connections import webhooks

log = logging.getLogger("parvis.webhooks")
MAX_BODY = 1_000_000  # Meta batches up to 1,000 changes per delivery; real bodies are a few kB
_NO_STORE = {"Cache-Control": "no-store"}


def configured(settings: Settings) -> bool:
    """Whether Meta webhooks are set up (an app secret or a verify token)."""
    return bool(settings.graph.app_secret or settings.graph.verify_token)


def route(settings: Settings) -> Route:
    """The ``/meta`` route (under the ``/webhooks`` mount) for ``settings``."""

    def record(body: bytes) -> webhooks.Accepted:
        db = open_db(settings.db_path, migrate=False)
        try:
            return webhooks.accept(db, body, now=utcnow())
        finally:
            db.close()

    async def meta_webhook(request: Request) -> Response:
        if request.method == "GET":
            challenge = meta.handshake_challenge(dict(request.query_params), settings.graph.verify_token)
            if challenge is None:
                log.warning("meta webhook: verification refused (mode %r, wrong or missing verify token)",
                            request.query_params.get("hub.mode"))
                return PlainTextResponse("forbidden\n", status_code=403, headers=_NO_STORE)
            log.info("meta webhook: verification handshake answered")
            return PlainTextResponse(challenge, headers=_NO_STORE)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            log.warning("meta webhook: body of %s bytes refused (over %d)", declared, MAX_BODY)
            return PlainTextResponse("too large\n", status_code=413, headers=_NO_STORE)
        body = await request.body()
        header = request.headers.get(meta.SIGNATURE_HEADER)
        if len(body) > MAX_BODY or not meta.signature_valid(body, header, settings.graph.app_secret):
            log.warning("meta webhook: refused, %s signature (%d bytes, body not logged)",
                        "invalid" if header else "missing", len(body))
            return PlainTextResponse("forbidden\n", status_code=403, headers=_NO_STORE)
        try:
            accepted = await run_in_threadpool(record, body)
        except (ParvisError, sqlite3.Error) as err:  # Meta retries a delivery that did not get its 200
            log.error("meta webhook: signed body not recorded (%s); Meta will retry", err)
            return PlainTextResponse("unavailable\n", status_code=503, headers=_NO_STORE)
        return PlainTextResponse(f"{accepted.outcome}\n", headers=_NO_STORE)

    return Route("/meta", meta_webhook, methods=["GET", "POST"])
