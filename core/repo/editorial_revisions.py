"""DML for the editorial record: every revision of a post or a recurring series and who wrote it (append-only).

Nothing here opens a transaction: the calendar services add a revision in the write transaction of the change,
together with its audit event. Four eyes is decided in :mod:`services.editorial.revisions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlite_utils import Database

from core.clock import from_iso, to_iso

Kind = Literal["post", "recurrence"]
_COLS = "kind, ref_id, revision, editor_id, origin, source_kind, source_id, content_hash, created_at"


@dataclass(frozen=True, slots=True, kw_only=True)
class Revision:
    """One revision: ``origin`` is created, edited, duplicated, occurrence or before-history; ``editor_id`` is
    None when the worker made it from ``source_kind``/``source_id`` (an occurrence of a series)."""

    kind: str
    ref_id: int
    revision: int
    editor_id: int | None
    origin: str
    source_kind: str | None
    source_id: int | None
    content_hash: str
    created_at: datetime


def _revision(r: Sequence[Any]) -> Revision:
    created = from_iso(r[8])
    assert created is not None
    return Revision(kind=r[0], ref_id=r[1], revision=r[2], editor_id=r[3], origin=r[4], source_kind=r[5],
                    source_id=r[6], content_hash=r[7], created_at=created)


def add(db: Database, kind: Kind, ref_id: int, *, editor_id: int | None, origin: str, content_hash: str,
        now: datetime, revision: int | None = None, source: tuple[Kind, int] | None = None) -> int:
    """Append a revision (number: ``revision``, default the next one) and return its number."""
    if revision is None:
        row = db.execute("SELECT COALESCE(MAX(revision), 0) + 1 FROM editorial_revisions WHERE kind = ? "
                         "AND ref_id = ?", (kind, ref_id)).fetchone()
        revision = int(row[0])
    db.execute(f"INSERT INTO editorial_revisions ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (kind, ref_id, revision, editor_id, origin, source[0] if source else None,
                source[1] if source else None, content_hash, to_iso(now)))
    return revision


def of(db: Database, kind: Kind, ref_id: int) -> list[Revision]:
    """The revisions of one post or series, oldest first."""
    rows = db.execute(f"SELECT {_COLS} FROM editorial_revisions WHERE kind = ? AND ref_id = ? ORDER BY revision",
                      (kind, ref_id)).fetchall()
    return [_revision(r) for r in rows]
