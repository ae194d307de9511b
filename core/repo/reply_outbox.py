"""DML for sending replies exactly once: the claim columns of ``drafts`` (migration m052_reply_outbox).

A reply is claimed (``publishing``, with a token) by one conditional UPDATE before the platform is called, and
every later change is conditional on that token or on the expected state, so that of two senders (two workers,
two browser tabs, a worker and a person) exactly one wins. Nothing here opens a transaction: the services wrap
each change and its audit record in :func:`core.db.write_transaction`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core.clock import from_iso, to_iso
from core.errors import NotFoundError
from core.models import DraftState, Platform

PERSON_PREFIX = "agent:"  # claimed_by of a send started by a person ("agent:<id>"); a worker uses its identity
_COLS = ("id, mention_uid, platform, state, scheduled_at, claim_token, claimed_by, claimed_at, send_attempts, "
         "not_before, needs_check, sent_text, platform_post_id, permalink, send_error_code, send_error")
_UPDATABLE = {"state", "not_before", "needs_check", "send_error_code", "send_error", "platform_post_id",
              "permalink", "sent_at"}
_OUT = ("publishing", "sent", "to_verify")  # a reply in these states is (or may be) on the platform


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplySend:
    """The sending side of a reply draft: its claim, attempts, next attempt time and last error."""

    draft_id: int
    mention_uid: str | None
    platform: Platform
    state: DraftState
    scheduled_at: datetime | None
    claim_token: str | None
    claimed_by: str | None
    claimed_at: datetime | None
    attempts: int
    not_before: datetime | None
    needs_check: bool
    sent_text: str | None
    platform_id: str | None
    permalink: str | None
    error_code: str
    error: str

    @property
    def by_person(self) -> bool:
        """True when the claim was made by a person ("envoyer" in the console), not by the worker."""
        return (self.claimed_by or "").startswith(PERSON_PREFIX)


def _send(r: Sequence[Any]) -> ReplySend:
    return ReplySend(draft_id=r[0], mention_uid=r[1], platform=Platform(r[2]), state=DraftState(r[3]),
                     scheduled_at=from_iso(r[4]), claim_token=r[5], claimed_by=r[6], claimed_at=from_iso(r[7]),
                     attempts=r[8], not_before=from_iso(r[9]), needs_check=bool(r[10]), sent_text=r[11],
                     platform_id=r[12], permalink=r[13], error_code=r[14], error=r[15])


def get_send(db: Database, draft_id: int) -> ReplySend:
    """The sending state of one draft, or NotFoundError."""
    row = db.execute(f"SELECT {_COLS} FROM drafts WHERE id = ?", (draft_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no draft {draft_id}")
    return _send(row)


def claim(db: Database, draft_id: int, *, expect_state: DraftState, token: str, by: str, now: datetime,
          sent_text: str, lease: str | None = None, lease_until: datetime | None = None) -> bool:
    """Move a draft from ``expect_state`` to ``publishing`` under a new claim token; True if it matched.

    With ``lease``, only if ``by`` holds that worker lease (which is then renewed until ``lease_until``).
    """
    sql = ("UPDATE drafts SET state = 'publishing', claim_token = ?, claimed_by = ?, claimed_at = ?, "
           "send_attempts = send_attempts + 1, sent_text = ?, needs_check = 0, not_before = NULL, updated_at = ? "
           "WHERE id = ? AND state = ?")
    params: list[Any] = [token, by, to_iso(now), sent_text, to_iso(now), draft_id, str(expect_state)]
    if lease is not None:
        sql += " AND EXISTS (SELECT 1 FROM worker_leases WHERE name = ? AND holder = ? AND expires_at > ?)"
        params += [lease, by, to_iso(now)]
    matched = db.execute(sql, params).rowcount == 1
    if matched and lease is not None and lease_until is not None:
        db.execute("UPDATE worker_leases SET renewed_at = ?, expires_at = ? WHERE name = ? AND holder = ?",
                   (to_iso(now), to_iso(lease_until), lease, by))
    return matched


def update_send(db: Database, draft_id: int, *, now: datetime, expect_state: DraftState | None = None,
                expect_token: str | None = None, **changes: Any) -> bool:
    """Set sending columns of a draft, only if still in ``expect_state`` / under ``expect_token``; True if matched."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable on drafts here: {sorted(unknown)}")
    values = {k: (to_iso(v) if isinstance(v, datetime) else str(v) if isinstance(v, DraftState)
                  else int(v) if isinstance(v, bool) else v) for k, v in changes.items()}
    values["updated_at"] = to_iso(now)
    where, params = "id = ?", [*values.values(), draft_id]
    if expect_state is not None:
        where += " AND state = ?"
        params.append(str(expect_state))
    if expect_token is not None:
        where += " AND claim_token = ?"
        params.append(expect_token)
    sets = ", ".join(f"{k} = ?" for k in values)
    return db.execute(f"UPDATE drafts SET {sets} WHERE {where}", params).rowcount == 1


def due(db: Database, *, now: datetime, limit: int = 200) -> list[int]:
    """Ids of scheduled replies whose time (and next attempt time, after a retry) has come, oldest first."""
    return [r[0] for r in db.execute(
        "SELECT id FROM drafts WHERE state = 'scheduled' AND scheduled_at <= ? AND mention_uid IS NOT NULL "
        "AND (not_before IS NULL OR not_before <= ?) ORDER BY scheduled_at, id LIMIT ?",
        (to_iso(now), to_iso(now), limit))]


def next_due(db: Database) -> datetime | None:
    """When the earliest scheduled reply becomes due (its time, or its next attempt time after a retry), or None."""
    row = db.execute("SELECT min(max(scheduled_at, COALESCE(not_before, scheduled_at))) FROM drafts "
                     "WHERE state = 'scheduled' AND scheduled_at IS NOT NULL AND mention_uid IS NOT NULL").fetchone()
    return from_iso(row[0]) if row and row[0] else None


def claimed(db: Database, *, limit: int = 500) -> list[ReplySend]:
    """Replies left ``publishing`` (claimed), oldest claim first."""
    return [_send(r) for r in db.execute(f"SELECT {_COLS} FROM drafts WHERE state = 'publishing' "
                                         "ORDER BY claimed_at, id LIMIT ?", (limit,))]


def platform_id_recorded(db: Database, platform: Platform, platform_id: str, *, other_than: int) -> bool:
    """True if this platform message is already recorded for another draft (a lookup must not claim it twice)."""
    return db.execute("SELECT 1 FROM drafts WHERE platform = ? AND platform_post_id = ? AND id != ?",
                      (str(platform), platform_id, other_than)).fetchone() is not None


def same_reply_out(db: Database, mention_uid: str, text: str, *, other_than: int) -> int | None:
    """Another draft with exactly ``text`` on the same mention that is (or may be) out already, or None."""
    row = db.execute(f"SELECT id FROM drafts WHERE mention_uid = ? AND id != ? AND state IN "
                     f"({','.join('?' * len(_OUT))}) AND COALESCE(sent_text, signed_text) = ? LIMIT 1",
                     (mention_uid, other_than, *_OUT, text)).fetchone()
    return int(row[0]) if row else None
