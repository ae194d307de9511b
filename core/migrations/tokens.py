"""Migrations of the connectors' token lifecycle (m185): expiry as the platform tells it, the reconnect block.

One row per connector: what Meta's ``debug_token`` said last (``expires_at`` and ``data_access_expires_at`` as
ISO times, NULL = never; ``is_valid``; ``scopes`` as a JSON list; ``checked_at``), when the token was last
refreshed (Instagram), which expiry the admins were told about by e-mail (``notified_expiry``), and the
« reconnexion nécessaire » block: the fingerprint (a hash, never the token) of the credentials the platform
refused, so that the worker stops calling until the credentials change or an admin retries (decision 0185).
"""

from __future__ import annotations

from sqlite_utils import Database


def m185_connector_tokens(db: Database) -> None:
    """The token state of each connector (docs/connectors.md, « Tokens »)."""
    db.executescript("""
    CREATE TABLE connector_tokens (
        name TEXT PRIMARY KEY,
        platform TEXT NOT NULL,
        expires_at TEXT,
        data_access_expires_at TEXT,
        is_valid INTEGER,
        scopes TEXT NOT NULL DEFAULT '[]',
        checked_at TEXT,
        check_error TEXT,
        refreshed_at TEXT,
        notified_expiry TEXT,
        blocked_fingerprint TEXT,
        blocked_at TEXT,
        blocked_error TEXT
    );
    """)
