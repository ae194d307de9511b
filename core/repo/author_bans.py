"""DML for authors banned through Parvis (schema: core/migrations/moderation.py m081): one row while the ban lasts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core.clock import from_iso, to_iso


@dataclass(frozen=True, slots=True, kw_only=True)
class Ban:
    """An author banned from the city's page or account, and the message that led to it."""

    platform: str
    author_platform_id: str
    handle: str
    mention_uid: str
    ground: str
    connector: str
    banned_by: int | None
    banned_at: datetime


_COLS = "platform, author_platform_id, handle, mention_uid, ground, connector, banned_by, banned_at"


def _ban(r: tuple[Any, ...]) -> Ban:
    return Ban(platform=r[0], author_platform_id=r[1], handle=r[2], mention_uid=r[3], ground=r[4], connector=r[5],
               banned_by=r[6], banned_at=from_iso(r[7]))  # type: ignore[arg-type]


def ban_of(db: Database, platform: str, author_platform_id: str) -> Ban | None:
    """The author's current ban, or None."""
    row = db.execute(f"SELECT {_COLS} FROM author_bans WHERE platform = ? AND author_platform_id = ?",
                     (platform, author_platform_id)).fetchone()
    return _ban(row) if row else None


def add_ban(db: Database, ban: Ban) -> None:
    """Record a ban (replacing an older row for the same author)."""
    db.execute(f"INSERT OR REPLACE INTO author_bans ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               (ban.platform, ban.author_platform_id, ban.handle, ban.mention_uid, ban.ground, ban.connector,
                ban.banned_by, to_iso(ban.banned_at)))


def remove_ban(db: Database, platform: str, author_platform_id: str) -> bool:
    """Forget a lifted ban; False if there was none."""
    cur = db.execute("DELETE FROM author_bans WHERE platform = ? AND author_platform_id = ?",
                     (platform, author_platform_id))
    return cur.rowcount > 0


def bans(db: Database) -> list[Ban]:
    """Every current ban, newest first."""
    return [_ban(r) for r in db.execute(f"SELECT {_COLS} FROM author_bans ORDER BY banned_at DESC, rowid DESC")]
