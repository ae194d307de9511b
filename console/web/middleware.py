"""ASGI middleware in front of every route (Parvis's and Streamlit's): the request id and its log line, and the
security headers.

Request id: taken from the ``X-Request-Id`` header (a reverse proxy sets it: nginx's ``$request_id``) when it
is a plain token, else generated; put back into the request headers (so the console reads it through
``st.context.headers`` for its error references), returned as ``X-Request-Id``, and on every log line written
while the request is served. One access line per request (method, path without the query string, status,
duration), at DEBUG for static files and probes.

Security headers on every HTTP response: a Content-Security-Policy that Streamlit's front end runs under
(tested in Chromium), ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``, ``Referrer-Policy:
same-origin``, ``X-Content-Type-Options: nosniff``, and HSTS only when the request came over HTTPS (directly,
or through a trusted proxy saying so: uvicorn rewrites the scheme from ``X-Forwarded-Proto`` for the addresses
in ``PARVIS_FORWARDED_ALLOW_IPS``).

Allowed hosts, against DNS rebinding: an HTTP request or a WebSocket (the console's ``/_stcore/stream``) whose
``Host`` is not ``localhost``, ``127.0.0.1``, ``[::1]`` (any port) or a name of ``PARVIS_ALLOWED_HOSTS`` is
refused (400, or the WebSocket closed with 1008 before it is accepted), and so is a WebSocket or a
state-changing request whose ``Origin``, when present, names another host. The liveness and readiness probes
answer whatever the Host (an orchestrator probes the container's address). Decision:
docs/decisions/0094-allowed-hosts.md.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.logs import REQUEST_ID

log = logging.getLogger("parvis.http")
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{6,128}$")
_QUIET_PREFIXES = ("/static/", "/_stcore/health", "/_stcore/host-config", "/favicon", "/healthz", "/readyz",
                   "/_stcore/script-health-check", "/manifest.json")
HSTS = "max-age=63072000"
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)


def new_request_id() -> str:
    """A fresh request id: 16 hex characters."""
    return secrets.token_hex(8)


class RequestIdMiddleware:
    """Request id in, request id out, and one log line per HTTP request or WebSocket session."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")
        rid = given if _VALID_ID.match(given) else new_request_id()
        if rid != given:
            scope = dict(scope)
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != b"x-request-id"]
            scope["headers"].append((b"x-request-id", rid.encode("ascii")))
        token = REQUEST_ID.set(rid)
        started = time.perf_counter()
        status = {"code": 0, "sent": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["sent"] = int(message["status"]), True
                MutableHeaders(scope=message)["X-Request-Id"] = rid
            elif message["type"] == "websocket.accept":
                status["code"] = 101
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("%s %s failed", scope.get("method", "WS"), scope.get("path", ""))
            if scope["type"] != "http" or status["sent"]:
                raise
            status["code"] = 500
            body = f"Erreur interne. Référence : {rid}\n".encode()
            await send({"type": "http.response.start", "status": 500,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                    (b"content-length", str(len(body)).encode()),
                                    (b"x-request-id", rid.encode("ascii"))]})
            await send({"type": "http.response.body", "body": body})
        finally:
            self._log(scope, status["code"], time.perf_counter() - started)
            REQUEST_ID.reset(token)

    @staticmethod
    def _log(scope: Scope, code: int, seconds: float) -> None:
        path = str(scope.get("path", ""))
        quiet = code < 400 and path.startswith(_QUIET_PREFIXES)
        level = logging.DEBUG if quiet else (logging.WARNING if code >= 500 else logging.INFO)
        if scope["type"] == "websocket":
            log.log(level, "websocket %s closed after %.1f s", path, seconds,
                    extra={"fields": {"path": path, "duration_s": round(seconds, 1)}})
            return
        method = str(scope.get("method", ""))
        log.log(level, "%s %s %d %.1f ms", method, path, code, seconds * 1000,
                extra={"fields": {"method": method, "path": path, "status": code,
                                  "duration_ms": round(seconds * 1000, 1)}})


def inline_script_hashes(index_html: Path) -> list[str]:
    """CSP sources (``'sha256-...'``) allowing exactly the inline scripts of Streamlit's ``index.html``."""
    try:
        html = index_html.read_bytes()
    except OSError:
        return []
    return [f"'sha256-{base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode()}'"
            for m in _INLINE_SCRIPT.finditer(html) if m.group(1).strip()]


