"""DML for the outbox's moderation acts (migration m090_moderation_acts; decision 0051).

A person's hide / unhide / delete / ban / unban is written here as an *intent* (``sending``, with a claim token)
in the same write transaction as its audit event, before the platform is called; its outcome is recorded
afterwards conditionally on that token (``done``, ``failed``, ``to_verify``). Nothing here opens a
transaction: :mod:`services.moderation.acts` wraps each change and its audit record.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core.clock import from_iso, to_iso
from core.errors import NotFoundError, WorkflowError

_COLS = ("id, action, mention_uid, platform, target, author_platform_id, author_handle, ground, note, confirmed_by, "
         "request_id, connector, agent_id, state, claim_token, claimed_by, claimed_at, attempts, needs_check, "
         "not_before, via, error_code, error, finished_at")
_UPDATABLE = {"state", "needs_check", "not_before", "via", "error_code", "error", "finished_at"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Act:
    """One moderation act and where its outbox protocol stands."""

    id: int
    action: str
    mention_uid: str
    platform: str
    target: str
    author_platform_id: str
    author_handle: str
    ground: str | None
    note: str
    confirmed_by: str
    request_id: int | None
    connector: str
    agent_id: int | None
    state: str
    claim_token: str
    claimed_by: str
    claimed_at: datetime
    attempts: int
    needs_check: bool
    not_before: datetime | None
    via: str
    error_code: str
    error: str
    finished_at: datetime | None


def _act(r: Sequence[Any]) -> Act:
    claimed = from_iso(r[16])
    assert claimed is not None
    return Act(id=r[0], action=r[1], mention_uid=r[2], platform=r[3], target=r[4], author_platform_id=r[5],
               author_handle=r[6], ground=r[7], note=r[8], confirmed_by=r[9], request_id=r[10], connector=r[11],
               agent_id=r[12], state=r[13], claim_token=r[14], claimed_by=r[15], claimed_at=claimed, attempts=r[17],
               needs_check=bool(r[18]), not_before=from_iso(r[19]), via=r[20], error_code=r[21], error=r[22],
               finished_at=from_iso(r[23]))


def target_of(action: str, mention_uid: str, platform: str, author_platform_id: str) -> str:
    """What an act changes: the author for ban/unban, else the message."""
    if action in ("ban", "unban"):
        return f"author:{platform}:{author_platform_id}"
    return f"mention:{mention_uid}"


def insert_act(db: Database, *, action: str, mention_uid: str, platform: str, author_platform_id: str,
               author_handle: str, ground: str | None, note: str, confirmed_by: str, request_id: int | None,
               connector: str, agent_id: int | None, token: str, claimed_by: str, now: datetime) -> int:
    """Write the intent of an act (``sending``, claimed under ``token``); WorkflowError if another act on the
    same target is still in flight."""
    target = target_of(action, mention_uid, platform, author_platform_id)
    try:
        cur = db.execute(
            "INSERT INTO moderation_acts (action, mention_uid, platform, target, author_platform_id, author_handle, "
            "ground, note, confirmed_by, request_id, connector, agent_id, claim_token, claimed_by, claimed_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (action, mention_uid, platform, target, author_platform_id, author_handle, ground, note, confirmed_by,
             request_id, connector, agent_id, token, claimed_by, to_iso(now), to_iso(now)))
    except sqlite3.IntegrityError as err:
        if "moderation_acts.target" not in str(err):
            raise
        raise WorkflowError(f"a moderation act on {target} is already being sent",
                            reason="moderation_act_in_flight") from err
    return int(cur.lastrowid or 0)


def get_act(db: Database, act_id: int) -> Act:
    """One act, or NotFoundError."""
    row = db.execute(f"SELECT {_COLS} FROM moderation_acts WHERE id = ?", (act_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no moderation act {act_id}")
    return _act(row)


def update_act(db: Database, act_id: int, *, now: datetime, expect_state: str | None = None,
               expect_token: str | None = None, **changes: Any) -> bool:
    """Set columns of an act, only if still in ``expect_state`` / under ``expect_token``; True if it matched."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable on moderation_acts: {sorted(unknown)}")
    values = {k: (to_iso(v) if isinstance(v, datetime) else int(v) if isinstance(v, bool) else v)
              for k, v in changes.items()}
    values["updated_at"] = to_iso(now)
    where, params = "id = ?", [*values.values(), act_id]
    if expect_state is not None:
        where += " AND state = ?"
        params.append(expect_state)
    if expect_token is not None:
        where += " AND claim_token = ?"
        params.append(expect_token)
    sets = ", ".join(f"{k} = ?" for k in values)
    return db.execute(f"UPDATE moderation_acts SET {sets} WHERE {where}", params).rowcount == 1


def acts_in_state(db: Database, states: Sequence[str], *, limit: int = 500) -> list[Act]:
    """Acts in the given states, oldest first."""
    rows = db.execute(f"SELECT {_COLS} FROM moderation_acts WHERE state IN ({','.join('?' * len(states))}) "
                      "ORDER BY id LIMIT ?", [*states, limit]).fetchall()
    return [_act(r) for r in rows]


def acts_for(db: Database, mention_uid: str) -> list[Act]:
    """Every act on a message (or banning its author), oldest first."""
    rows = db.execute(f"SELECT {_COLS} FROM moderation_acts WHERE mention_uid = ? ORDER BY id",
                      (mention_uid,)).fetchall()
    return [_act(r) for r in rows]


def open_acts_on(db: Database, target: str, *, before: int) -> list[Act]:
    """Acts on ``target`` older than act ``before`` that are still sending or left « à vérifier »."""
    rows = db.execute(f"SELECT {_COLS} FROM moderation_acts WHERE target = ? AND id < ? AND state IN "
                      "('sending', 'to_verify') ORDER BY id", (target, before)).fetchall()
    return [_act(r) for r in rows]


def later_done_on(db: Database, target: str, *, after: int) -> bool:
    """True if an act on ``target`` newer than act ``after`` is done (it decides the target's state now)."""
    return db.execute("SELECT 1 FROM moderation_acts WHERE target = ? AND id > ? AND state = 'done' LIMIT 1",
                      (target, after)).fetchone() is not None
