"""Issue #15, finding 6: a committed claim must survive a power cut.

In WAL mode ``synchronous=NORMAL`` does not sync the log at each commit: a claim (or an audit event) committed just
before a power cut can roll back, and the post is then published again with no lookup. Every connection Parvis
opens now syncs each commit (``synchronous=FULL``); the cost is in BENCHMARKS.md, "Durability".
"""

from __future__ import annotations

import ast
import re
import sqlite3
from datetime import timedelta
from pathlib import Path

from connectors.demo.connector import DemoConnector
from console import worker
from console.jobs import publishing as publishing_jobs
from core.config import Settings
from core.db import open_db
from core.models import TargetState
from core.repo import posts as posts_repo
from tests.publishing.conftest import T0, clock, make_post  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]
FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA
_SYNC = re.compile(r"PRAGMA\s+synchronous\s*=\s*(\w+)", re.IGNORECASE)
_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_DURABLE = {"2", "3", "FULL", "EXTRA"}


def test_every_database_connection_syncs_each_commit(db_path):
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db = open_db(db_path)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] >= FULL
    finally:
        db.close()


def test_every_connection_that_claims_and_records_a_publication_is_full(monkeypatch, db, db_path,
                                                                      make_post):  # noqa: F811
    """A worker round publishes a due post; every connection it opened had synchronous FULL before its first write
    and kept it."""
    post = make_post("Annonce : la piscine rouvre lundi.", accounts=("demo",))
    traces: list[list[str]] = []
    real_connect = sqlite3.connect

    def spying_connect(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        trace: list[str] = []
        traces.append(trace)
        conn.set_trace_callback(trace.append)
        return conn

    demo = DemoConnector(clock=lambda: T0)
    monkeypatch.setattr(sqlite3, "connect", spying_connect)
    monkeypatch.setattr(worker, "EXTRA_JOBS", [])
    monkeypatch.setattr(publishing_jobs, "_CONNECTORS", {"demo": demo})
    settings = Settings(data_dir=db_path.parent, db_path=db_path, values={"PARVIS_DEMO": "0"})
    worker.run(settings, [], clock=lambda: T0 + timedelta(seconds=1), max_loops=1)
    monkeypatch.undo()

    assert [r["text"] for r in demo.outbox()] == [post.text]
    assert posts_repo.get_post(db, post.id).targets[0].state is TargetState.SENT
    writers = [trace for trace in traces if any(_WRITE.match(sql) for sql in trace)]
    assert writers, "the round wrote nothing through a new connection"
    for trace in writers:
        first_write = next(i for i, sql in enumerate(trace) if _WRITE.match(sql))
        levels = [m.group(1).upper() for sql in trace[:first_write] if (m := _SYNC.search(sql))]
        assert levels and levels[-1] in _DURABLE, f"a connection wrote with synchronous {levels or 'default'}"
        later = [m.group(1).upper() for sql in trace[first_write:] if (m := _SYNC.search(sql))]
        assert all(level in _DURABLE for level in later), f"synchronous lowered to {later}"


def test_only_open_db_opens_sqlite_connections():
    """So that every connection gets the pragma: no other module calls sqlite3.connect (core/db.py opens the live
    database, read-write or read-only)."""
    offenders = []
    for package in ("core", "connectors", "moderation", "editorial", "services", "console"):
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "core" / "db.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Attribute) and node.attr == "connect" and isinstance(node.value, ast.Name)
                        and node.value.id == "sqlite3"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, f"sqlite3.connect outside core/db.py: {offenders}"