def content_security_policy(script_hashes: Iterable[str] = ()) -> str:
    """The CSP of the console: same-origin everything; Streamlit's inline styles (emotion) allowed; its one
    inline script allowed by hash; ``'wasm-unsafe-eval'`` (WebAssembly only, not ``eval``) for the WebAssembly
    module of Streamlit's front end. No ``'unsafe-eval'``: Vega charts render without it (tested in Chromium)."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes, "'wasm-unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "frame-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, csp: str | None = None) -> None:
        self.app = app
        self.csp = csp or content_security_policy()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", self.csp)
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "same-origin"
                headers["X-Content-Type-Options"] = "nosniff"
                if https:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, send_with_headers)


LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_PROBES = frozenset({"/healthz", "/readyz"})
refused_log = logging.getLogger("parvis.http.refused")


def host_name(value: str) -> str | None:
    """The host name of a ``Host`` header or of an origin's ``host[:port]``: lower-case, without the port, the
    brackets of an IPv6 address or a trailing dot; ``None`` when the value is not a plain host[:port]."""
    try:
        parsed = urlsplit(f"//{value.strip()}")
        hostname = parsed.hostname
        _ = parsed.port  # a non-numeric or out-of-range port raises
    except ValueError:
        return None
    if (not hostname or parsed.username is not None or parsed.password is not None or parsed.path
            or parsed.query or parsed.fragment):
        return None
    return hostname.rstrip(".") or None


def allowed_hosts(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """``localhost``, ``127.0.0.1``, ``::1`` and the ``extra`` names (``console.example.fr``, ``*.example.fr``),
    normalised as :func:`host_name` does."""
    names = list(LOCAL_HOSTS)
    for raw in extra:
        raw = raw.strip().lower()
        if raw.startswith("*."):
            name = host_name(raw[2:])
            names.append(f"*.{name}" if name else "")
        else:
            names.append(host_name(raw) or "")
    return tuple(dict.fromkeys(n for n in names if n))


def host_allowed(hostname: str | None, allowed: Iterable[str]) -> bool:
    """Whether ``hostname`` (from :func:`host_name`) is one of ``allowed`` (``*.x`` matches any name below x)."""
    if not hostname:
        return False
    return any(hostname == pattern or (pattern.startswith("*.") and hostname.endswith(pattern[1:]))
               for pattern in allowed)


class AllowedHostsMiddleware:
    """Refuses HTTP requests and WebSockets for a foreign ``Host`` or ``Origin`` (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, hosts: Iterable[str] = LOCAL_HOSTS) -> None:
        self.app = app
        self.hosts = allowed_hosts(hosts)

    def refusal(self, scope: Scope) -> str | None:
        """Why this request is refused, or ``None`` when it may go on."""
        headers = Headers(scope=scope)
        if not host_allowed(host_name(headers.get("host", "")), self.hosts):
            return "host"
        origin = headers.get("origin")
        checks_origin = scope["type"] == "websocket" or str(scope.get("method", "GET")).upper() not in _SAFE_METHODS
        if origin is not None and checks_origin:
            try:
                parts = urlsplit(origin.strip())
            except ValueError:
                return "origin"
            if parts.scheme not in ("http", "https") or not host_allowed(host_name(parts.netloc), self.hosts):
                return "origin"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http" and scope.get("path") in _PROBES and scope.get("method") in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        reason = self.refusal(scope)
        if reason is None:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path = str(scope.get("path", ""))
        refused_log.warning("refused %s %s: %s not allowed (host %r, origin %r)",
                            scope.get("method", "WS"), path, reason, headers.get("host", "")[:100],
                            headers.get("origin", "")[:100],
                            extra={"fields": {"path": path, "reason": f"{reason}_not_allowed"}})
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": ""})
            return
        body = "Hôte non autorisé.\n".encode()
        await send({"type": "http.response.start", "status": 400,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


_HTML_LANG = re.compile(rb'<html lang="[A-Za-z-]+"')


class FrenchPageMiddleware:
    """Serves Streamlit's HTML page as French: ``<html lang="fr">`` instead of its ``lang="en"`` (screen readers
    pronounce the console in French; RGAA 8.3, issue #17). Only ``text/html`` responses are touched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if (scope["type"] != "http" or scope.get("method") != "GET" or path.startswith(("/_stcore", "/static/"))
                or "." in path.rsplit("/", 1)[-1]):
            await self.app(scope, receive, send)
            return
        # A page (not an asset): ask for it uncompressed, so that its tag can be read (a 1-2 kB page).
        scope = dict(scope)
        scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"]
        start: dict[str, Message] = {}
        chunks: list[bytes] = []

        async def send_french(message: Message) -> None:
            if message["type"] == "http.response.start":
                content_type = Headers(raw=message.get("headers", [])).get("content-type", "")
                if content_type.startswith("text/html"):
                    start["message"] = message
                    return
            elif message["type"] == "http.response.body" and "message" in start:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = _HTML_LANG.sub(b'<html lang="fr"', b"".join(chunks), count=1)
                head = start.pop("message")
                MutableHeaders(scope=head)["content-length"] = str(len(body))
                await send(head)
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, send_french)
