"""One ASGI server for Parvis: the Streamlit console and Parvis's own routes on one port, served by uvicorn.

``python -m console up`` (or ``parvis up``) calls :func:`serve`. The console is Streamlit's ``st.App``
(``streamlit.starlette.App``) built on ``streamlit_app.py``, with Parvis's routes (console/web/routes.py:
``/healthz``, ``/readyz``, ``/metrics``, ``/webhooks/...``) in front of Streamlit's, and three middleware
around everything (console/web/middleware.py: security headers; request id and access log; allowed hosts).
Unexpected errors of the console go through the pages' one funnel (console/ui/page.py): a reference shown, the
error logged with it and the session's request id.

This is the only console module outside console/ui that touches Streamlit, and it is imported lazily by the
``up`` command, so the CLI and the worker never load Streamlit. ``streamlit run streamlit_app.py`` keeps
working for development (without Parvis's routes and headers). Decision: docs/decisions/0093-one-asgi-server.md.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import streamlit
import uvicorn
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from streamlit.starlette import App

from console import logs
from console.ui.page import on_script_error
from console.web.middleware import (
    AllowedHostsMiddleware,
    FrenchPageMiddleware,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
    allowed_hosts,
    content_security_policy,
    inline_script_hashes,
)
from console.web.routes import parvis_routes
from core.config import Settings
from core.version import __version__
from services.operations import metrics

log = logging.getLogger("parvis.server")

# Streamlit options Parvis runs with, whatever the working directory (an installed copy has no
# .streamlit/config.toml beside it). The checkout's .streamlit/config.toml says the same for `streamlit run`
# (a test keeps them equal). Other Streamlit options can still be set in ./.streamlit/config.toml.
STREAMLIT_OPTIONS: dict[str, Any] = {
    "server.headless": True,
    "browser.gatherUsageStats": False,
    "server.fileWatcherType": "none",
    "client.toolbarMode": "minimal",
    "client.showErrorDetails": "none",  # what escapes the pages' funnel never shows a traceback (docs/security.md)
    "theme.primaryColor": "#000091",
    # The body text colour: captions are drawn with it at 60 % opacity, which must stay at 4.5:1 or more on white
    # and on the sidebar's grey (WCAG AA; Streamlit's default #31333F gave 3.88:1, issue #17).
    "theme.textColor": "#161616",
    "theme.linkColor": "#000091",
    "runner.postScriptGC": False,
    "runner.magicEnabled": False,
    # Uploads are images of the calendar form (services/editorial/calendar_inputs.MAX_IMAGE_BYTES) and charter
    # YAML files: Streamlit refuses anything larger than that limit (in MB) before it reaches a page.
    "server.maxUploadSize": 5,
    "server.enableXsrfProtection": True,
    "server.enableCORS": True,
    # Streamlit's own Host check of its WebSocket; `up` adds PARVIS_ALLOWED_HOSTS (and AllowedHostsMiddleware
    # checks every request, Origin included).
    "server.allowedHosts": ["localhost", "127.0.0.1", "::1"],
}


def script_path() -> Path:
    """``streamlit_app.py``: beside the ``console`` package (the checkout's root, or site-packages)."""
    return Path(__file__).resolve().parents[1] / "streamlit_app.py"


# The inbox's keyboard script (Enter or Space opens a row: issue #17), injected inline by the page, allowed by hash.
INBOX_KEYS_SCRIPT = Path(__file__).resolve().parent / "ui" / "static" / "inbox_keys.js"


def script_hash(path: Path) -> str:
    """The CSP source (``'sha256-...'``) allowing ``path``'s text as an inline script."""
    digest = hashlib.sha256(path.read_bytes()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def csp() -> str:
    """The Content-Security-Policy, allowing the inline script of this Streamlit's ``index.html`` by hash."""
    return content_security_policy([*inline_script_hashes(Path(streamlit.__file__).parent / "static" / "index.html"),
                                    script_hash(INBOX_KEYS_SCRIPT)])


def hosts(settings: Settings) -> tuple[str, ...]:
    """The host names the server answers: the local ones and those of ``PARVIS_ALLOWED_HOSTS``."""
    return allowed_hosts(settings.server.host_names())


def streamlit_options(settings: Settings, *, address: str, port: int) -> dict[str, Any]:
    """:data:`STREAMLIT_OPTIONS` for this server: its address and port, and the allowed hosts."""
    return {**STREAMLIT_OPTIONS, "server.address": address, "server.port": port,
            "server.allowedHosts": list(hosts(settings))}


def build_app(settings: Settings) -> App:
    """The ASGI application: the console and Parvis's routes, behind the middleware."""

    @asynccontextmanager
    async def lifespan(_app: App) -> AsyncIterator[None]:
        logs.adopt_library_loggers()  # Streamlit created more loggers while starting its runtime
        await run_in_threadpool(metrics.warm_up, settings)  # the first scrape of /metrics in milliseconds
        log.info("Parvis %s ready", __version__)
        yield
        log.info("Parvis stopping")

    return App(str(script_path()), routes=parvis_routes(settings),
               middleware=[Middleware(SecurityHeadersMiddleware, csp=csp()), Middleware(FrenchPageMiddleware),
                           Middleware(RequestIdMiddleware),
                           Middleware(AllowedHostsMiddleware, hosts=hosts(settings))],
               on_script_error=on_script_error, lifespan=lifespan)


def _uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Streamlit's own uvicorn settings (WebSocket sizes and pings, TLS files), without its logging."""
    try:
        from streamlit.web.server.starlette.starlette_server import _get_uvicorn_config_kwargs

        options = dict(_get_uvicorn_config_kwargs())
    except ImportError:  # pragma: no cover - another Streamlit than the pinned one
        options = {}
    options.update(
        log_config=None,  # Parvis's handler (console/logs.py) prints every line
        access_log=False,  # RequestIdMiddleware logs each request, without its query string
        proxy_headers=True,
        forwarded_allow_ips=settings.server.forwarded_allow_ips,
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    return options


def serve(settings: Settings, *, address: str = "127.0.0.1", port: int = 8501) -> None:
    """Serve the console and Parvis's routes on ``address:port`` until SIGINT/SIGTERM."""
    from streamlit.web import bootstrap

    logs.add_secrets(logs.secrets_of(settings))
    app = build_app(settings)
    bootstrap.load_config_options(streamlit_options(settings, address=address, port=port))
    config = uvicorn.Config(app, host=address, port=port, **_uvicorn_options(settings))
    logs.adopt_library_loggers()
    log.info("Parvis %s: http://%s:%d (database %s)", __version__, address, port, settings.db_path)
    uvicorn.Server(config).run()
