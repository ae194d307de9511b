"""``python -m console bench publish``: the publishing worker against local fake platforms, in simulated time.

How it measures (docs/publishing.md, "Mesures"):
- N posts are written, submitted and approved through the services (not timed), spread evenly over a window,
  on one or more in-memory demo accounts (optionally wrapped to inject failures);
- the worker loop runs ticks as the `schedule` loop does: the next tick starts ``tick_s`` after the previous
  one *ended*. Between ticks the simulated clock jumps (no sleeping); during a tick it runs at real speed, so
  the time spent in our code, SQLite and the connector is counted in full;
- lateness of a post = simulated time at which the platform recorded it − its scheduled time;
- ``posts_per_s`` = targets published / real seconds spent inside ticks (the worker's busy time);
- ``duplicates`` = extra copies of a text on one account; ``lost`` = targets neither published nor explicitly
  left for a person (failed with a reason, à vérifier, or held) at the end.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.base import ConnectorInfo
from connectors.demo.connector import DemoConnector
from core import repo
from core.clock import from_iso
from core.db import open_db
from core.errors import RateLimited, Unavailable
from core.models import DraftState, Platform, Published, Role, TargetState
from core.repo import posts as posts_repo
from services.editorial import calendar, post_review
from services.publishing.content import PublishPolicy
from services.publishing.posts import Publisher

BASE = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


class SimClock:
    """Simulated time: jumps between ticks, real speed inside them."""

    def __init__(self, start: datetime) -> None:
        self.base = start
        self._real = time.perf_counter()

    def jump(self, to: datetime) -> None:
        """Set the simulated time (between ticks)."""
        self.base = to
        self._real = time.perf_counter()

    def __call__(self) -> datetime:
        return self.base + timedelta(seconds=time.perf_counter() - self._real)


class FlakyConnector:
    """A demo account whose calls fail at ``rate``: half rate-limited (not sent), half ambiguous (sent, then 5xx)."""

    def __init__(self, inner: DemoConnector, rate: float, rng: random.Random) -> None:
        self.inner, self.rate, self.rng = inner, rate, rng
        self.name = inner.name
        self.info: ConnectorInfo = inner.info

    def publish(self, text: str, *, scheduled_at: datetime | None = None, media: Sequence[dict[str, Any]] = ()
                ) -> Published:
        """Publish through the demo account, sometimes failing."""
        draw = self.rng.random()
        if draw < self.rate / 2:
            raise RateLimited("simulated 429")
        published = self.inner.publish(text, scheduled_at=scheduled_at, media=media)
        if draw < self.rate:
            raise Unavailable("simulated 503 after the post was created")
        return published

    def find_published(self, text: str, since: datetime) -> Published | None:
        """Delegate to the demo timeline."""
        return self.inner.find_published(text, since)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _setup(db: Any, n: int, accounts: list[str], window_s: float, now: datetime) -> None:
    author = repo.create_agent(db, email="cm@bench.invalid", name="Camille Bench", initials="CB",
                               role=Role.COMMUNITY_MANAGER, now=now)
    director = repo.create_agent(db, email="dir@bench.invalid", name="Dominique Bench", initials="DB",
                                 role=Role.DIRECTOR, now=now)
    platforms = dict.fromkeys(accounts, Platform.DEMO)
    for i in range(n):
        at = BASE + timedelta(seconds=window_s * (i + 0.5) / n)
        post = calendar.create_post(db, author, text=f"Publication n° {i} : collecte des encombrants lundi matin "
                                    "dans le quartier Nord.", accounts=accounts, at=at, now=now, platforms=platforms)
        post_review.submit_post(db, author, post.id, now=now)
        post_review.approve_post(db, director, post.id, now=now)


def run(*, posts: int = 10_000, accounts: int = 1, tick_s: int = 15, window_s: float | None = None,
        fault_rate: float = 0.0, seed: int = 7) -> dict[str, Any]:
    """Run the benchmark; returns the JSON-ready measures."""
    window = window_s if window_s is not None else max(600.0, posts * 2.0)
    names = ["demo"] + [f"demo{i}" for i in range(2, accounts + 1)]
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "bench.db")
        t0 = time.perf_counter()
        _setup(db, posts, names, window, BASE - timedelta(hours=1))
        setup_s = time.perf_counter() - t0
        clock = SimClock(BASE)
        demos = {name: DemoConnector(clock=clock) for name in names}
        connectors = {k: (FlakyConnector(d, fault_rate, rng) if fault_rate else d) for k, d in demos.items()}
        policy = PublishPolicy(tick_s=tick_s)
        publisher = Publisher(db, connectors, clock=clock, policy=policy, rng=rng)  # type: ignore[arg-type]
        busy = 0.0
        ticks = 0
        end = BASE + timedelta(seconds=window) + policy.retry_window + policy.grace
        while clock() <= end:
            start = time.perf_counter()
            publisher.tick()
            busy += time.perf_counter() - start
            ticks += 1
            if ticks % 50 == 0 and not _open_targets(db):
                break
            clock.jump(clock() + timedelta(seconds=tick_s))
        result = _measure(db, demos, busy, ticks, setup_s, posts, names, window, tick_s, fault_rate)
        db.close()
    return result


def _open_targets(db: Any) -> int:
    counts = posts_repo.target_state_counts(db)
    return sum(counts.get(s, 0) for s in (TargetState.PENDING, TargetState.PUBLISHING, TargetState.HANDED_OFF))


def _measure(db: Any, demos: dict[str, DemoConnector], busy: float, ticks: int, setup_s: float, n: int,
             names: list[str], window: float, tick_s: int, fault_rate: float) -> dict[str, Any]:
    scheduled = {p.text: p.scheduled_at for p in posts_repo.posts_in_states(db, list(DraftState), limit=n + 10)}
    lateness: list[float] = []
    copies: Counter[tuple[str, str]] = Counter()
    for account, demo in demos.items():
        for rec in demo.outbox():
            copies[(account, rec["text"])] += 1
            at = from_iso(rec["at"])
            if copies[(account, rec["text"])] == 1 and at is not None and rec["text"] in scheduled:
                lateness.append((at - scheduled[rec["text"]]).total_seconds())
    counts = posts_repo.target_state_counts(db)
    published = counts.get(TargetState.SENT, 0)
    explicit = counts.get(TargetState.FAILED, 0) + counts.get(TargetState.TO_VERIFY, 0) + len(
        posts_repo.posts_in_states(db, [DraftState.APPROVED], limit=n + 10)) * len(names)
    lateness.sort()

    def pct(q: float) -> float:
        return round(lateness[min(len(lateness) - 1, int(q * len(lateness)))], 3) if lateness else 0.0

    return {
        "posts": n, "accounts": len(names), "targets": n * len(names), "tick_s": tick_s, "window_s": window,
        "fault_rate": fault_rate, "published": published, "left_for_person": explicit,
        "posts_per_s": round(published / busy, 1) if busy else 0.0,
        "lateness_p50_s": pct(0.50), "lateness_p95_s": pct(0.95), "lateness_max_s": round(max(lateness, default=0), 3),
        "lateness_mean_s": round(statistics.fmean(lateness), 3) if lateness else 0.0,
        "duplicates": sum(c - 1 for c in copies.values() if c > 1),
        "lost": n * len(names) - published - explicit,
        "ticks": ticks, "busy_s": round(busy, 2), "setup_s": round(setup_s, 2),
        "measure": "simulated clock: jumps between ticks, real time inside ticks (see docs/publishing.md)",
    }
