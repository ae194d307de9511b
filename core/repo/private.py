"""DML of private conversations (issue #20): the resident's last message of a conversation (Meta's answer window),
and the erasure of private texts (retention of private content, RGPD erasure) — the message's text and payload,
its edit history, and the texts kept beside the audit chain that belong to it. A message under a legal hold is
never erased here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core.clock import from_iso, to_iso
from core.models import PRIVATE_KIND
from core.repo.retention import HELD_SQL

ERASED_TEXT = "[message privé effacé]"


def last_message_at(db: Database, platform: str, conversation_id: str) -> datetime | None:
    """When the resident last wrote in this private conversation (the city's own messages are not stored)."""
    row = db.execute("SELECT max(created_at) FROM mentions WHERE platform = ? AND conversation_id = ? AND kind = ?",
                     (platform, conversation_id, PRIVATE_KIND)).fetchone()
    return from_iso(row[0]) if row and row[0] else None


def erasable_uids(db: Database, *, cutoff: datetime | None = None, authors: Sequence[tuple[str, str]] = ()
                  ) -> tuple[list[str], int]:
    """Private messages whose text is still there, older than ``cutoff`` and/or by ``authors`` (platform, author
    id): (uids not under a legal hold, how many are held back)."""
    clauses = ["m.kind = ?", "m.text != ?"]
    params: list[Any] = [PRIVATE_KIND, ERASED_TEXT]
    if cutoff is not None:
        clauses.append("m.created_at < ?")
        params.append(to_iso(cutoff))
    if authors:
        clauses.append("(" + " OR ".join("(m.platform = ? AND m.author_id = ?)" for _ in authors) + ")")
        params += [v for pair in authors for v in pair]
    where = " AND ".join(clauses)
    free = [r[0] for r in db.execute(f"SELECT m.uid FROM mentions m WHERE {where} AND NOT {HELD_SQL}", params)]
    held = int(db.execute(f"SELECT count(*) FROM mentions m WHERE {where} AND {HELD_SQL}", params).fetchone()[0])
    return free, held


def erase_texts(db: Database, uids: Sequence[str]) -> tuple[int, int]:
    """Erase these private messages' texts: text replaced, payload and edit history emptied, and every text kept
    beside the audit chain that belongs to them (the city's private answers, edits) deleted. Returns (messages,
    audit texts). Call inside a write transaction; the caller flushes the WAL (core.db.flush_erased)."""
    messages = texts = 0
    for start in range(0, len(uids), 500):
        chunk = list(uids[start:start + 500])
        marks = ",".join("?" * len(chunk))
        messages += db.execute(f"UPDATE mentions SET text = ?, raw = '{{}}', media = '[]' WHERE uid IN ({marks})",
                               [ERASED_TEXT, *chunk]).rowcount
        db.execute(f"UPDATE mention_revisions SET old_text = NULL, new_text = NULL, raw = '{{}}' "
                   f"WHERE mention_uid IN ({marks})", chunk)
        texts += db.execute(f"DELETE FROM audit_texts WHERE owner IN ({marks}) AND kind IN ('private', 'message', "
                            "'comment')", chunk).rowcount
    return messages, texts


def private_uids_of(db: Database, uids: Sequence[str]) -> set[str]:
    """Which of ``uids`` are private messages."""
    out: set[str] = set()
    for start in range(0, len(uids), 500):
        chunk = list(uids[start:start + 500])
        out.update(r[0] for r in db.execute(
            f"SELECT uid FROM mentions WHERE kind = ? AND uid IN ({','.join('?' * len(chunk))})",
            [PRIVATE_KIND, *chunk]))
    return out
