"""DML for moderation decisions (with their time to action) and pending director confirmations (m080)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core.clock import from_iso, to_iso
from core.errors import NotFoundError
from core.models import PRIVATE_KIND
from core.repo.retention import ERASED_AUTHOR_SQL


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """One moderation decision on a mention."""

    id: int
    mention_uid: str
    action: str
    ground: str | None
    detail: str
    unlawful: bool
    flagged_at: datetime
    decided_at: datetime
    seconds_to_action: int
    agent_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfirmationRequest:
    """A hide/delete/ban of an elected official's message waiting for the director."""

    id: int
    mention_uid: str
    action: str
    ground: str
    note: str
    requested_by: int | None
    requested_at: datetime
    state: str
    decided_by: int | None = None
    decided_at: datetime | None = None


_DECISION_COLS = ("id, mention_uid, action, ground, detail, unlawful, flagged_at, decided_at, seconds_to_action, "
                  "agent_id")
_REQUEST_COLS = "id, mention_uid, action, ground, note, requested_by, requested_at, state, decided_by, decided_at"


def add_decision(db: Database, uid: str, action: str, *, ground: str | None, detail: str = "", unlawful: bool,
                 flagged_at: datetime, decided_at: datetime, agent_id: int | None) -> int:
    """Store a decision and its time to action (seconds from the flag); return its id."""
    seconds = max(int((decided_at - flagged_at).total_seconds()), 0)
    cur = db.execute("INSERT INTO moderation_decisions (mention_uid, action, ground, detail, unlawful, flagged_at, "
                     "decided_at, seconds_to_action, agent_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (uid, action, ground, detail, int(unlawful), to_iso(flagged_at), to_iso(decided_at), seconds,
                      agent_id))
    return int(cur.lastrowid or 0)


def latest_settling_decisions(db: Database, actions: Sequence[str]) -> list[tuple[str, str, str | None, str]]:
    """``(text, action, ground, detail)`` of each public message's latest decision among ``actions`` taken by a
    person, oldest decision first. Left out: private messages (their texts expire and are erasable, decision 0140)
    and the messages of a resident who asked for erasure (the record keeps them; training does not use them)."""
    marks = ", ".join("?" * len(actions))
    rows = db.execute(
        "SELECT m.text, d.action, d.ground, d.detail FROM moderation_decisions d JOIN mentions m ON m.uid = "
        f"d.mention_uid WHERE d.id = (SELECT max(e.id) FROM moderation_decisions e WHERE e.mention_uid = "
        f"d.mention_uid AND e.action IN ({marks})) AND d.agent_id IS NOT NULL AND m.kind != ? "
        f"AND coalesce(m.text, '') != '' AND NOT {ERASED_AUTHOR_SQL} ORDER BY d.id",
        [*actions, PRIVATE_KIND]).fetchall()
    return [(r[0], r[1], r[2], r[3] or "") for r in rows]


def _decision(r: tuple[Any, ...]) -> Decision:
    return Decision(id=r[0], mention_uid=r[1], action=r[2], ground=r[3], detail=r[4], unlawful=bool(r[5]),
                    flagged_at=from_iso(r[6]), decided_at=from_iso(r[7]),  # type: ignore[arg-type]
                    seconds_to_action=r[8], agent_id=r[9])


def decisions_for(db: Database, uid: str) -> list[Decision]:
    """Decisions on ``uid``, oldest first."""
    rows = db.execute(f"SELECT {_DECISION_COLS} FROM moderation_decisions WHERE mention_uid = ? ORDER BY id",
                      (uid,)).fetchall()
    return [_decision(r) for r in rows]


def decided_uids(db: Database) -> set[str]:
    """Mentions with at least one decision (they leave the queue)."""
    return {r[0] for r in db.execute("SELECT DISTINCT mention_uid FROM moderation_decisions").fetchall()}


def finally_decided(db: Database, uids: list[str]) -> set[str]:
    """Which of ``uids`` already have a final decision (hide, delete, ban, spam, dismiss)."""
    out: set[str] = set()
    for i in range(0, len(uids), 500):
        chunk = uids[i:i + 500]
        rows = db.execute(f"SELECT DISTINCT mention_uid FROM moderation_decisions WHERE mention_uid IN "
                          f"({','.join('?' * len(chunk))}) AND action IN ('hide', 'delete', 'ban', 'spam', "
                          "'dismiss')", chunk).fetchall()
        out.update(r[0] for r in rows)
    return out


def decisions_since(db: Database, since: datetime) -> list[Decision]:
    """Decisions taken since ``since`` (for the time-to-action report), oldest first."""
    rows = db.execute(f"SELECT {_DECISION_COLS} FROM moderation_decisions WHERE decided_at >= ? ORDER BY id",
                      (to_iso(since),)).fetchall()
    return [_decision(r) for r in rows]


def add_request(db: Database, uid: str, action: str, ground: str, *, note: str, agent_id: int | None,
                now: datetime) -> int:
    """Store a pending confirmation request; return its id."""
    cur = db.execute("INSERT INTO moderation_requests (mention_uid, action, ground, note, requested_by, "
                     "requested_at) VALUES (?, ?, ?, ?, ?, ?)", (uid, action, ground, note, agent_id, to_iso(now)))
    return int(cur.lastrowid or 0)


def _request(r: tuple[Any, ...]) -> ConfirmationRequest:
    return ConfirmationRequest(id=r[0], mention_uid=r[1], action=r[2], ground=r[3], note=r[4], requested_by=r[5],
                               requested_at=from_iso(r[6]), state=r[7],  # type: ignore[arg-type]
                               decided_by=r[8], decided_at=from_iso(r[9]))


def get_request(db: Database, request_id: int) -> ConfirmationRequest:
    """One confirmation request, or NotFoundError."""
    row = db.execute(f"SELECT {_REQUEST_COLS} FROM moderation_requests WHERE id = ?", (request_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no moderation request {request_id}")
    return _request(row)


def pending_requests(db: Database) -> list[ConfirmationRequest]:
    """Requests waiting for the director, oldest first."""
    rows = db.execute(f"SELECT {_REQUEST_COLS} FROM moderation_requests WHERE state = 'pending' ORDER BY id")
    return [_request(r) for r in rows.fetchall()]


def close_request(db: Database, request_id: int, state: str, *, agent_id: int, now: datetime) -> None:
    """Mark a request confirmed or refused."""
    db.execute("UPDATE moderation_requests SET state = ?, decided_by = ?, decided_at = ? WHERE id = ?",
               (state, agent_id, to_iso(now), request_id))


def hidden_uids(db: Database, *, limit: int = 200) -> list[str]:
    """Mentions currently hidden (not deleted), most recently changed first (for the unhide list)."""
    rows = db.execute("SELECT uid FROM mentions WHERE hidden = 1 AND deleted_at IS NULL ORDER BY updated_at DESC "
                      "LIMIT ?", (limit,)).fetchall()
    return [r[0] for r in rows]
