"""Automation rules and their runs (issue #17; services/moderation/automation.py holds the logic)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core.clock import from_iso, to_iso
from core.errors import NotFoundError
from core.models import InboxItem
from core.repo.inbox import MENTION_COLUMNS, _items

_COLS = ("id, name, conditions, actions, enabled, enabled_by, enabled_at, dry_run_at, dry_run_matches, rotation, "
         "created_by, created_at, updated_at")


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredRule:
    """A rule as stored: conditions and actions are plain dicts (validated by the service)."""

    id: int
    name: str
    conditions: dict[str, Any]
    actions: dict[str, Any]
    enabled: bool
    enabled_by: int | None
    enabled_at: datetime | None
    dry_run_at: datetime | None
    dry_run_matches: int | None
    rotation: int
    created_by: int | None
    created_at: datetime
    updated_at: datetime


def _rule(r: tuple[Any, ...]) -> StoredRule:
    return StoredRule(id=r[0], name=r[1], conditions=json.loads(r[2] or "{}"), actions=json.loads(r[3] or "{}"),
                      enabled=bool(r[4]), enabled_by=r[5], enabled_at=from_iso(r[6]), dry_run_at=from_iso(r[7]),
                      dry_run_matches=r[8], rotation=int(r[9] or 0), created_by=r[10],
                      created_at=from_iso(r[11]),  # type: ignore[arg-type]
                      updated_at=from_iso(r[12]))  # type: ignore[arg-type]


def insert_rule(db: Database, *, name: str, conditions: dict[str, Any], actions: dict[str, Any],
                agent_id: int | None, now: datetime) -> int:
    """Store a new rule (switched off); return its id."""
    cur = db.execute("INSERT INTO automation_rules (name, conditions, actions, created_by, created_at, updated_at) "
                     "VALUES (?, ?, ?, ?, ?, ?)", (name, json.dumps(conditions, ensure_ascii=False),
                                                   json.dumps(actions, ensure_ascii=False), agent_id, to_iso(now),
                                                   to_iso(now)))
    return int(cur.lastrowid or 0)


def update_rule(db: Database, rule_id: int, *, name: str, conditions: dict[str, Any], actions: dict[str, Any],
                now: datetime) -> None:
    """Change a rule: it is switched off and its dry run forgotten (it must be tried again)."""
    db.execute("UPDATE automation_rules SET name = ?, conditions = ?, actions = ?, enabled = 0, enabled_by = NULL, "
               "enabled_at = NULL, dry_run_at = NULL, dry_run_matches = NULL, updated_at = ? WHERE id = ?",
               (name, json.dumps(conditions, ensure_ascii=False), json.dumps(actions, ensure_ascii=False),
                to_iso(now), rule_id))


def get_rule(db: Database, rule_id: int) -> StoredRule:
    """One rule, or NotFoundError."""
    row = db.execute(f"SELECT {_COLS} FROM automation_rules WHERE id = ?", (rule_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no automation rule {rule_id}", reason="automation_rule_unknown", rule_id=rule_id)
    return _rule(row)


def list_rules(db: Database, *, enabled_only: bool = False) -> list[StoredRule]:
    """Every rule (or the switched-on ones), oldest first: rules run in that order."""
    where = "WHERE enabled = 1" if enabled_only else ""
    return [_rule(r) for r in db.execute(f"SELECT {_COLS} FROM automation_rules {where} ORDER BY id").fetchall()]


def set_dry_run(db: Database, rule_id: int, *, matches: int, now: datetime) -> None:
    """Remember that the rule was tried (and on how many messages it would have acted)."""
    db.execute("UPDATE automation_rules SET dry_run_at = ?, dry_run_matches = ? WHERE id = ?",
               (to_iso(now), matches, rule_id))


def set_enabled(db: Database, rule_id: int, enabled: bool, *, agent_id: int | None, now: datetime) -> None:
    """Switch a rule on (by ``agent_id``, from ``now``: older messages are left alone) or off."""
    if enabled:
        db.execute("UPDATE automation_rules SET enabled = 1, enabled_by = ?, enabled_at = ?, updated_at = ? "
                   "WHERE id = ?", (agent_id, to_iso(now), to_iso(now), rule_id))
    else:
        db.execute("UPDATE automation_rules SET enabled = 0, updated_at = ? WHERE id = ?", (to_iso(now), rule_id))


def next_rotation(db: Database, rule_id: int) -> int:
    """The rule's rotation cursor, then moved on by one (team assignment in turn)."""
    row = db.execute("SELECT rotation FROM automation_rules WHERE id = ?", (rule_id,)).fetchone()
    db.execute("UPDATE automation_rules SET rotation = rotation + 1 WHERE id = ?", (rule_id,))
    return int(row[0]) if row else 0


