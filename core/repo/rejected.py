"""Items a platform sent that failed validation (migration m131): recorded at each sync, listed on Connexions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from core.clock import from_iso, to_iso

KEEP_PER_CONNECTOR = 500  # the most recently seen are kept


@dataclass(frozen=True, slots=True)
class RejectedItem:
    """One item the connector could not read: which, why, where to see it, when and how often it was seen."""

    connector: str
    platform: str
    item_id: str
    reason: str
    permalink: str | None
    first_seen: datetime
    last_seen: datetime
    seen: int


def record_rejected(db: Database, connector: str, platform: str, items: Iterable[tuple[str, str, str | None]], *,
                    now: datetime) -> int:
    """Record ``(item id, reason, permalink)`` triples (a repeat counts one more sighting); returns how many."""
    rows = [(connector, platform, item_id, reason, link, to_iso(now), to_iso(now)) for item_id, reason, link in items]
    if not rows:
        return 0
    db.conn.executemany(
        "INSERT INTO rejected_items (connector, platform, item_id, reason, permalink, first_seen, last_seen) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (connector, item_id) DO UPDATE SET reason = excluded.reason, "
        "last_seen = excluded.last_seen, seen = seen + 1", rows)
    db.execute("DELETE FROM rejected_items WHERE connector = ? AND item_id NOT IN (SELECT item_id FROM "
               "rejected_items WHERE connector = ? ORDER BY last_seen DESC LIMIT ?)",
               (connector, connector, KEEP_PER_CONNECTOR))
    return len(rows)


def rejected_items(db: Database, connector: str, *, limit: int = 20) -> list[RejectedItem]:
    """The items of ``connector`` that failed validation, the most recently seen first."""
    rows = db.execute("SELECT connector, platform, item_id, reason, permalink, first_seen, last_seen, seen "
                      "FROM rejected_items WHERE connector = ? ORDER BY last_seen DESC, item_id LIMIT ?",
                      (connector, limit)).fetchall()
    return [RejectedItem(connector=r[0], platform=r[1], item_id=r[2], reason=r[3], permalink=r[4],
                         first_seen=from_iso(r[5]), last_seen=from_iso(r[6]), seen=r[7])  # type: ignore[arg-type]
            for r in rows]


def rejected_count(db: Database, connector: str) -> int:
    """How many items of ``connector`` are listed as rejected."""
    return int(db.execute("SELECT count(*) FROM rejected_items WHERE connector = ?", (connector,)).fetchone()[0])
