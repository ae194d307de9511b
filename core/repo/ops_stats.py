"""Reads for monitoring (``/metrics``, readiness): counts by group, queue ages, lateness. Each is one indexed
aggregate query, cheap enough to run on every scrape."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlite_utils import Database

from core.clock import from_iso, to_iso
from core.models import OPEN_STATUSES

# Outbox states that are still work (a row leaves the queue once sent or cancelled).
POST_QUEUE_STATES = ("pending", "publishing", "handed_off", "to_verify", "failed")
REPLY_QUEUE_STATES = ("scheduled", "publishing", "to_verify", "failed")
# A person's moderation act (hide, delete, ban...) is work while being sent or waiting for a person's check; a
# failed act is final (certainly not done, the agent was told), so it leaves the queue like a done one.
ACT_QUEUE_STATES = ("sending", "to_verify")


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def mentions_per_platform(db: Database) -> dict[str, int]:
    """Stored mentions per platform."""
    return {r[0]: int(r[1]) for r in db.execute("SELECT platform, count(*) FROM mentions GROUP BY platform")}


def open_by_priority(db: Database, bands: Sequence[tuple[str, float]]) -> dict[str, int]:
    """Open items per priority band; ``bands`` are (name, lowest priority), highest band first."""
    whens = " ".join("WHEN priority >= ? THEN ?" for _ in bands)
    params: list[object] = [v for name, low in bands for v in (low, name)]
    statuses = sorted(str(s) for s in OPEN_STATUSES)
    rows = db.execute(f"SELECT CASE {whens} ELSE ? END AS band, count(*) FROM mentions "
                      f"WHERE status IN ({_marks(statuses)}) GROUP BY band",
                      [*params, bands[-1][0], *statuses]).fetchall()
    counts = {name: 0 for name, _ in bands}
    for band, n in rows:
        counts[band] += int(n)
    return counts


def post_queue(db: Database) -> list[tuple[str, int, datetime | None]]:
    """(state, count, since) of post targets still in the outbox; ``since`` is, for ``pending``, the earliest
    time one may go (its due time or next retry), otherwise the oldest entry into that state."""
    rows = db.execute(
        "SELECT state, count(*), min(CASE WHEN state = 'pending' THEN not_before ELSE updated_at END) "
        f"FROM post_targets WHERE state IN ({_marks(POST_QUEUE_STATES)}) GROUP BY state",
        POST_QUEUE_STATES).fetchall()
    return [(r[0], int(r[1]), from_iso(r[2])) for r in rows]


def reply_queue(db: Database) -> list[tuple[str, int, datetime | None]]:
    """(state, count, since) of replies still in the outbox; ``since`` is, for ``scheduled``, the earliest time
    one may go (its scheduled time, or its next retry), otherwise the oldest entry into that state."""
    rows = db.execute(
        "SELECT state, count(*), min(CASE WHEN state = 'scheduled' THEN max(scheduled_at, COALESCE(not_before, "
        "scheduled_at)) ELSE updated_at END) FROM drafts WHERE mention_uid IS NOT NULL AND state IN "
        f"({_marks(REPLY_QUEUE_STATES)}) GROUP BY state", REPLY_QUEUE_STATES).fetchall()
    return [(r[0], int(r[1]), from_iso(r[2])) for r in rows]


def act_queue(db: Database) -> list[tuple[str, int, datetime | None]]:
    """(state, count, since) of moderation acts still in the outbox; ``since`` is, for ``sending``, the earliest
    time one may go (its next retry, else when it was claimed), otherwise the oldest entry into that state."""
    rows = db.execute(
        "SELECT state, count(*), min(CASE WHEN state = 'sending' THEN COALESCE(not_before, claimed_at) "
        f"ELSE updated_at END) FROM moderation_acts WHERE state IN ({_marks(ACT_QUEUE_STATES)}) GROUP BY state",
        ACT_QUEUE_STATES).fetchall()
    return [(r[0], int(r[1]), from_iso(r[2])) for r in rows]


def worst_post_lateness_s(db: Database, since: datetime) -> float | None:
    """The largest delay, in seconds, between a post target's due time and its publication, among those
    published since ``since`` (None: none published)."""
    row = db.execute(
        "SELECT max((julianday(t.published_at) - julianday(COALESCE(t.due_at, p.scheduled_at))) * 86400.0) "
        "FROM post_targets t JOIN posts p ON p.id = t.post_id WHERE t.state = 'sent' AND t.published_at >= ?",
        (to_iso(since),)).fetchone()
    return None if row[0] is None else float(row[0])


def worst_reply_lateness_s(db: Database, since: datetime) -> float | None:
    """The largest delay, in seconds, between a scheduled reply's time and its sending, among those sent since
    ``since`` (None: none sent)."""
    row = db.execute(
        "SELECT max((julianday(sent_at) - julianday(scheduled_at)) * 86400.0) FROM drafts "
        "WHERE state = 'sent' AND mention_uid IS NOT NULL AND scheduled_at IS NOT NULL AND sent_at >= ?",
        (to_iso(since),)).fetchone()
    return None if row[0] is None else float(row[0])
