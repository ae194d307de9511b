"""``python -m console bench storage``: bulk ingest rate and inbox/search latency at a given volume.

Mentions come from the demo generator's bulk mode (realistic French text). All but the last 20,000 are
bulk-loaded as a city's history is (``repo.bulk_load``, what ``import --bulk`` uses): ``ingest_per_s``. The last
ones then arrive as a sync brings them, through ``repo.upsert_mentions`` (the connectors' path) in 5,000-row
transactions into the full-size table: ``ingest_sync_per_s``.
"""

from __future__ import annotations

import itertools
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core import repo
from core.db import open_db, optimize, write_transaction
from core.models import Mention
from services.inbox import triage as inbox

SEARCH_TERMS = ["decu", "poubelle", "piscine horaires", "nid poule", "merci", "stationnement", "cantine",
                "lampadaire", "arbre", "encombrants", "marche noel", "inondation", "mairie", "travaux"]


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def _timed(fn: Callable[[], Any], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def _mentions(n: int, seed: int, end: datetime) -> Iterator[Mention]:
    from connectors.demo.generator import bulk

    yield from bulk(n, seed=seed, start=end - timedelta(days=365), days=365)


SYNC_TAIL = 20_000  # mentions synced after the bulk load, into the full-size table
SYNC_BATCH = 5_000


class _Batches:
    """Batches of generated mentions with random scores; the time spent generating them is kept apart."""

    def __init__(self, stream: Iterator[Mention], rng: random.Random, size: int) -> None:
        self._stream, self._rng, self._size = stream, rng, size
        self.spent_s = 0.0

    def take(self, n: int, size: int | None = None) -> Iterator[tuple[list[Mention], list[repo.Scores]]]:
        size = size or self._size
        while n > 0:
            began = time.perf_counter()
            ms = list(itertools.islice(self._stream, min(size, n)))
            sc = [repo.Scores(priority=round(self._rng.random() * 10, 2), risk_score=self._rng.random() / 2)
                  for _ in ms]
            self.spent_s += time.perf_counter() - began
            if not ms:
                return
            n -= len(ms)
            yield ms, sc


def run(mentions: int, *, db_path: Path | None = None, batch: int = 5_000, queries: int = 200,
        seed: int = 7) -> dict[str, Any]:
    """Ingest ``mentions`` into a fresh database and measure; returns the JSON-able result."""
    tmp = None
    if db_path is None:
        tmp = tempfile.TemporaryDirectory(prefix="parvis-bench-")
        db_path = Path(tmp.name) / "bench.db"
    if db_path.exists():
        raise FileExistsError(f"{db_path} exists: the storage benchmark needs a fresh file")
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db = open_db(db_path)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    agents = [repo.create_agent(db, email=f"bench{i}@example.org", name=f"Agent {i}", initials=f"A{i}",
                                role=repo.Role.COMMUNITY_MANAGER, now=now) for i in range(5)]
    try:
        # The bulk of the volume goes in as a city's history would (repo.bulk_load: one transaction, indexes
        # rebuilt at the end); the last ``tail`` mentions then arrive as a sync brings them, in 5,000-row
        # transactions through repo.upsert_mentions into the full-size table.
        tail = min(SYNC_TAIL, mentions // 10)
        batches = _Batches(_mentions(mentions, seed, now), rng, batch)
        start = time.perf_counter()
        with repo.bulk_load(db, expected=mentions - tail) as load:
            for ms, sc in batches.take(mentions - tail):
                load.add(ms, now=now, scores=sc)
        ingest_s = time.perf_counter() - start - batches.spent_s  # storage only, not the generator
        bulk_rows = repo.mention_count(db)
        sync_s = 0.0
        for ms, sc in batches.take(tail, size=SYNC_BATCH):
            began = time.perf_counter()
            with write_transaction(db):
                repo.upsert_mentions(db, ms, now=now, scores=sc)
            sync_s += time.perf_counter() - began
        sync_rows = repo.mention_count(db) - bulk_rows
        # Some team work on the data, as in real life: a third closed, some assigned.
        with write_transaction(db):
            repo.simulate_team_work(db, agents[0].id)
        optimize(db)

        def default_inbox() -> None:
            repo.list_inbox(db, repo.InboxQuery(order=rng.choice(["priority", "newest"])))

        def filtered_inbox() -> None:
            repo.list_inbox(db, repo.InboxQuery(platforms=(rng.choice(["x", "facebook"]),), order="newest"))

        def search() -> None:
            q = repo.InboxQuery(search=rng.choice(SEARCH_TERMS), platforms=(rng.choice(["x", "facebook"]),),
                                since=now - timedelta(days=rng.choice([7, 30, 365])), order="newest")
            repo.list_inbox(db, q)

        def page() -> None:  # what the inbox page runs: list + bounded count
            inbox.list_items(db, repo.InboxQuery())

        inbox_ms = _timed(default_inbox, queries)
        filtered_ms = _timed(filtered_inbox, queries)
        search_ms = _timed(search, queries)
        page_ms = _timed(page, max(20, queries // 5))
        total = repo.mention_count(db)
    finally:
        db.close()
    size = sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*"))
    result = {
        "mentions": total,
        "ingest_per_s": round(bulk_rows / ingest_s) if ingest_s else None,
        "ingest_s": round(ingest_s, 2),
        "ingest_sync_per_s": round(sync_rows / sync_s) if sync_s else None,
        "ingest_sync_rows": sync_rows,
        "inbox_p95_ms": round(_p95(inbox_ms), 2),
        "inbox_median_ms": round(statistics.median(inbox_ms), 2),
        "inbox_filtered_p95_ms": round(_p95(filtered_ms), 2),
        "inbox_page_p95_ms": round(_p95(page_ms), 2),
        "search_p95_ms": round(_p95(search_ms), 2),
        "search_median_ms": round(statistics.median(search_ms), 2),
        "db_mb": round(size / 1e6, 1),
        "batch": batch,
        "queries": queries,
    }
    if tmp is not None:
        tmp.cleanup()
    return result
