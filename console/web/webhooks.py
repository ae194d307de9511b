"""Where the platforms' webhooks land: ``/webhooks/<platform>`` (``/webhooks/meta``: console/web/meta_webhook.py).

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

from console.web import meta_webhook
from core.config import Settings

PREFIX = "/webhooks"
ROUTES: list[BaseRoute] = []


async def _no_handler(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    response: Response = JSONResponse({"error": "no webhook handler here", "path": request.url.path},
                                      status_code=404)
    await response(scope, receive, send)


def mount(settings: Settings | None = None) -> Mount:
    """The ``/webhooks`` mount: Parvis's handlers for ``settings`` (``/meta`` when Meta webhooks are configured:
    console/web/meta_webhook.py), the registered routes, and a JSON 404 for anything else."""
    own: list[BaseRoute] = []
    if settings is not None and meta_webhook.configured(settings):
        own.append(meta_webhook.route(settings))
    return Mount(PREFIX, app=Router(routes=[*own, *ROUTES], default=_no_handler))
