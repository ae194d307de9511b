"""DML for the publishing calendar: posts, their per-account outbox rows (targets) and the attempts log.

Nothing here opens a transaction: services wrap each change and its audit record in
:func:`core.db.write_transaction`. Conditional updates (``claim_target``, ``update_target`` with
``expect_*``) return whether the row matched, which is how the outbox refuses a double claim.
Recurring posts are in :mod:`core.repo.recurrence`, the worker lease in :mod:`core.repo.leases`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlite_utils import Database

from core.clock import from_iso, to_iso
from core.errors import NotFoundError
from core.models import DraftState, Platform, Post, PostTarget, TargetState

POST_COLS = ("id, author_id, text, variants, media, scheduled_at, state, native_schedule, content_hash, "
             "approved_hash, approver_id, submitted_at, approved_at, comment, hold_reason, recurrence_id, "
             "occurrence_date, charter_version, charter_result, created_at, updated_at")
TARGET_COLS = ("id, post_id, account, platform, state, due_at, not_before, deadline_at, attempts, needs_check, "
               "claim_token, claimed_by, claimed_at, sent_text, platform_id, permalink, published_at, error_code, "
               "error")
_JSON_COLS = {"variants", "media", "charter_result"}
_POST_UPDATABLE = {"text", "variants", "media", "scheduled_at", "state", "native_schedule", "content_hash",
                   "approved_hash", "approver_id", "submitted_at", "approved_at", "comment", "hold_reason",
                   "charter_version", "charter_result", "recurrence_id", "recurrence_revision", "occurrence_date"}
_TARGET_UPDATABLE = {"state", "due_at", "not_before", "deadline_at", "attempts", "needs_check", "claim_token",
                     "claimed_by", "claimed_at", "sent_text", "platform_id", "permalink", "published_at",
                     "error_code", "error"}


def _value(key: str, value: Any) -> Any:
    """Python value -> stored value (UTC ISO text, JSON, ints for booleans)."""
    if isinstance(value, datetime):
        return to_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if key in _JSON_COLS:
        return json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, bool):
        return int(value)
    return value


def _target(r: Sequence[Any]) -> PostTarget:
    return PostTarget(id=r[0], post_id=r[1], account=r[2], platform=Platform(r[3]), state=TargetState(r[4]),
                      due_at=from_iso(r[5]), not_before=from_iso(r[6]), deadline_at=from_iso(r[7]),
                      attempts=r[8], needs_check=bool(r[9]), claim_token=r[10], claimed_by=r[11],
                      claimed_at=from_iso(r[12]), sent_text=r[13], platform_id=r[14], permalink=r[15],
                      published_at=from_iso(r[16]), error_code=r[17], error=r[18])


def _post(r: Sequence[Any], targets: Sequence[PostTarget]) -> Post:
    created = from_iso(r[19])
    updated = from_iso(r[20])
    scheduled = from_iso(r[5])
    assert created is not None and updated is not None and scheduled is not None
    return Post(id=r[0], author_id=r[1], text=r[2], variants=json.loads(r[3]), media=tuple(json.loads(r[4])),
                scheduled_at=scheduled, state=DraftState(r[6]), native_schedule=bool(r[7]), content_hash=r[8],
                approved_hash=r[9], approver_id=r[10], submitted_at=from_iso(r[11]), approved_at=from_iso(r[12]),
                comment=r[13], hold_reason=r[14], recurrence_id=r[15],
                occurrence_date=date.fromisoformat(r[16]) if r[16] else None, charter_version=r[17],
                charter_result=tuple(json.loads(r[18])), created_at=created, updated_at=updated,
                accounts=tuple(t.account for t in targets), targets=tuple(targets))


# ---- posts ------------------------------------------------------------------------------------------------

def insert_post(db: Database, *, author_id: int, text: str, scheduled_at: datetime, state: DraftState,
                content_hash: str, targets: Sequence[tuple[str, Platform]], now: datetime,
                variants: dict[str, str] | None = None, media: Sequence[dict[str, Any]] = (),
                native_schedule: bool = False, recurrence_id: int | None = None,
                recurrence_revision: int | None = None, occurrence_date: date | None = None,
                approved_hash: str | None = None, approver_id: int | None = None,
                submitted_at: datetime | None = None, approved_at: datetime | None = None) -> int | None:
    """Insert a post and one pending target per account; None if that recurring occurrence already exists."""
    row = {"author_id": author_id, "text": text, "variants": variants or {}, "media": list(media),
           "scheduled_at": scheduled_at, "state": str(state), "native_schedule": native_schedule,
           "content_hash": content_hash, "approved_hash": approved_hash, "approver_id": approver_id,
           "submitted_at": submitted_at, "approved_at": approved_at, "recurrence_id": recurrence_id,
           "recurrence_revision": recurrence_revision, "occurrence_date": occurrence_date,
           "created_at": now, "updated_at": now}
    cols = list(row)
    cur = db.execute(f"INSERT OR IGNORE INTO posts ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                     [_value(c, row[c]) for c in cols])
    if cur.rowcount == 0:
        return None
    post_id = int(cur.lastrowid or 0)
    add_targets(db, post_id, targets, now=now)
    return post_id


def add_targets(db: Database, post_id: int, targets: Iterable[tuple[str, Platform]], *, now: datetime) -> None:
    """Add a pending target per ``(account, platform)`` (existing accounts are left as they are)."""
    db.conn.executemany(
        "INSERT OR IGNORE INTO post_targets (post_id, account, platform, state, updated_at) "
        "VALUES (?, ?, ?, 'pending', ?)", [(post_id, a, str(p), to_iso(now)) for a, p in targets])


def remove_targets(db: Database, post_id: int, accounts: Iterable[str]) -> None:
    """Remove never-attempted targets (an account taken off a post before it went out)."""
    db.conn.executemany("DELETE FROM post_targets WHERE post_id = ? AND account = ? AND attempts = 0 "
                        "AND state IN ('pending', 'cancelled')", [(post_id, a) for a in accounts])


def targets_of(db: Database, post_ids: Sequence[int]) -> dict[int, list[PostTarget]]:
    """Targets of the given posts, by post id (ordered by account)."""
    out: dict[int, list[PostTarget]] = {pid: [] for pid in post_ids}
    for start in range(0, len(post_ids), 500):
        chunk = list(post_ids[start:start + 500])
        rows = db.execute(f"SELECT {TARGET_COLS} FROM post_targets WHERE post_id IN "
                          f"({','.join('?' * len(chunk))}) ORDER BY post_id, account", chunk).fetchall()
        for r in rows:
            out[r[1]].append(_target(r))
    return out


def _posts(db: Database, rows: list[Sequence[Any]]) -> list[Post]:
    targets = targets_of(db, [r[0] for r in rows])
    return [_post(r, targets[r[0]]) for r in rows]


def get_post(db: Database, post_id: int) -> Post:
    """The post with its targets, or NotFoundError."""
    rows = db.execute(f"SELECT {POST_COLS} FROM posts WHERE id = ?", (post_id,)).fetchall()
    if not rows:
        raise NotFoundError(f"no post {post_id}", reason="post_not_found", post_id=post_id)
    return _posts(db, rows)[0]


def update_post(db: Database, post_id: int, *, now: datetime, **changes: Any) -> None:
    """Set the given columns of a post (and ``updated_at``)."""
    unknown = set(changes) - _POST_UPDATABLE
    if unknown:
        raise ValueError(f"not updatable on posts: {sorted(unknown)}")
    changes["updated_at"] = now
    sets = ", ".join(f"{k} = ?" for k in changes)
    db.execute(f"UPDATE posts SET {sets} WHERE id = ?", [*(_value(k, v) for k, v in changes.items()), post_id])


def posts_between(db: Database, start: datetime, end: datetime, *, accounts: Sequence[str] = (),
                  states: Sequence[DraftState] = (), limit: int = 5000) -> list[Post]:
    """Posts scheduled in ``[start, end)``, oldest first, optionally only for some accounts or states."""
    where = ["p.scheduled_at >= ?", "p.scheduled_at < ?"]
    params: list[Any] = [to_iso(start), to_iso(end)]
    if accounts:
        where.append(f"EXISTS (SELECT 1 FROM post_targets t WHERE t.post_id = p.id AND t.account IN "
                     f"({','.join('?' * len(accounts))}))")
        params.extend(accounts)
    if states:
        where.append(f"p.state IN ({','.join('?' * len(states))})")
        params.extend(str(s) for s in states)
    cols = ", ".join(f"p.{c.strip()}" for c in POST_COLS.split(","))
    rows = db.execute(f"SELECT {cols} FROM posts p WHERE {' AND '.join(where)} ORDER BY p.scheduled_at, p.id "
                      "LIMIT ?", [*params, limit]).fetchall()
    return _posts(db, rows)


def posts_in_states(db: Database, states: Sequence[DraftState], *, since: datetime | None = None,
                    limit: int = 500) -> list[Post]:
    """Posts in the given states (scheduled at or after ``since`` if given), by scheduled time."""
    params: list[Any] = [str(s) for s in states]
    where = f"state IN ({','.join('?' * len(states))})"
    if since is not None:
        where += " AND scheduled_at >= ?"
        params.append(to_iso(since))
    rows = db.execute(f"SELECT {POST_COLS} FROM posts WHERE {where} ORDER BY scheduled_at, id LIMIT ?",
                      [*params, limit]).fetchall()
    return _posts(db, rows)


# ---- targets (the outbox) -------------------------------------------------------------------------------

def get_target(db: Database, target_id: int) -> PostTarget:
    """One outbox row, or NotFoundError."""
    row = db.execute(f"SELECT {TARGET_COLS} FROM post_targets WHERE id = ?", (target_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no post target {target_id}")
    return _target(row)


def update_target(db: Database, target_id: int, *, now: datetime, expect_state: TargetState | None = None,
                  expect_token: str | None = None, **changes: Any) -> bool:
    """Set columns of a target; with ``expect_*`` only if it is still in that state / claim. True if it matched."""
    unknown = set(changes) - _TARGET_UPDATABLE
    if unknown:
        raise ValueError(f"not updatable on post_targets: {sorted(unknown)}")
    changes["updated_at"] = now
    sets = ", ".join(f"{k} = ?" for k in changes)
    params: list[Any] = [_value(k, v) for k, v in changes.items()]
    where = "id = ?"
    params.append(target_id)
    if expect_state is not None:
        where += " AND state = ?"
        params.append(str(expect_state))
    if expect_token is not None:
        where += " AND claim_token = ?"
        params.append(expect_token)
    return db.execute(f"UPDATE post_targets SET {sets} WHERE {where}", params).rowcount == 1


def update_post_targets(db: Database, post_id: int, *, states: Sequence[TargetState], now: datetime,
                        **changes: Any) -> int:
    """Set columns on every target of ``post_id`` currently in one of ``states``; returns how many."""
    unknown = set(changes) - _TARGET_UPDATABLE
    if unknown:
        raise ValueError(f"not updatable on post_targets: {sorted(unknown)}")
    changes["updated_at"] = now
    sets = ", ".join(f"{k} = ?" for k in changes)
    params = [*(_value(k, v) for k, v in changes.items()), post_id, *(str(s) for s in states)]
    return int(db.execute(f"UPDATE post_targets SET {sets} WHERE post_id = ? AND state IN "
                          f"({','.join('?' * len(states))})", params).rowcount)


def claim_target(db: Database, target_id: int, *, token: str, worker: str, now: datetime, sent_text: str,
                 lease: str, lease_until: datetime) -> bool:
    """Move a pending target to ``publishing`` if it is still pending and ``worker`` holds ``lease``.

    One statement, so that of two workers (or a worker and a person cancelling) exactly one wins.
    """
    cur = db.execute(
        "UPDATE post_targets SET state = 'publishing', claim_token = ?, claimed_by = ?, claimed_at = ?, "
        "attempts = attempts + 1, sent_text = ?, updated_at = ? WHERE id = ? AND state = 'pending' AND EXISTS "
        "(SELECT 1 FROM worker_leases WHERE name = ? AND holder = ? AND expires_at > ?)",
        (token, worker, to_iso(now), sent_text, to_iso(now), target_id, lease, worker, to_iso(now)))
    if cur.rowcount == 1:
        db.execute("UPDATE worker_leases SET renewed_at = ?, expires_at = ? WHERE name = ? AND holder = ?",
                   (to_iso(now), to_iso(lease_until), lease, worker))
    return cur.rowcount == 1


def due_targets(db: Database, *, now: datetime, states: Sequence[TargetState], limit: int = 200) -> list[PostTarget]:
    """Targets in ``states`` whose ``not_before`` has come, oldest first, of posts released for publishing."""
    rows = db.execute(
        f"SELECT {', '.join('t.' + c.strip() for c in TARGET_COLS.split(','))} FROM post_targets t "
        "JOIN posts p ON p.id = t.post_id WHERE t.state IN "
        f"({','.join('?' * len(states))}) AND t.not_before <= ? "
        "AND p.state IN ('scheduled', 'publishing', 'sent', 'failed', 'to_verify') "
        "ORDER BY t.not_before, t.id LIMIT ?", [*(str(s) for s in states), to_iso(now), limit]).fetchall()
    return [_target(r) for r in rows]


def next_not_before(db: Database) -> datetime | None:
    """The earliest ``not_before`` of a pending or handed-off target of a released post (when the worker is next
    needed for posts), or None."""
    row = db.execute(
        "SELECT min(t.not_before) FROM post_targets t JOIN posts p ON p.id = t.post_id "
        "WHERE t.state IN ('pending', 'handed_off') AND t.not_before IS NOT NULL "
        "AND p.state IN ('scheduled', 'publishing', 'sent', 'failed', 'to_verify')").fetchone()
    return from_iso(row[0]) if row and row[0] else None


def claimed_targets(db: Database, *, limit: int = 500) -> list[PostTarget]:
    """Targets left in ``publishing`` (claimed), oldest claim first."""
    rows = db.execute(f"SELECT {TARGET_COLS} FROM post_targets WHERE state = 'publishing' "
                      "ORDER BY claimed_at, id LIMIT ?", (limit,)).fetchall()
    return [_target(r) for r in rows]


def platform_id_recorded(db: Database, platform: Platform, account: str, platform_id: str) -> bool:
    """True if this platform post is already recorded for some target (a lookup must not claim it twice)."""
    return db.execute("SELECT 1 FROM post_targets WHERE platform = ? AND account = ? AND platform_id = ?",
                      (str(platform), account, platform_id)).fetchone() is not None


def target_state_counts(db: Database) -> dict[str, int]:
    """How many targets are in each state."""
    return {r[0]: r[1] for r in db.execute("SELECT state, count(*) FROM post_targets GROUP BY state")}


# ---- attempts log ---------------------------------------------------------------------------------------

def insert_attempt(db: Database, *, target_id: int, post_id: int, attempt: int, kind: str, worker: str,
                   now: datetime) -> int:
    """Open an attempt row (outcome ``started``); returns its id."""
    cur = db.execute("INSERT INTO publish_attempts (target_id, post_id, attempt, kind, worker, started_at) "
                     "VALUES (?, ?, ?, ?, ?, ?)", (target_id, post_id, attempt, kind, worker, to_iso(now)))
    return int(cur.lastrowid or 0)


def finish_attempts(db: Database, target_id: int, *, outcome: str, now: datetime, error_code: str = "",
                    error: str = "", platform_id: str | None = None) -> None:
    """Close every open attempt of a target with ``outcome``."""
    db.execute("UPDATE publish_attempts SET outcome = ?, finished_at = ?, error_code = ?, error = ?, "
               "platform_id = ? WHERE target_id = ? AND outcome = 'started'",
               (outcome, to_iso(now), error_code, error[:500], platform_id, target_id))


def log_attempt(db: Database, *, target_id: int, post_id: int, attempt: int, kind: str, worker: str,
                now: datetime, outcome: str, error_code: str = "", error: str = "",
                platform_id: str | None = None) -> None:
    """Write a finished attempt row (lookups, verifications, holds)."""
    db.execute("INSERT INTO publish_attempts (target_id, post_id, attempt, kind, worker, started_at, finished_at, "
               "outcome, error_code, error, platform_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (target_id, post_id, attempt, kind, worker, to_iso(now), to_iso(now), outcome, error_code,
                error[:500], platform_id))


def attempts_for(db: Database, target_id: int) -> list[dict[str, Any]]:
    """The attempts log of one target, oldest first."""
    cols = ("id", "attempt", "kind", "worker", "started_at", "finished_at", "outcome", "error_code", "error",
            "platform_id")
    rows = db.execute(f"SELECT {', '.join(cols)} FROM publish_attempts WHERE target_id = ? ORDER BY id",
                      (target_id,)).fetchall()
    return [dict(zip(cols, r, strict=True)) for r in rows]
