"""Translate atproto SDK failures into :mod:`core.errors` (messages never carry the password or the tokens).

The PDS answers 401 (or 400 ``ExpiredToken``/``InvalidToken``) for a bad or revoked session or app password,
429 with ``ratelimit-reset`` (epoch seconds) when a rate limit is hit (createSession: 30 per 5 minutes and
300 per day per account; writes: 5,000 points per hour and 35,000 per day), 5xx when unavailable.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from atproto_client import exceptions as ae

from core.errors import AuthFailed, ConnectorError, MalformedPayload, PermanentFailure, RateLimited, Unavailable

AUTH_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AccountTakedown",
                         "AuthFactorTokenRequired", "InvalidPassword"})
DEFAULT_RESET_S = 5 * 60


def _error_name(err: ae.RequestErrorBase) -> tuple[str, str]:
    content = err.response.content if err.response is not None else None
    name = getattr(content, "error", None) or (content.get("error") if isinstance(content, Mapping) else None)
    message = getattr(content, "message", None) or (content.get("message") if isinstance(content, Mapping) else None)
    return str(name or ""), str(message or "")[:200]


def translate(err: Exception, endpoint: str, *, now: datetime) -> ConnectorError:
    """Map an atproto exception to our error tree."""
    if isinstance(err, ae.LoginRequiredError):
        return AuthFailed(f"{endpoint}: not signed in")
    if isinstance(err, ae.RequestErrorBase):
        status = err.response.status_code if err.response is not None else None
        name, message = _error_name(err)
        text = f"{endpoint}: HTTP {status} {name} {message}".strip()
        if isinstance(err, ae.RateLimitExceededError):
            headers: Mapping[str, str] = err.response.headers if err.response is not None else {}
            try:
                reset = float(headers.get("ratelimit-reset", ""))
            except ValueError:
                reset = now.timestamp() + DEFAULT_RESET_S
            return RateLimited(f"{endpoint}: rate limited by the PDS", reset_at=reset, endpoint=endpoint)
        if isinstance(err, ae.UnauthorizedError) or name in AUTH_ERRORS:
            return AuthFailed(text)
        if isinstance(err, ae.NetworkError) or (status is not None and status >= 500):
            return Unavailable(text if status else f"{endpoint}: network error")
        return PermanentFailure(text)
    if isinstance(err, ae.ModelError | ValueError):
        return MalformedPayload(f"{endpoint}: the answer cannot be read")
    return ConnectorError(f"{endpoint}: {type(err).__name__}")
