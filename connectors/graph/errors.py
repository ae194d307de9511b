"""Translate Graph API failures into :mod:`core.errors`, and read the rate-limit usage headers (Facebook and
Instagram alike).

Codes (developers.facebook.com/docs/graph-api/guides/error-handling): 190 (expired/revoked token, any subcode)
and 102 (session) → AuthFailed; 4, 17, 32, 341, 613 and 80001 (Pages Business Use Case limit) → RateLimited;
1 and 2 (temporary) and HTTP 5xx → Unavailable; anything else (10 and 200-299 permissions, 100 invalid
parameter, 368 policy block, 506 duplicate post) → PermanentFailure. A permissions error on an endpoint the
platform lists in its ``PERMISSION_HINTS`` (connectors/<platform>/errors.py) says which permission the token
lacks. :func:`translate` covers what pyfacebook and requests raise besides an HTTP error status.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pyfacebook.exceptions import PyFacebookException

from connectors.http import transport_error
from core.errors import AuthFailed, ConnectorError, MalformedPayload, PermanentFailure, RateLimited, Unavailable

AUTH_CODES = frozenset({102, 190})
RATE_CODES = frozenset({4, 17, 32, 341, 613, 80001})
TRANSIENT_CODES = frozenset({1, 2})
PERMISSION_CODES = frozenset({10, *range(200, 300)})
DEFAULT_RESET_S = 15 * 60  # Graph gives no reset time for app-level limits (rolling one-hour window)
Hints = Mapping[str, str]  # endpoint label -> the permission the token needs there


def usage_percent(headers: Mapping[str, str]) -> tuple[float, float | None]:
    """Highest usage (percent) in ``X-App-Usage``/``X-Business-Use-Case-Usage``, and the longest regain delay (s)."""
    pct, regain = 0.0, None
    for name in ("x-app-usage", "x-page-usage", "x-business-use-case-usage"):
        try:
            data = json.loads(headers.get(name) or "null")
        except ValueError:
            continue
        if name == "x-business-use-case-usage":  # {"<object id>": [{"type": "pages", ...}, ...]}
            blocks = [b for v in data.values() if isinstance(v, list) for b in v] if isinstance(data, dict) else []
        else:
            blocks = [data]
        for block in blocks:
            if not isinstance(block, dict):
                continue
            for key in ("call_count", "total_time", "total_cputime"):
                value = block.get(key)
                if isinstance(value, int | float):
                    pct = max(pct, float(value))
            minutes = block.get("estimated_time_to_regain_access")
            if isinstance(minutes, int | float) and minutes > 0:
                regain = max(regain or 0.0, float(minutes) * 60)
    return pct, regain


def graph_error(status: int, body: Any, headers: Mapping[str, str], endpoint: str, *, now: datetime,
                hints: Hints | None = None) -> ConnectorError:
    """Translate a Graph error answer (HTTP status + ``{"error": {...}}``) into our error tree."""
    error = found if isinstance(body, dict) and isinstance(found := body.get("error"), dict) else {}
    code = error.get("code")
    message = f"{endpoint}: HTTP {status}" + (f" (#{code}) {str(error.get('message', ''))[:300]}" if code else "")
    if code in AUTH_CODES or (status == 401 and code is None):
        return AuthFailed(message)
    if code in RATE_CODES or status == 429:
        _, regain = usage_percent(headers)
        return RateLimited(message, reset_at=now.timestamp() + (regain or DEFAULT_RESET_S), endpoint=endpoint)
    if code in TRANSIENT_CODES or status >= 500:
        return Unavailable(message)
    if (code in PERMISSION_CODES or status == 403) and hints and endpoint in hints:
        return PermanentFailure(f"{message} — {hints[endpoint]}")
    return PermanentFailure(message)


def translate(err: Exception, endpoint: str, *, now: datetime, hints: Hints | None = None) -> ConnectorError:
    """Map what a pyfacebook call raises once the HTTP status was fine: an ``{"error": ...}`` with HTTP 200, an
    answer that is not JSON, a network failure."""
    if isinstance(err, PyFacebookException):
        code = getattr(err, "code", None)
        if isinstance(code, int) and code > 0:
            return graph_error(200, {"error": {"code": code, "message": getattr(err, "message", "")}}, {},
                               endpoint, now=now, hints=hints)
        return MalformedPayload(f"{endpoint}: the answer is not JSON")
    return transport_error(err, endpoint)  # invalid JSON, no Content-Type at all, the network
