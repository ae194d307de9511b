"""The connectors' token state (table ``connector_tokens``, migration m185): expiry checks, refreshes, e-mail
notice of an expiry, and the « reconnexion nécessaire » block. Tokens themselves are never stored here: only
fingerprints (hashes) of the credentials refused."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlite_utils import Database

from core.clock import from_iso, to_iso


@dataclass(frozen=True, slots=True)
class TokenState:
    """What Parvis knows of one connector's token (all None when never checked)."""

    name: str
    expires_at: datetime | None = None  # None: never expires, or unknown (see ``checked_at``)
    data_access_expires_at: datetime | None = None
    is_valid: bool | None = None
    scopes: tuple[str, ...] = field(default_factory=tuple)
    checked_at: datetime | None = None
    check_error: str | None = None
    refreshed_at: datetime | None = None
    notified_expiry: str | None = None
    blocked_fingerprint: str | None = None
    blocked_at: datetime | None = None
    blocked_error: str | None = None

    @property
    def blocked(self) -> bool:
        """The platform refused these credentials: the worker waits for new ones or « Réessayer »."""
        return self.blocked_fingerprint is not None


_COLUMNS = ("name, expires_at, data_access_expires_at, is_valid, scopes, checked_at, check_error, refreshed_at, "
            "notified_expiry, blocked_fingerprint, blocked_at, blocked_error")


def token_state(db: Database, name: str) -> TokenState:
    """The stored token state of connector ``name`` (an empty state when nothing was stored)."""
    row = db.execute(f"SELECT {_COLUMNS} FROM connector_tokens WHERE name = ?", (name,)).fetchone()
    if row is None:
        return TokenState(name=name)
    return TokenState(name=row[0], expires_at=from_iso(row[1]), data_access_expires_at=from_iso(row[2]),
                      is_valid=None if row[3] is None else bool(row[3]), scopes=tuple(json.loads(row[4] or "[]")),
                      checked_at=from_iso(row[5]), check_error=row[6], refreshed_at=from_iso(row[7]),
                      notified_expiry=row[8], blocked_fingerprint=row[9], blocked_at=from_iso(row[10]),
                      blocked_error=row[11])


def _ensure(db: Database, name: str, platform: str) -> None:
    db.execute("INSERT OR IGNORE INTO connector_tokens (name, platform) VALUES (?, ?)", (name, platform))


def save_token_check(db: Database, name: str, platform: str, *, now: datetime, expires_at: datetime | None,
                     data_access_expires_at: datetime | None, is_valid: bool, scopes: list[str]) -> None:
    """Record what the platform said of the token (``debug_token``)."""
    _ensure(db, name, platform)
    db.execute("UPDATE connector_tokens SET expires_at = ?, data_access_expires_at = ?, is_valid = ?, scopes = ?, "
               "checked_at = ?, check_error = NULL WHERE name = ?",
               (to_iso(expires_at) if expires_at else None,
                to_iso(data_access_expires_at) if data_access_expires_at else None, int(is_valid),
                json.dumps(sorted(scopes)), to_iso(now), name))


def save_token_check_failed(db: Database, name: str, platform: str, *, now: datetime, error: str) -> None:
    """Record that the check could not be made (it counts as made: the next one is a day later)."""
    _ensure(db, name, platform)
    db.execute("UPDATE connector_tokens SET checked_at = ?, check_error = ? WHERE name = ?",
               (to_iso(now), error[:300], name))


def save_token_refreshed(db: Database, name: str, platform: str, *, now: datetime, expires_at: datetime | None) -> None:
    """Record a refresh (the new expiry; the token itself is kept elsewhere, decision 0186)."""
    _ensure(db, name, platform)
    db.execute("UPDATE connector_tokens SET refreshed_at = ?, expires_at = ?, is_valid = 1 WHERE name = ?",
               (to_iso(now), to_iso(expires_at) if expires_at else None, name))


def mark_expiry_notified(db: Database, name: str, key: str) -> None:
    """Remember that the admins were told about this expiry (``key``)."""
    db.execute("UPDATE connector_tokens SET notified_expiry = ? WHERE name = ?", (key, name))


def block_connector(db: Database, name: str, platform: str, *, fingerprint: str, now: datetime, error: str) -> None:
    """The platform refused the credentials with this ``fingerprint``: stop calling until they change."""
    _ensure(db, name, platform)
    db.execute("UPDATE connector_tokens SET blocked_fingerprint = ?, blocked_at = ?, blocked_error = ? "
               "WHERE name = ?", (fingerprint, to_iso(now), error[:300], name))


def unblock_connector(db: Database, name: str) -> bool:
    """Lift the block (new credentials, or « Réessayer »); whether there was one."""
    cur = db.execute("UPDATE connector_tokens SET blocked_fingerprint = NULL, blocked_at = NULL, "
                     "blocked_error = NULL WHERE name = ? AND blocked_fingerprint IS NOT NULL", (name,))
    return cur.rowcount > 0
