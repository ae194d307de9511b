"""Translate Mastodon.py/requests failures into :mod:`core.errors`, and read the instance's rate-limit headers.

Mastodon answers 401 for a revoked or invalid token, 403 ("outside the authorized scopes") for a token missing
a scope, 422 for a refused status (too long, scheduled too early), 429 when the per-account or per-IP window is
used up (``X-RateLimit-Limit``/``-Remaining``/``-Reset``, the reset being an ISO 8601 time).

The hot reads go past Mastodon.py (plain JSON, connectors/mastodon/connector.py): :func:`raise_for_answer` raises
the Mastodon.py error for their failed answers, so that :func:`translate` is the one mapping for both paths.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import requests
from mastodon import errors as me

from connectors.http import transport_error
from core.errors import AuthFailed, ConnectorError, MalformedPayload, PermanentFailure, RateLimited, Unavailable

DEFAULT_RESET_S = 5 * 60  # Mastodon windows are 5 minutes (300 requests per account by default)


def reset_epoch(headers: Mapping[str, str], *, now: datetime) -> float | None:
    """``X-RateLimit-Reset`` (ISO 8601, or epoch seconds on some forks) as epoch seconds; None when absent."""
    value = (headers.get("X-RateLimit-Reset") or "").strip()
    if not value:
        return None
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return now.timestamp() + DEFAULT_RESET_S


def remaining(headers: Mapping[str, str]) -> int | None:
    """``X-RateLimit-Remaining`` as an int (None when absent or unreadable)."""
    try:
        return int(headers.get("X-RateLimit-Remaining", ""))
    except ValueError:
        return None


def raise_for_answer(response: requests.Response) -> None:
    """Raise the Mastodon.py error for a failed answer read past the library (nothing for a success)."""
    if response.status_code == 429:
        raise me.MastodonRatelimitError("Hit rate limit.")
    if not response.ok:
        try:
            body = response.json()
        except ValueError:
            body = {}
        error = body.get("error") if isinstance(body, dict) else None
        kind = me.MastodonUnauthorizedError if response.status_code == 401 else (
            me.MastodonServerError if response.status_code >= 500 else me.MastodonAPIError)
        raise kind("Mastodon API returned error", response.status_code, response.reason, error)


def translate(err: Exception, endpoint: str, *, headers: Mapping[str, str], now: datetime) -> ConnectorError:
    """Map a Mastodon.py/requests exception to our error tree (messages never carry the token)."""
    if isinstance(err, me.MastodonRatelimitError):
        reset = reset_epoch(headers, now=now) or now.timestamp() + DEFAULT_RESET_S
        return RateLimited(f"{endpoint}: rate limited by the instance", reset_at=reset, endpoint=endpoint)
    if isinstance(err, me.MastodonNetworkError):
        return Unavailable(f"{endpoint}: network error")
    if isinstance(err, me.MastodonAPIError):
        args = err.args
        if args and isinstance(args[0], str) and args[0].startswith("Could not parse response as JSON"):
            return MalformedPayload(f"{endpoint}: the answer is not valid JSON")
        status = args[1] if len(args) > 1 and isinstance(args[1], int) else None
        detail = str(args[3])[:300] if len(args) > 3 and args[3] else ""
        message = f"{endpoint}: HTTP {status} {detail}".strip()
        if isinstance(err, me.MastodonUnauthorizedError) or status == 401:
            return AuthFailed(message)
        if status == 403 and "scope" in detail.lower():
            return AuthFailed(message)
        if isinstance(err, me.MastodonServerError) or (status is not None and status >= 500):
            return Unavailable(message)
        return PermanentFailure(message)
    if isinstance(err, me.MastodonIllegalArgumentError):
        return PermanentFailure(f"{endpoint}: {err}"[:300])
    return transport_error(err, endpoint)  # invalid JSON, the network
