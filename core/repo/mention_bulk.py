"""Bulk loading of mentions: a city's history, hundreds of thousands of rows at once, in one transaction.

The normal path (:func:`core.repo.upsert_mentions`) keeps every index of ``mentions`` up to date row by row;
at a million rows that costs more than the rows themselves, because two of those indexes (open items by
priority, author history) receive their keys in random order. A bulk load instead:

- drops the secondary indexes of ``mentions`` when the load is at least as large as the table (rebuilding an
  index by sorting is many times cheaper than that many random insertions), and creates them again from their
  stored definitions at the end;
- adds the new rows to the full-text index and the dashboard roll-ups in a few large statements at the end
  (into an empty table: rebuilds both from the table, which is exact and cheaper still);
- does all of it in **one** write transaction, so readers keep seeing the previous state, indexes included,
  until the commit, and an error or a crash leaves the database exactly as it was.

The price is a write lock held for the whole load: other writers (the worker, agents' actions) wait
(docs/decisions/0005-bulk-load.md). Idempotency, edits and the team's work are handled as in the normal path:
each batch goes through the same upsert.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlite_utils import Database

from core.db import write_transaction
from core.models import Mention
from core.repo.mention_writes import DeferredIndexing, Scores, UpsertResult, _upsert
from core.repo.rollups import rebuild_dashboard_responses, rebuild_dashboard_rollups


class BulkLoad:
    """An open bulk load: call :meth:`add` with batches of mentions (and their scores)."""

    def __init__(self, db: Database, *, rebuilds_indexes: bool, started_empty: bool) -> None:
        self._db = db
        self._deferred = DeferredIndexing()
        self.rebuilds_indexes = rebuilds_indexes
        self.started_empty = started_empty
        self.inserted = 0
        self.updated = 0

    def add(self, mentions: Sequence[Mention], *, now: datetime,
            scores: Sequence[Scores] | None = None) -> UpsertResult:
        """Upsert one batch, exactly as :func:`core.repo.upsert_mentions` would (duplicates collapse, edits
        keep the old text, agents' work is never touched); only the index upkeep is deferred."""
        if scores is not None and len(scores) != len(mentions):
            raise ValueError("scores must align with mentions")
        result = _upsert(self._db, mentions, now=now, scores=scores, deferred=self._deferred)
        self.inserted += len(result.inserted)
        self.updated += len(result.updated)
        return result

    def _finish(self) -> None:
        if not self.started_empty:
            self._deferred.flush(self._db)
            return
        # Every row is new: rebuilding the full-text index and the roll-ups from the table is exact, and
        # cheaper than adding a million rowids to them.
        self._deferred.keys.clear()
        self._db.execute("INSERT INTO mentions_fts (mentions_fts) VALUES ('rebuild')")
        rebuild_dashboard_rollups(self._db)
        rebuild_dashboard_responses(self._db)


def secondary_indexes(db: Database) -> list[tuple[str, str]]:
    """``(name, CREATE INDEX statement)`` of every index of ``mentions`` that a bulk load may rebuild (the
    unique key on ``uid`` stays: it is how a load finds the mentions it already has)."""
    return [(r[0], r[1]) for r in db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'mentions' AND sql IS NOT NULL "
        "ORDER BY name").fetchall()]


@contextmanager
def bulk_load(db: Database, *, expected: int) -> Iterator[BulkLoad]:
    """Open a bulk load of about ``expected`` mentions, committed when the block ends (rolled back on error).

    Indexes are dropped and rebuilt only when ``expected`` is at least the number of mentions already stored;
    a smaller load into a large table keeps them (rebuilding would cost more than it saves).
    """
    with write_transaction(db):
        present = db.execute("SELECT count(*) FROM mentions").fetchone()[0]
        indexes = secondary_indexes(db) if expected >= max(present, 1) else []
        for name, _ in indexes:
            db.execute(f'DROP INDEX "{name}"')
        load = BulkLoad(db, rebuilds_indexes=bool(indexes), started_empty=present == 0)
        yield load
        load._finish()
        for _, sql in indexes:
            db.execute(sql)
