"""Where the platforms' webhooks land: ``/webhooks/<platform>`` (the real-time issue adds the handlers).

Extension point: append Starlette routes to :data:`ROUTES` (paths relative to ``/webhooks``, e.g.
``Route("/meta", meta_handler, methods=["GET", "POST"])``) before console/server.py builds the app. Until a
handler exists, every ``/webhooks/...`` request answers 404 with a JSON body, never the console's page, so a
platform configured too early sees a clear failure. Handlers verify the platform's signature themselves and
hand the payload to a service (services/connections/ingest.store_pushed); they never render it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Router
from starlette.types import Receive, Scope, Send

PREFIX = "/webhooks"
ROUTES: list[BaseRoute] = []


async def _no_handler(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    response: Response = JSONResponse({"error": "no webhook handler here", "path": request.url.path},
                                      status_code=404)
    await response(scope, receive, send)


def mount() -> Mount:
    """The ``/webhooks`` mount: the registered routes, and a JSON 404 for anything else."""
    return Mount(PREFIX, app=Router(routes=list(ROUTES), default=_no_handler))
