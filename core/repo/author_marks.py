"""DML for authors marked as elected officials or opposition councillors.

Schema: core/migrations/moderation.py m080.
"""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from core.clock import to_iso
from core.errors import ValidationError

MARKS = ("elected", "opposition")


def mark_of(db: Database, platform: str, author_platform_id: str) -> str | None:
    """The author's mark ("elected" or "opposition"), or None."""
    row = db.execute("SELECT mark FROM author_marks WHERE platform = ? AND author_platform_id = ?",
                     (platform, author_platform_id)).fetchone()
    return row[0] if row else None


def set_mark(db: Database, platform: str, author_platform_id: str, mark: str | None, *, handle: str = "",
             agent_id: int | None, now: datetime) -> str | None:
    """Mark (or unmark, ``mark=None``) an author; return the previous mark."""
    if mark is not None and mark not in MARKS:
        raise ValidationError(f"author mark must be one of {', '.join(MARKS)}, got {mark!r}")
    before = mark_of(db, platform, author_platform_id)
    if mark is None:
        db.execute("DELETE FROM author_marks WHERE platform = ? AND author_platform_id = ?",
                   (platform, author_platform_id))
    else:
        db.execute("INSERT INTO author_marks (platform, author_platform_id, mark, handle, marked_by, marked_at) "
                   "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (platform, author_platform_id) DO UPDATE SET "
                   "mark = excluded.mark, handle = excluded.handle, marked_by = excluded.marked_by, "
                   "marked_at = excluded.marked_at",
                   (platform, author_platform_id, mark, handle, agent_id, to_iso(now)))
    return before


def marks(db: Database) -> dict[tuple[str, str], str]:
    """Every marked author: ``{(platform, author_platform_id): mark}``."""
    rows = db.execute("SELECT platform, author_platform_id, mark FROM author_marks").fetchall()
    return {(r[0], r[1]): r[2] for r in rows}
