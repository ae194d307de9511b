"""``python -m console bench publish`` (and ``bench idle``): the outbox worker against local fake platforms.

How ``publish`` measures (docs/publishing.md, "Mesures"):
- N posts are written, submitted and approved through the services (not timed), spread evenly over a window,
  on one or more in-memory demo accounts (optionally wrapped to inject failures);
- the worker runs in **simulated time**, as ``console.worker`` does: after each pass it sleeps until the next
  item is due (:meth:`services.outbox.runner.Runner.next_wake`: at most ``tick_s``, the ``PARVIS_PUBLISH_TICK_S``
  bound); between passes the clock jumps (no sleeping), during a pass it runs at real speed, so the time spent
  in our code, SQLite and the connector is counted in full. ``fixed_tick`` runs the former loop instead (the next
  pass ``tick_s`` after the previous one ended), for comparison;
- ``late_share`` of the posts are approved only ``LATE_LEAD`` (0.2 s) before their time, while the worker sleeps:
  the worker notices at the next turn of its loop, when ``PRAGMA data_version`` has changed, as the real loop
  does; the turn comes within ``LOOP_S`` (1 s), at a phase drawn uniformly; this measures the early wake-up;
- lateness of a post = simulated time at which the platform recorded it − its scheduled time;
- ``posts_per_s`` = targets published / real seconds spent inside passes (the worker's busy time);
- ``duplicates`` = extra copies of a text on one account; ``lost`` = targets neither published nor explicitly
  left for a person (failed with a reason, à vérifier, or held) at the end.

``bench idle`` (:func:`idle`) runs the real worker loop (``console.worker.jobs``, the outbox job among them) with
nothing to do, and reads the process's CPU time.
"""

from __future__ import annotations

import random
import resource
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.base import ConnectorInfo
from connectors.demo.connector import DemoConnector
from console import worker
from console.jobs import publishing as publishing_jobs
from core import repo
from core.clock import from_iso
from core.config import Settings
from core.db import open_db
from core.errors import RateLimited, Unavailable
from core.models import DraftState, Platform, Published, Role, TargetState
from core.repo import posts as posts_repo
from core.settings_schema import DemoSettings
from services.editorial import calendar, post_review
from services.outbox.runner import Runner
from services.publishing.content import PublishPolicy
from services.publishing.posts import PostKind

BASE = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
LOOP_S = 1.0  # the worker loop looks at data_version at least this often (console.worker.LOOP_MAX_S)
LATE_LEAD = timedelta(seconds=0.2)  # late-approved posts are approved this long before their time


class SimClock:
    """Simulated time: jumps between passes, real speed inside them."""

    def __init__(self, start: datetime) -> None:
        self.base = start
        self._real = time.perf_counter()

    def jump(self, to: datetime) -> None:
        """Set the simulated time (between passes)."""
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


def _setup(db: Any, n: int, accounts: list[str], window_s: float, now: datetime, late_share: float,
           rng: random.Random) -> tuple[Any, list[tuple[datetime, int]]]:
    """Write, submit and approve the posts; the ``late_share`` ones are only submitted: they are approved during
    the run (returned with their approval time)."""
    author = repo.create_agent(db, email="cm@bench.invalid", name="Camille Bench", initials="CB",
                               role=Role.COMMUNITY_MANAGER, now=now)
    director = repo.create_agent(db, email="dir@bench.invalid", name="Dominique Bench", initials="DB",
                                 role=Role.DIRECTOR, now=now)
    platforms = dict.fromkeys(accounts, Platform.DEMO)
    late: list[tuple[datetime, int]] = []
    for i in range(n):
        at = BASE + timedelta(seconds=window_s * (i + 0.5) / n)
        post = calendar.create_post(db, author, text=f"Publication n° {i} : collecte des encombrants lundi matin "
                                    "dans le quartier Nord.", accounts=accounts, at=at, now=now, platforms=platforms)
        post_review.submit_post(db, author, post.id, now=now)
        if rng.random() < late_share:
            late.append((at - LATE_LEAD, post.id))
        else:
            post_review.approve_post(db, director, post.id, now=now)
    return director, late


