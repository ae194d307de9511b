"""Connector state (cursor, health, sync requests) and the worker heartbeat."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core.clock import from_iso, to_iso
from core.models import ConnectorHealth


def connector_health(db: Database, name: str) -> ConnectorHealth:
    """Stored health of connector ``name`` (status ``never`` if it never ran)."""
    row = db.execute("SELECT name, status, last_sync_at, last_error, rate_limited_until, cursor, fetched_total "
                     "FROM connector_state WHERE name = ?", (name,)).fetchone()
    if row is None:
        return ConnectorHealth(name=name, status="never")
    return ConnectorHealth(name=row[0], status=row[1], last_sync_at=from_iso(row[2]), last_error=row[3],
                           rate_limited_until=from_iso(row[4]), cursor=row[5], fetched_total=row[6])


def all_connector_health(db: Database) -> list[ConnectorHealth]:
    """Health of every connector that ever ran."""
    return [connector_health(db, r[0]) for r in db.execute("SELECT name FROM connector_state ORDER BY name")]


def save_connector_state(db: Database, name: str, *, platform: str, status: str, now: datetime,
                         cursor: str | None | object = ..., last_error: str | None = None,
                         rate_limited_until: datetime | None = None, fetched: int = 0,
                         counts: dict[str, int] | None = None) -> None:
    """Upsert a connector's cursor and health after a sync attempt (``cursor=...`` keeps the stored one)."""
    db.execute("INSERT OR IGNORE INTO connector_state (name, platform) VALUES (?, ?)", (name, platform))
    if cursor is not ...:
        db.execute("UPDATE connector_state SET cursor = ? WHERE name = ?", (cursor, name))
    db.execute(
        "UPDATE connector_state SET status = ?, last_sync_at = ?, last_error = ?, rate_limited_until = ?, "
        "fetched_total = fetched_total + ?, last_counts = ? WHERE name = ?",
        (status, to_iso(now), last_error, to_iso(rate_limited_until) if rate_limited_until else None, fetched,
         json.dumps(counts or {}), name))


def request_sync(db: Database, name: str, platform: str, *, now: datetime) -> None:
    """Ask the worker to sync connector ``name`` at its next tick."""
    db.execute("INSERT OR IGNORE INTO connector_state (name, platform) VALUES (?, ?)", (name, platform))
    db.execute("UPDATE connector_state SET sync_requested_at = ? WHERE name = ?", (to_iso(now), name))


def take_sync_requests(db: Database) -> list[str]:
    """Names of connectors with a pending "sync now" request; clears the requests."""
    names = [r[0] for r in db.execute("SELECT name FROM connector_state WHERE sync_requested_at IS NOT NULL")]
    if names:
        db.execute("UPDATE connector_state SET sync_requested_at = NULL WHERE sync_requested_at IS NOT NULL")
    return names


def connector_counts(db: Database, name: str) -> dict[str, int]:
    """Counts of the last sync of connector ``name``."""
    row = db.execute("SELECT last_counts FROM connector_state WHERE name = ?", (name,)).fetchone()
    return json.loads(row[0]) if row and row[0] else {}


def beat(db: Database, name: str, *, pid: int, started_at: datetime, now: datetime,
         info: dict[str, Any] | None = None) -> None:
    """Record that worker ``name`` is alive."""
    db.execute("INSERT INTO worker_heartbeat (name, pid, started_at, beat_at, info) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT (name) DO UPDATE SET pid = excluded.pid, started_at = excluded.started_at, "
               "beat_at = excluded.beat_at, info = excluded.info",
               (name, pid, to_iso(started_at), to_iso(now), json.dumps(info or {})))


def last_beat(db: Database, name: str = "worker") -> datetime | None:
    """When worker ``name`` last reported, or None."""
    row = db.execute("SELECT beat_at FROM worker_heartbeat WHERE name = ?", (name,)).fetchone()
    return from_iso(row[0]) if row else None
