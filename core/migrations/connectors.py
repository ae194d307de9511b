"""Migrations of connector state and the worker heartbeat (m003, m005)."""

from __future__ import annotations

from sqlite_utils import Database


def m003_connectors_and_worker(db: Database) -> None:
    """Per-connector cursor and health; worker heartbeat."""
    db.executescript("""
    CREATE TABLE connector_state (
        name TEXT PRIMARY KEY,
        platform TEXT NOT NULL,
        cursor TEXT,
        status TEXT NOT NULL DEFAULT 'never',
        last_sync_at TEXT,
        last_error TEXT,
        rate_limited_until TEXT,
        fetched_total INTEGER NOT NULL DEFAULT 0,
        last_counts TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE worker_heartbeat (
        name TEXT PRIMARY KEY,
        pid INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        beat_at TEXT NOT NULL,
        info TEXT NOT NULL DEFAULT '{}'
    );
    """)


def m005_sync_requests(db: Database) -> None:
    """A "sync now" asked from the console, picked up by the worker."""
    db.executescript("""
    ALTER TABLE connector_state ADD COLUMN sync_requested_at TEXT;
    """)