def run(*, posts: int = 10_000, accounts: int = 1, tick_s: int = 60, window_s: float | None = None,
        fault_rate: float = 0.0, seed: int = 7, fixed_tick: bool = False, late_share: float = 0.0) -> dict[str, Any]:
    """Run the benchmark; returns the JSON-ready measures."""
    window = window_s if window_s is not None else max(600.0, posts * 2.0)
    names = ["demo"] + [f"demo{i}" for i in range(2, accounts + 1)]
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "bench.db")
        t0 = time.perf_counter()
        director, late = _setup(db, posts, names, window, BASE - timedelta(hours=1), late_share, random.Random(seed))
        setup_s = time.perf_counter() - t0
        clock = SimClock(BASE)
        demos = {name: DemoConnector(clock=clock) for name in names}
        connectors = {k: (FlakyConnector(d, fault_rate, rng) if fault_rate else d) for k, d in demos.items()}
        policy = PublishPolicy(tick_s=tick_s)
        runner = Runner(db, [PostKind(connectors)], clock=clock, policy=policy,  # type: ignore[arg-type]
                        max_sleep=timedelta(seconds=tick_s), rng=rng)
        busy, passes, i = 0.0, 0, 0
        phase = random.Random(seed + 1)
        end = BASE + timedelta(seconds=window) + policy.retry_window + policy.grace
        late.sort()
        while clock() <= end:
            start = time.perf_counter()
            report = runner.run_pass()
            wake = clock() + timedelta(seconds=tick_s) if fixed_tick else runner.next_wake(report)
            busy += time.perf_counter() - start
            passes += 1
            if passes % 50 == 0 and not _open_targets(db) and i >= len(late):
                break
            while i < len(late) and late[i][0] < wake:  # a director approves while the worker sleeps
                approve_at, post_id = late[i]
                i += 1
                clock.jump(max(clock(), approve_at))
                post_review.approve_post(db, director, post_id, now=clock())
                if fixed_tick:
                    continue
                # the loop's next turn comes within LOOP_S, at a phase we cannot know: drawn uniformly
                clock.jump(max(clock(), approve_at + timedelta(seconds=phase.uniform(0, LOOP_S))))
                wake = min(wake, runner.next_wake())  # data_version changed: when is the next item due now?
                if wake <= clock():
                    break
            clock.jump(max(clock(), wake))
        result = _measure(db, demos, busy, passes, setup_s, posts, names, window, tick_s, fault_rate)
        result.update(mode="fixed tick" if fixed_tick else "wake on due", late_approved=len(late))
        db.close()
    return result


def _open_targets(db: Any) -> int:
    counts = posts_repo.target_state_counts(db)
    return sum(counts.get(s, 0) for s in (TargetState.PENDING, TargetState.PUBLISHING, TargetState.HANDED_OFF))


def _measure(db: Any, demos: dict[str, DemoConnector], busy: float, passes: int, setup_s: float, n: int,
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
        "passes": passes, "busy_s": round(busy, 2), "setup_s": round(setup_s, 2),
        "measure": "simulated clock: jumps between passes, real time inside them (see docs/publishing.md)",
    }


def idle(*, seconds: float = 60.0, warmup_s: float = 5.0) -> dict[str, Any]:
    """Run the real worker loop with the outbox job and nothing to do; CPU seconds used over ``seconds``."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), db_path=Path(tmp) / "parvis.db",
                            values={DemoSettings.key("enabled"): "0"})
        open_db(settings.db_path).close()
        listed = worker.jobs(settings, [])
        # the OutboxJob the worker runs (its ``due`` is the job's bound method): its counters
        job = next(j.due for j in listed if j.name == publishing_jobs.JOB_NAME).__self__  # type: ignore[union-attr]
        stop = threading.Event()
        thread = threading.Thread(target=worker.run_jobs, args=(settings, listed), kwargs={"stop": stop}, daemon=True)
        try:
            thread.start()
            time.sleep(warmup_s)
            passes, checks, job_cpu = job.passes, job.checks, job.cpu_s
            before, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            time.sleep(seconds)
            after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - wall
            passes, checks, job_cpu = job.passes - passes, job.checks - checks, job.cpu_s - job_cpu
        finally:
            stop.set()
            thread.join(timeout=30)
            publishing_jobs.release(settings, datetime.now(UTC))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"seconds": round(wall, 2), "cpu_s": round(cpu, 3), "cpu_percent": round(100 * cpu / wall, 3),
            "outbox_passes": passes, "outbox_wake_checks": checks, "outbox_cpu_s": round(job_cpu, 3),
            "measure": "whole worker process (heartbeat every 5 s, console sync requests every 2 s, the outbox), "
                       "no connector, nothing due; getrusage after a warm-up"}
