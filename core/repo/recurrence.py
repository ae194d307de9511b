"""DML for recurring posts (rules such as "every Monday at 9:00") and their materialised occurrences.

The occurrences themselves are ordinary rows of ``posts`` (``recurrence_id``, ``recurrence_revision``,
``occurrence_date``), written with :func:`core.repo.posts.insert_post`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlite_utils import Database

from core.clock import from_iso, to_iso
from core.errors import NotFoundError
from core.models import DraftState, Platform, Recurrence

COLS = ("id, author_id, text, variants, media, accounts, native_schedule, freq, every_n, weekdays, local_time, "
        "start_date, until_date, exceptions, state, revision, content_hash, approved_hash, approver_id, "
        "submitted_at, approved_at, comment, materialized_until, created_at, updated_at")
_UPDATABLE = {"text", "variants", "media", "accounts", "native_schedule", "freq", "every_n", "weekdays",
              "local_time", "start_date", "until_date", "exceptions", "state", "revision", "content_hash",
              "approved_hash", "approver_id", "submitted_at", "approved_at", "comment", "materialized_until"}


def _opt_date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, list | tuple):
        return json.dumps([_value(v) if isinstance(v, date) else v for v in value], ensure_ascii=False)
    if isinstance(value, bool):
        return int(value)
    return value


def _rule(r: Sequence[Any]) -> Recurrence:
    pairs = json.loads(r[5])
    created, updated, start = from_iso(r[23]), from_iso(r[24]), _opt_date(r[11])
    assert created is not None and updated is not None and start is not None
    return Recurrence(
        id=r[0], author_id=r[1], text=r[2], variants=json.loads(r[3]), media=tuple(json.loads(r[4])),
        accounts=tuple(a for a, _ in pairs), platforms={a: Platform(p) for a, p in pairs},
        native_schedule=bool(r[6]), freq=r[7], every=r[8], weekdays=tuple(json.loads(r[9])), local_time=r[10],
        start_date=start, until_date=_opt_date(r[12]),
        exceptions=tuple(date.fromisoformat(d) for d in json.loads(r[13])), state=DraftState(r[14]),
        revision=r[15], content_hash=r[16], approved_hash=r[17], approver_id=r[18],
        submitted_at=from_iso(r[19]), approved_at=from_iso(r[20]), comment=r[21],
        materialized_until=_opt_date(r[22]), created_at=created, updated_at=updated)


def insert(db: Database, *, author_id: int, text: str, targets: Sequence[tuple[str, Platform]], freq: str,
           every: int, weekdays: Sequence[int], local_time: str, start_date: date, until_date: date | None,
           exceptions: Sequence[date], variants: dict[str, str], media: Sequence[dict[str, Any]],
           native_schedule: bool, state: DraftState, content_hash: str, now: datetime) -> int:
    """Insert a recurrence rule; returns its id."""
    cur = db.execute(
        "INSERT INTO recurrences (author_id, text, variants, media, accounts, native_schedule, freq, every_n, "
        "weekdays, local_time, start_date, until_date, exceptions, state, content_hash, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (author_id, text, _value(variants), _value(list(media)), json.dumps([[a, str(p)] for a, p in targets]),
         int(native_schedule), freq, every, json.dumps(sorted(set(weekdays))), local_time, start_date.isoformat(),
         _value(until_date), _value(sorted(set(exceptions))), str(state), content_hash, to_iso(now), to_iso(now)))
    return int(cur.lastrowid or 0)


def get(db: Database, rule_id: int) -> Recurrence:
    """One rule, or NotFoundError."""
    row = db.execute(f"SELECT {COLS} FROM recurrences WHERE id = ?", (rule_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no recurrence {rule_id}", reason="recurrence_not_found", rule_id=rule_id)
    return _rule(row)


def update(db: Database, rule_id: int, *, now: datetime, **changes: Any) -> None:
    """Set columns of a rule (``accounts`` as ``[(account, platform), ...]``)."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable on recurrences: {sorted(unknown)}")
    if "accounts" in changes:
        changes["accounts"] = json.dumps([[a, str(p)] for a, p in changes["accounts"]])
    values = [v if k == "accounts" else _value(v) for k, v in changes.items()]
    sets = ", ".join(f"{k} = ?" for k in changes)
    db.execute(f"UPDATE recurrences SET {sets}, updated_at = ? WHERE id = ?", [*values, to_iso(now), rule_id])


def in_states(db: Database, states: Sequence[DraftState]) -> list[Recurrence]:
    """Rules in the given states."""
    rows = db.execute(f"SELECT {COLS} FROM recurrences WHERE state IN ({','.join('?' * len(states))}) ORDER BY id",
                      [str(s) for s in states]).fetchall()
    return [_rule(r) for r in rows]


def occurrence_taken(db: Database, rule_id: int, day: date) -> bool:
    """True if a live (not cancelled) post already stands for this occurrence, whatever its revision."""
    return db.execute("SELECT 1 FROM posts WHERE recurrence_id = ? AND occurrence_date = ? AND state != 'cancelled'",
                      (rule_id, day.isoformat())).fetchone() is not None


def future_occurrences(db: Database, rule_id: int, *, after: datetime, states: Sequence[DraftState]) -> list[int]:
    """Ids of the rule's posts scheduled after ``after`` in the given states."""
    rows = db.execute(f"SELECT id FROM posts WHERE recurrence_id = ? AND scheduled_at > ? AND state IN "
                      f"({','.join('?' * len(states))}) ORDER BY scheduled_at",
                      [rule_id, to_iso(after), *(str(s) for s in states)]).fetchall()
    return [int(r[0]) for r in rows]
