"""The console's cookies: the sign-in session (and, in open mode, the chosen agent) kept across reloads and tabs.

Streamlit runs the pages over a WebSocket, which cannot set a cookie. So a page that wants one set (after a
sign-in, a sign-out, an agent picked in open mode) asks :data:`HANDOFFS` for a one-time code bound to the
cookie, and renders a 1×1 image whose address is ``/auth/cookie?code=...``; this route redeems the code (once,
within :data:`HANDOFF_TTL_S` seconds) and answers with the ``Set-Cookie`` header. The cookie's value never
appears in a URL, a log line or the page. Pages read cookies through ``st.context.cookies`` (the WebSocket's
handshake carries them).

The session cookie holds the session's random token (services/accounts/auth.py stores only its SHA-256), and is
``HttpOnly`` (no script reads it), ``SameSite=Strict`` (never sent from another site), ``Path=/``, ``Secure``
over HTTPS, and expires with the session's absolute limit; every use is checked against the ``sessions`` table,
so a sign-out, a password change or a deactivation revokes it server-side whatever the browser keeps.

The code store is in memory: the route and the pages run in one process under ``parvis up`` (console/server.py).
Under ``streamlit run`` (development) the route does not exist, :data:`SERVED` stays False and pages keep the
session per tab only. Decision: docs/decisions/0160-session-cookie.md.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SESSION_COOKIE = "parvis_session"
AGENT_COOKIE = "parvis_agent"  # open mode only: the agent picked in the sidebar
COOKIE_PATH = "/auth/cookie"
HANDOFF_TTL_S = 120.0
_MAX_PENDING = 10_000
# A transparent 1×1 GIF: what the image asking for the cookie receives.
PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


@dataclass(frozen=True, slots=True)
class CookieOrder:
    """A cookie to set (``value``, for ``max_age`` seconds) or to clear (``value=None``)."""

    name: str
    value: str | None
    max_age: int = 0


class Handoffs:
    """One-time codes, each standing for one :class:`CookieOrder`, valid :data:`HANDOFF_TTL_S` seconds."""

    def __init__(self, ttl_s: float = HANDOFF_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._orders: dict[str, tuple[float, CookieOrder]] = {}

    def issue(self, order: CookieOrder) -> str:
        """A fresh code for ``order`` (expired codes are dropped on the way)."""
        code = secrets.token_urlsafe(24)
        now = time.monotonic()
        with self._lock:
            self._purge(now)
            if len(self._orders) >= _MAX_PENDING:
                self._orders.pop(next(iter(self._orders)))
            self._orders[code] = (now + self.ttl_s, order)
        return code

    def redeem(self, code: str) -> CookieOrder | None:
        """The order behind ``code``, once; None when unknown, used or expired."""
        with self._lock:
            entry = self._orders.pop(code, None)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def pending(self, code: str) -> bool:
        """Whether ``code`` is still waiting for the browser (not redeemed, not expired)."""
        with self._lock:
            entry = self._orders.get(code)
        return entry is not None and entry[0] >= time.monotonic()

    def _purge(self, now: float) -> None:
        for code in [c for c, (deadline, _) in self._orders.items() if deadline < now]:
            del self._orders[code]


HANDOFFS = Handoffs()
SERVED = {"route": False}  # set when the route is mounted (parvis up): pages then ask for cookies


def cookie_header(order: CookieOrder, *, https: bool) -> str:
    """The ``Set-Cookie`` value for ``order``."""
    parts = [f"{order.name}={order.value or ''}", "Path=/", "HttpOnly", "SameSite=Strict"]
    parts.append(f"Max-Age={max(0, order.max_age) if order.value is not None else 0}")
    if https:
        parts.append("Secure")
    return "; ".join(parts)


async def set_cookie(request: Request) -> Response:
    """``GET /auth/cookie?code=...``: set or clear the cookie the code stands for; a pixel either way."""
    order = HANDOFFS.redeem(request.query_params.get("code", ""))
    headers = {"Cache-Control": "no-store"}
    if order is not None:
        headers["Set-Cookie"] = cookie_header(order, https=request.url.scheme == "https")
    return Response(PIXEL, media_type="image/gif", headers=headers)


def route() -> Route:
    """The route to mount beside the console (console/web/routes.py); marks cookies as served."""
    SERVED["route"] = True
    return Route(COOKIE_PATH, set_cookie, methods=["GET"])