def record_run(db: Database, rule_id: int, uid: str, actions: list[str], *, now: datetime) -> bool:
    """Record that the rule acted on ``uid``; False if it already had (a rule acts once per mention)."""
    cur = db.execute("INSERT OR IGNORE INTO automation_runs (rule_id, mention_uid, actions, applied_at) "
                     "VALUES (?, ?, ?, ?)", (rule_id, uid, json.dumps(actions), to_iso(now)))
    return bool(cur.rowcount)


def runs_for(db: Database, rule_id: int) -> int:
    """How many mentions the rule acted on."""
    return int(db.execute("SELECT count(*) FROM automation_runs WHERE rule_id = ? AND actions != '[]'",
                          (rule_id,)).fetchone()[0])


def candidates(db: Database, *, since: datetime, rule_id: int | None = None, limit: int = 20_000
               ) -> list[InboxItem]:
    """Mentions ingested since ``since`` (for a switched-on rule: not yet acted on by it), oldest first."""
    cols = ", ".join("m." + c.strip() for c in MENTION_COLUMNS.split(","))
    params: list[Any] = [to_iso(since)]
    extra = ""
    if rule_id is not None:
        extra = " AND NOT EXISTS (SELECT 1 FROM automation_runs r WHERE r.rule_id = ? AND r.mention_uid = m.uid)"
        params.append(rule_id)
    rows = db.execute(f"SELECT {cols} FROM mentions m WHERE m.ingested_at >= ? AND m.deleted_at IS NULL{extra} "
                      "ORDER BY m.ingested_at, m.rowid LIMIT ?", [*params, limit]).fetchall()
    return _items(db, rows)


def created_since(db: Database, *, since: datetime, limit: int = 20_000) -> list[InboxItem]:
    """Mentions created since ``since`` (the dry run's 30 days), oldest first."""
    cols = ", ".join("m." + c.strip() for c in MENTION_COLUMNS.split(","))
    rows = db.execute(f"SELECT {cols} FROM mentions m WHERE m.created_at >= ? AND m.deleted_at IS NULL "
                      "ORDER BY m.created_at LIMIT ?", (to_iso(since), limit)).fetchall()
    return _items(db, rows)


def set_priority_floor(db: Database, uid: str, floor: float) -> None:
    """A rule set ``uid``'s priority: it is stored now and kept as a floor by the re-prioritisation."""
    db.execute("INSERT INTO automation_priority (mention_uid, floor) VALUES (?, ?) ON CONFLICT (mention_uid) DO "
               "UPDATE SET floor = excluded.floor", (uid, floor))
    db.execute("UPDATE mentions SET priority = ? WHERE uid = ?", (floor, uid))


def respect_floors(db: Database, changes: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """``changes`` (uid, new priority) with each priority raised to the floor a rule set, if any."""
    if not changes:
        return changes
    floors: dict[str, float] = {}
    uids = [u for u, _ in changes]
    for i in range(0, len(uids), 500):
        chunk = uids[i:i + 500]
        floors.update(db.execute(f"SELECT mention_uid, floor FROM automation_priority WHERE mention_uid IN "
                                 f"({','.join('?' * len(chunk))})", chunk).fetchall())
    return [(u, max(p, floors[u]) if u in floors else p) for u, p in changes]
