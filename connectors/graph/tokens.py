"""Meta token lifecycle (docs/connectors.md, « Tokens »; decisions 0185, 0186): what ``debug_token`` tells of a
token, Instagram's 60-day token refresh, and where a refreshed token is kept.

``GET /debug_token?input_token=…`` answers ``{"data": {"app_id", "type", "is_valid", "expires_at",
"data_access_expires_at", "scopes": [...], "error": {...}}}``; ``expires_at`` 0 means the token never expires
(a Page token derived from a long-lived user token). The token being checked travels as ``input_token`` (Graph
has no other way); the token that authorises the call travels in the header like every Graph call.

Instagram's long-lived tokens (60 days) are refreshed (the HTTP call is in connectors/graph/client.py) with
``GET graph.instagram.com/refresh_access_token?grant_type=ig_refresh_token&access_token=…``
→ ``{"access_token", "token_type", "expires_in"}``, once the token is at least 24 hours old.
The new token is written to ``<data dir>/tokens/<connector>.json`` (mode 0600) with the fingerprint of the
configured token it replaces: Parvis uses it while the configured token is the same, and drops it as soon as an
admin configures another (decision 0186).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.base import secret_fingerprint
from core.errors import MalformedPayload

INSTAGRAM_BASE = "https://graph.instagram.com"


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What ``debug_token`` said of a token."""

    is_valid: bool
    expires_at: datetime | None  # None: never expires
    data_access_expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    type: str = ""
    error: str = ""


@dataclass(frozen=True, slots=True)
class RefreshedToken:
    """A refreshed long-lived token (never printed: ``repr`` hides it)."""

    access_token: str = field(repr=False)
    expires_at: datetime


def _epoch(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int | float) and value > 0 else None


def parse_debug_token(answer: Any) -> TokenInfo:
    """Read a ``debug_token`` answer (``MalformedPayload`` when it has no ``data`` object)."""
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("is_valid"), bool):
        raise MalformedPayload("GET /debug_token: no data.is_valid in the answer")
    error = data.get("error") if isinstance(data.get("error"), dict) else {}
    scopes = tuple(str(s) for s in data.get("scopes") or () if isinstance(s, str))
    return TokenInfo(is_valid=data["is_valid"], expires_at=_epoch(data.get("expires_at")),
                     data_access_expires_at=_epoch(data.get("data_access_expires_at")), scopes=scopes,
                     type=str(data.get("type") or ""),
                     error=(f"#{error.get('code')}/{error.get('subcode', '')} {error.get('message', '')}"[:300]
                            if error else ""))


class TokenStore:
    """The refreshed token of one connector, in ``<data dir>/tokens/<name>.json`` (0600), valid while the
    configured token is the one it replaced (its fingerprint, never the token, is kept beside it)."""

    def __init__(self, path: Path, configured_token: str) -> None:
        self.path, self.source = path, secret_fingerprint(configured_token)

    def load(self) -> str | None:
        """The refreshed token, if one replaced the configured token now set (None otherwise)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        token = data.get("access_token") if isinstance(data, dict) else None
        return token if isinstance(token, str) and token and data.get("source") == self.source else None

    def save(self, refreshed: RefreshedToken, *, now: datetime) -> None:
        """Write the new token atomically, readable by the owner only."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path.parent, 0o700)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"access_token": refreshed.access_token, "source": self.source,
                       "expires_at": refreshed.expires_at.isoformat(), "refreshed_at": now.isoformat()}, out)
        tmp.replace(self.path)


def token_path(data_dir: Path, name: str) -> Path:
    """Where connector ``name`` keeps a refreshed token."""
    return data_dir / "tokens" / f"{name}.json"
