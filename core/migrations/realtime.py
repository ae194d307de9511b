"""Migration of the real-time channels: the inbox of pushed webhook events and the live streams' state (m110)."""

from __future__ import annotations

from sqlite_utils import Database


def m110_webhook_events(db: Database) -> None:
    """``webhook_events``: each signed webhook body accepted, once (``digest`` of the raw body is unique: a replay
    of the same bytes adds nothing), consumed by the worker; ``realtime_channels``: a pushed channel's state
    (a Mastodon stream: connected / reconnecting since / last event; Meta webhooks: last event)."""
    db.executescript("""
    CREATE TABLE webhook_events (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        digest TEXT NOT NULL UNIQUE,
        received_at TEXT NOT NULL,
        body TEXT,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_try_at TEXT,
        processed_at TEXT,
        outcome TEXT
    );
    CREATE INDEX webhook_events_pending ON webhook_events (status, id) WHERE status = 'pending';
    CREATE INDEX webhook_events_received ON webhook_events (received_at);
    CREATE TABLE realtime_channels (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        since TEXT NOT NULL,
        last_event_at TEXT,
        events INTEGER NOT NULL DEFAULT 0,
        detail TEXT
    );
    """)
