"""``python -m console bench dashboard``: latency of the dashboard page's queries over a 30-day window.

Builds a fresh database of N synthetic mentions spread over ``days`` days (a city's history: most old mentions answered
or closed, a recent open backlog, replies sent by 8 agents, tags, sentiment and risk flags), inserted in bulk through
the same triggers that keep the roll-ups exact, then times :func:`services.reports.dashboard.load_dashboard` (every
query the page runs plus the Python aggregation) for the default view and for channel, account and tag filters. Topic
grouping is timed separately (the page caches it).
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core import repo
from core.clock import to_iso
from core.db import open_db, optimize, write_transaction
from core.models import Role
from core.repo import stats as stats_repo
from services.reports import dashboard
from services.reports.topics import topics_for

CHANNELS = (("x", "@VilleDeValmont"), ("x", "@ValmontSports"), ("facebook", "Ville de Valmont"),
            ("facebook", "Médiathèque de Valmont"), ("instagram", "villedevalmont"))
TAGS = ("voirie", "propreté", "piscine", "éclairage", "cantine", "stationnement", "événements", "urgent")
KINDS = ("insult", "threat", "personal_data", "spam", "distress")
SUBJECTS = ("la piscine", "les poubelles", "le nid de poule rue Pasteur", "les lampadaires", "la cantine",
            "le stationnement", "le marché de Noël", "les travaux avenue Foch", "le bus ligne 4", "les encombrants")
TEMPLATES = ("Bonjour, {s} c'est pour quand ?", "Toujours rien pour {s}, c'est inadmissible",
             "Merci pour {s} !", "Quelqu'un peut m'expliquer pour {s} ?", "{s} encore en panne ce matin")


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def _rows(n: int, days: int, seed: int, end: datetime, agents: list[int]) -> Iterator[tuple[tuple, tuple | None,
                                                                                            tuple | None]]:
    rng = random.Random(seed)
    span = days * 86400
    for i in range(n):
        created = end - timedelta(seconds=span * (i + rng.random()) / n)
        platform, account = rng.choices(CHANNELS, weights=(30, 10, 35, 10, 15))[0]
        uid = f"{platform}:b{i}"
        sentiment = rng.choices(("positive", "neutral", "negative", None), weights=(20, 50, 25, 5))[0]
        flags = stats_repo.flags_json(rng.sample(KINDS, rng.choice((1, 1, 2)))) if rng.random() < 0.08 else "[]"
        age_h = (end - created).total_seconds() / 3600
        answered_p = 0.7 if age_h > 72 else 0.4
        roll = rng.random()
        status, responded, agent = "closed", None, None
        if roll < answered_p:
            status = "answered"
            responded = created + timedelta(hours=min(rng.lognormvariate(1.0, 1.2), age_h))
            agent = rng.choice(agents)
        elif roll > 0.97 or age_h < 72:
            status = rng.choice(("new", "assigned", "waiting", "escalated"))
            agent = rng.choice(agents) if status != "new" else None
        text = rng.choice(TEMPLATES).format(s=rng.choice(SUBJECTS))
        created_iso = to_iso(created)
        mention: tuple[Any, ...] = (
            uid, platform, f"b{i}", account, f"u{rng.randrange(n // 3 + 1)}", f"habitant{i % 997}", text,
            created_iso, created_iso, created_iso, status, agent, sentiment, 0.8, 0.1, flags, rng.random() * 10, None)
        draft = None
        if responded is not None and rng.random() < 0.8:
            draft = (uid, agent, "Merci pour votre message, le service est prévenu.", platform, to_iso(responded))
        elif responded is not None:
            mention = (*mention[:-1], to_iso(responded))
        tag = (uid, rng.choice(TAGS)) if rng.random() < 0.15 else None
        yield mention, draft, tag


def run(mentions: int, *, days: int = 365, queries: int = 30, seed: int = 9, db_path: Path | None = None,
        topics: bool = True) -> dict[str, Any]:
    """Build the synthetic database, time the dashboard page; returns the JSON-able result."""
    tmp = None
    if db_path is None:
        tmp = tempfile.TemporaryDirectory(prefix="parvis-bench-dash-")
        db_path = Path(tmp.name) / "bench.db"
    if db_path.exists():
        raise FileExistsError(f"{db_path} exists: the dashboard benchmark needs a fresh file")
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db = open_db(db_path)
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        agents = [repo.create_agent(db, email=f"agent{i}@valmont.example", name=f"Agent {i}", initials=f"A{i}",
                                    role=Role.COMMUNITY_MANAGER, now=now).id for i in range(8)]
        start = time.perf_counter()
        batch: tuple[list, list, list] = ([], [], [])
        for mention, draft, tag in _rows(mentions, days, seed, now, agents):
            batch[0].append(mention)
            if draft:
                batch[1].append(draft)
            if tag:
                batch[2].append(tag)
            if len(batch[0]) >= 20_000:
                with write_transaction(db):
                    stats_repo.bench_insert(db, *batch)
                batch = ([], [], [])
        with write_transaction(db):
            stats_repo.bench_insert(db, *batch)
        load_s = time.perf_counter() - start
        optimize(db)
        config = dashboard.DashboardConfig()
        rng = random.Random(seed)
        variants = {
            "default": lambda: dashboard.DashboardFilters(),
            "channel": lambda: dashboard.DashboardFilters(platforms=(rng.choice(CHANNELS)[0],)),
            "account": lambda: dashboard.DashboardFilters(accounts=(rng.choice(CHANNELS)[1],)),
            "tag": lambda: dashboard.DashboardFilters(tags=(rng.choice(TAGS),)),
        }
        timings: dict[str, list[float]] = {name: [] for name in variants}
        window = 0
        for _ in range(queries):
            for name, make in variants.items():
                t0 = time.perf_counter()
                page = dashboard.load_dashboard(db, make(), config, now=now)
                timings[name].append((time.perf_counter() - t0) * 1000)
                if name == "default":
                    window = page.totals["mentions"]
        topics_ms = None
        if topics:
            import sklearn.cluster  # noqa: F401 - warm import: the page process has it loaded already

            t0 = time.perf_counter()
            topics_for(db, dashboard.DashboardFilters(), config, now=now)
            topics_ms = round((time.perf_counter() - t0) * 1000, 1)
        everything = [t for ts in timings.values() for t in ts]
    finally:
        db.close()
    size = sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*"))
    result = {
        "mentions": mentions, "days": days, "window_days": dashboard.DEFAULT_DAYS, "window_mentions": window,
        "p95_ms": round(_p95(everything), 1), "median_ms": round(statistics.median(everything), 1),
        **{f"{name}_p95_ms": round(_p95(ts), 1) for name, ts in timings.items()},
        "topics_ms": topics_ms, "load_s": round(load_s, 1), "load_per_s": round(mentions / load_s) if load_s else None,
        "db_mb": round(size / 1e6, 1), "queries": queries * len(variants),
    }
    if tmp is not None:
        tmp.cleanup()
    return result
