"""Translate tweepy/requests failures into :mod:`core.errors` (messages never carry credentials)."""

from __future__ import annotations

from datetime import datetime

import tweepy

from connectors.http import transport_error
from core.errors import AuthFailed, ConnectorError, PermanentFailure, RateLimited, Unavailable

DEFAULT_RESET_S = 15 * 60  # X windows are 15 minutes; used when a 429 carries no x-rate-limit-reset
# 403 problems that mean "these credentials cannot do this at all" (app not in a Project, wrong auth type).
AUTH_PROBLEMS = ("client-not-enrolled", "unsupported-authentication", "invalid-token")


def _problem(err: tweepy.HTTPException) -> str:
    try:
        body = err.response.json()
    except ValueError:
        return ""
    return f"{body.get('reason', '')} {body.get('type', '')}" if isinstance(body, dict) else ""


def translate(err: Exception, endpoint: str, *, now: datetime) -> ConnectorError:
    """Map a tweepy/requests exception to our error tree (messages never carry credentials)."""
    if isinstance(err, tweepy.TooManyRequests):
        reset = float(err.reset_time) if err.reset_time else now.timestamp() + DEFAULT_RESET_S
        return RateLimited(f"{endpoint}: rate limited by X", reset_at=reset, endpoint=endpoint)
    if isinstance(err, tweepy.HTTPException):
        detail = "; ".join(str(m) for m in err.api_messages)[:300]
        status = err.response.status_code
        message = f"{endpoint}: HTTP {status} {detail}".strip()
        if isinstance(err, tweepy.Unauthorized):
            return AuthFailed(message)
        if isinstance(err, tweepy.Forbidden) and any(p in _problem(err) for p in AUTH_PROBLEMS):
            return AuthFailed(message)
        if isinstance(err, tweepy.TwitterServerError):
            return Unavailable(message)
        return PermanentFailure(message)
    return transport_error(err, endpoint)  # invalid JSON, the network
