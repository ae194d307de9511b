"""Reply drafts, saved replies and the drafts due to be sent."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core.clock import from_iso, to_iso
from core.errors import NotFoundError, ValidationError
from core.models import Draft, DraftState, Platform

_DRAFT_COLS = ("id, mention_uid, author_id, body, signed_text, platform, state, approver_id, comment, "
               "charter_version, charter_result, needs_approval, platform_post_id, permalink, created_at, "
               "updated_at, sent_at, scheduled_at, submitted_at, approved_at, approved_text, approval_reasons, media")


def _opt_iso(value: datetime | None) -> str | None:
    return to_iso(value) if value else None


def _draft(r: Sequence[Any]) -> Draft:
    return Draft(id=r[0], mention_uid=r[1], author_id=r[2], body=r[3], signed_text=r[4], platform=Platform(r[5]),
                 state=DraftState(r[6]), approver_id=r[7], comment=r[8], charter_version=r[9],
                 charter_result=tuple(json.loads(r[10] or "[]")), needs_approval=bool(r[11]),
                 platform_post_id=r[12], permalink=r[13], created_at=from_iso(r[14]),  # type: ignore[arg-type]
                 updated_at=from_iso(r[15]), sent_at=from_iso(r[16]),  # type: ignore[arg-type]
                 scheduled_at=from_iso(r[17]), submitted_at=from_iso(r[18]), approved_at=from_iso(r[19]),
                 approved_text=r[20], approval_reasons=tuple(json.loads(r[21] or "[]")),
                 media=tuple(json.loads(r[22] or "[]")))


def create_draft(db: Database, *, mention_uid: str | None, author_id: int, body: str, signed_text: str,
                 platform: Platform, state: DraftState = DraftState.DRAFT, needs_approval: bool = False,
                 charter_version: int | None = None, charter_result: Iterable[dict[str, Any]] = (),
                 now: datetime) -> Draft:
    """Store a new draft and return it."""
    cur = db.execute(
        "INSERT INTO drafts (mention_uid, author_id, body, signed_text, platform, state, needs_approval, "
        "charter_version, charter_result, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (mention_uid, author_id, body, signed_text, str(platform), str(state), int(needs_approval),
         charter_version, json.dumps(list(charter_result), ensure_ascii=False), to_iso(now), to_iso(now)))
    return get_draft(db, int(cur.lastrowid or 0))


def get_draft(db: Database, draft_id: int) -> Draft:
    """One draft, or NotFoundError."""
    row = db.execute(f"SELECT {_DRAFT_COLS} FROM drafts WHERE id = ?", (draft_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no draft {draft_id}")
    return _draft(row)


def save_draft(db: Database, draft: Draft) -> None:
    """Write back every mutable field of ``draft``."""
    db.execute(
        "UPDATE drafts SET body = ?, signed_text = ?, state = ?, approver_id = ?, comment = ?, charter_version = ?, "
        "charter_result = ?, needs_approval = ?, platform_post_id = ?, permalink = ?, updated_at = ?, sent_at = ?, "
        "scheduled_at = ?, submitted_at = ?, approved_at = ?, approved_text = ?, approval_reasons = ?, media = ? "
        "WHERE id = ?",
        (draft.body, draft.signed_text, str(draft.state), draft.approver_id, draft.comment, draft.charter_version,
         json.dumps(list(draft.charter_result), ensure_ascii=False), int(draft.needs_approval),
         draft.platform_post_id, draft.permalink, to_iso(draft.updated_at),
         to_iso(draft.sent_at) if draft.sent_at else None, _opt_iso(draft.scheduled_at),
         _opt_iso(draft.submitted_at), _opt_iso(draft.approved_at), draft.approved_text,
         json.dumps(list(draft.approval_reasons)), json.dumps(list(draft.media), ensure_ascii=False), draft.id))


def drafts_for(db: Database, mention_uid: str) -> list[Draft]:
    """Drafts and sent replies on a mention, oldest first."""
    return [_draft(r) for r in db.execute(f"SELECT {_DRAFT_COLS} FROM drafts WHERE mention_uid = ? ORDER BY id",
                                          (mention_uid,))]


def drafts_in_state(db: Database, states: Sequence[DraftState], *, limit: int = 200) -> list[Draft]:
    """Drafts in any of ``states``, oldest update first."""
    marks = ",".join("?" * len(states))
    return [_draft(r) for r in db.execute(
        f"SELECT {_DRAFT_COLS} FROM drafts WHERE state IN ({marks}) ORDER BY updated_at LIMIT ?",
        [*(str(s) for s in states), limit])]


_SAVED_COLS = "id, title, body, active, created_by, created_at, updated_at"


def _saved(r: Sequence[Any]) -> dict[str, Any]:
    return {"id": r[0], "title": r[1], "body": r[2], "active": bool(r[3]), "created_by": r[4],
            "created_at": from_iso(r[5]), "updated_at": from_iso(r[6])}


def create_saved_reply(db: Database, *, title: str, body: str, created_by: int, now: datetime) -> int:
    """Store a saved reply; ValidationError if an active one has the same title."""
    if db.execute("SELECT 1 FROM saved_replies WHERE active = 1 AND title = ? COLLATE NOCASE", (title,)).fetchone():
        raise ValidationError(f"a saved reply titled {title!r} exists", reason="template_title_taken", title=title)
    cur = db.execute("INSERT INTO saved_replies (title, body, created_by, created_at, updated_at) "
                     "VALUES (?, ?, ?, ?, ?)", (title, body, created_by, to_iso(now), to_iso(now)))
    return int(cur.lastrowid or 0)


def update_saved_reply(db: Database, reply_id: int, *, title: str, body: str, active: bool, now: datetime) -> None:
    """Change a saved reply's title/body, or deactivate it."""
    db.execute("UPDATE saved_replies SET title = ?, body = ?, active = ?, updated_at = ? WHERE id = ?",
               (title, body, int(active), to_iso(now), reply_id))


def get_saved_reply(db: Database, reply_id: int) -> dict[str, Any]:
    """One saved reply, or NotFoundError."""
    r = db.execute(f"SELECT {_SAVED_COLS} FROM saved_replies WHERE id = ?", (reply_id,)).fetchone()
    if r is None:
        raise NotFoundError(f"no saved reply {reply_id}")
    return _saved(r)


def list_saved_replies(db: Database, *, active_only: bool = True) -> list[dict[str, Any]]:
    """Saved replies by title."""
    where = "WHERE active = 1" if active_only else ""
    return [_saved(r) for r in db.execute(f"SELECT {_SAVED_COLS} FROM saved_replies {where} ORDER BY title")]


def drafts_due(db: Database, *, now: datetime, limit: int = 50) -> list[Draft]:
    """Scheduled drafts whose time has come, oldest first (for the worker)."""
    return [_draft(r) for r in db.execute(
        f"SELECT {_DRAFT_COLS} FROM drafts WHERE state = 'scheduled' AND scheduled_at <= ? "
        "ORDER BY scheduled_at LIMIT ?", (to_iso(now), limit))]


def count_sent_between(db: Database, start: datetime, end: datetime) -> int:
    """Replies sent in ``[start, end)``."""
    return int(db.execute("SELECT count(*) FROM drafts WHERE state = 'sent' AND sent_at >= ? AND sent_at < ?",
                          (to_iso(start), to_iso(end))).fetchone()[0])
