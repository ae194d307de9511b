"""DML of the real-time channels (core/migrations/realtime.py m110): webhook events and live streams' state.

``webhook_events`` is an inbox of events: the web route records each signed body once (its SHA-256 ``digest`` is
unique, so a byte-identical replay inserts nothing), the worker takes the pending ones in order, and marks each
done (its body cleared: the stored mention is what stays) or failed-for-now (retried later, then ``failed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from core.clock import from_iso, to_iso


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One accepted webhook body waiting for (or past) its processing."""

    id: int
    source: str
    digest: str
    received_at: datetime
    body: str | None
    status: str
    attempts: int


@dataclass(frozen=True, slots=True)
class ChannelState:
    """A pushed channel's state: ``state`` (connected, reconnecting, stopped, receiving), since when, last event."""

    name: str
    kind: str
    state: str
    since: datetime
    last_event_at: datetime | None
    events: int
    detail: str | None


def record_webhook_event(db: Database, *, source: str, digest: str, body: str, now: datetime) -> int | None:
    """Record an accepted body; returns its id, or None when a body with this digest was already recorded."""
    cur = db.execute("INSERT OR IGNORE INTO webhook_events (source, digest, received_at, body) VALUES (?, ?, ?, ?)",
                     (source, digest, to_iso(now), body))
    return int(cur.lastrowid) if cur.rowcount and cur.lastrowid is not None else None


def _event(row: tuple) -> WebhookEvent:
    received = from_iso(row[3])
    assert received is not None
    return WebhookEvent(id=row[0], source=row[1], digest=row[2], received_at=received, body=row[4], status=row[5],
                        attempts=row[6])


_COLUMNS = "id, source, digest, received_at, body, status, attempts"


def pending_webhook_events(db: Database, *, now: datetime, limit: int = 100) -> list[WebhookEvent]:
    """Pending events whose next try is due, oldest first."""
    rows = db.execute(f"SELECT {_COLUMNS} FROM webhook_events WHERE status = 'pending' "
                      "AND (next_try_at IS NULL OR next_try_at <= ?) ORDER BY id LIMIT ?", (to_iso(now), limit))
    return [_event(r) for r in rows.fetchall()]


def has_pending_webhook_events(db: Database) -> bool:
    """Whether any event waits (due or not)."""
    return db.execute("SELECT 1 FROM webhook_events WHERE status = 'pending' LIMIT 1").fetchone() is not None


def webhook_event(db: Database, event_id: int) -> WebhookEvent | None:
    """One event by id."""
    row = db.execute(f"SELECT {_COLUMNS} FROM webhook_events WHERE id = ?", (event_id,)).fetchone()
    return _event(row) if row else None


def finish_webhook_event(db: Database, event_id: int, *, now: datetime, outcome: str) -> None:
    """Mark an event processed; its body is dropped (the digest stays, to recognise a replay)."""
    db.execute("UPDATE webhook_events SET status = 'done', body = NULL, processed_at = ?, outcome = ?, "
               "attempts = attempts + 1, next_try_at = NULL WHERE id = ?", (to_iso(now), outcome[:500], event_id))


def retry_webhook_event(db: Database, event_id: int, *, now: datetime, outcome: str, retry_at: datetime | None) -> None:
    """Count a failed attempt: try again at ``retry_at``, or give up (``failed``, body dropped) when None."""
    if retry_at is None:
        db.execute("UPDATE webhook_events SET status = 'failed', body = NULL, processed_at = ?, outcome = ?, "
                   "attempts = attempts + 1, next_try_at = NULL WHERE id = ?", (to_iso(now), outcome[:500], event_id))
    else:
        db.execute("UPDATE webhook_events SET attempts = attempts + 1, next_try_at = ?, outcome = ? WHERE id = ?",
                   (to_iso(retry_at), outcome[:500], event_id))


def purge_webhook_events(db: Database, *, older_than: datetime) -> int:
    """Forget processed events received before ``older_than`` (their digests too: a replay after that is new)."""
    cur = db.execute("DELETE FROM webhook_events WHERE status != 'pending' AND received_at < ?",
                     (to_iso(older_than),))
    return cur.rowcount or 0


def webhook_event_counts(db: Database, *, since: datetime) -> dict[str, int]:
    """Events received since ``since`` per status."""
    rows = db.execute("SELECT status, COUNT(*) FROM webhook_events WHERE received_at >= ? GROUP BY status",
                      (to_iso(since),))
    return {r[0]: r[1] for r in rows.fetchall()}


def last_webhook_event_at(db: Database, source: str) -> datetime | None:
    """When the newest event from ``source`` was received."""
    row = db.execute("SELECT MAX(received_at) FROM webhook_events WHERE source = ?", (source,)).fetchone()
    return from_iso(row[0]) if row and row[0] else None


def set_channel_state(db: Database, name: str, *, kind: str, state: str, now: datetime,
                      detail: str | None = None) -> None:
    """Record a channel's state; ``since`` moves only when the state changes."""
    db.execute("INSERT INTO realtime_channels (name, kind, state, since, detail) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, detail = excluded.detail, "
               "since = CASE WHEN realtime_channels.state = excluded.state THEN realtime_channels.since "
               "ELSE excluded.since END, state = excluded.state",
               (name, kind, state, to_iso(now), detail))


def channel_event(db: Database, name: str, *, now: datetime) -> None:
    """Count an event received on a channel."""
    db.execute("UPDATE realtime_channels SET last_event_at = ?, events = events + 1 WHERE name = ?",
               (to_iso(now), name))


def channel_states(db: Database) -> list[ChannelState]:
    """Every channel's state, by name."""
    rows = db.execute("SELECT name, kind, state, since, last_event_at, events, detail FROM realtime_channels "
                      "ORDER BY name").fetchall()
    out = []
    for r in rows:
        since = from_iso(r[3])
        assert since is not None
        out.append(ChannelState(name=r[0], kind=r[1], state=r[2], since=since, last_event_at=from_iso(r[4]),
                                events=r[5], detail=r[6]))
    return out

