"""Migrations: one explicit ordered list naming every migration once; its order gives the schema of the history."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import shutil
import sqlite3

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

import core.migrations
from core.db import open_db, schema_version
from core.migrations import MIGRATION_SET, MIGRATIONS, migrations

# The order in which fresh databases applied the migrations when they all lived in core/storage.py
# (registration order there). Released: never reordered (docs/decisions/0006-migrations-order.md).
RELEASED_ORDER = [
    "m001_mentions", "m002_agents_and_work", "m003_connectors_and_worker", "m004_audit_log", "m005_sync_requests",
    "m006_bulk_fts_insert", "m007_time_ordered_mention_keys", "m008_drop_redundant_open_index",
    "m010_sentiment_feedback", "m020_charters", "m021_sessions", "m022_saved_replies", "m023_draft_review",
    "m030_legal_archive", "m031_legal_holds_retention_rgpd", "m050_posts_outbox", "m051_worker_leases",
    "m060_dashboard_rollups", "m061_dashboard_responses", "m062_batch_dashboard_insert", "m080_moderation_queue",
    "m081_author_bans", "m070_x_usage", "m052_reply_outbox",
]
MIGRATION_NAME = re.compile(r"^m\d{3}_\w+$")


def _package_migrations() -> dict[str, object]:
    """Every ``mNNN_...`` function defined in a module of core/migrations/."""
    found: dict[str, object] = {}
    for info in pkgutil.iter_modules(core.migrations.__path__, "core.migrations."):
        module = importlib.import_module(info.name)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and MIGRATION_NAME.match(name):
                assert name not in found, f"{name} is defined twice in core/migrations/"
                found[name] = fn
    return found


def _schema(db: Database) -> list[tuple]:
    return db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()


def _raw(path) -> Database:
    """A bare connection, like the one open_db makes, without its migrations."""
    db = Database(sqlite3.connect(str(path), isolation_level=None))
    db.execute("PRAGMA foreign_keys = ON")
    return db


def test_the_list_names_every_migration_of_the_package_once():
    names = [fn.__name__ for fn in MIGRATIONS]
    assert len(names) == len(set(names)), f"duplicates: {sorted(n for n in names if names.count(n) > 1)}"
    assert all(MIGRATION_NAME.match(n) for n in names)
    package = _package_migrations()
    assert set(names) == set(package), (f"missing from MIGRATIONS: {sorted(set(package) - set(names))}; "
                                        f"not in a module of core/migrations/: {sorted(set(names) - set(package))}")
    assert all(fn is package[fn.__name__] for fn in MIGRATIONS)
    # the sqlite-utils set applies exactly the list, in its order
    assert migrations.name == MIGRATION_SET
    assert [m.fn for m in migrations._migrations] == MIGRATIONS  # noqa: SLF001
    assert schema_version() == len(MIGRATIONS)


def test_released_migrations_keep_their_order_and_new_ones_come_after():
    names = [fn.__name__ for fn in MIGRATIONS]
    assert names[:len(RELEASED_ORDER)] == RELEASED_ORDER


def test_fresh_database_and_one_migrated_step_by_step_have_the_same_schema(tmp_path):
    fresh = open_db(tmp_path / "fresh.db")
    expected = _schema(fresh)
    assert [m.name for m in migrations.applied(fresh)] == [fn.__name__ for fn in MIGRATIONS]
    fresh.close()

    package = _package_migrations()
    path = tmp_path / "history.db"
    for step in range(len(RELEASED_ORDER) + 1):
        if step:  # a release that knew the first `step` migrations, applied to the database of the one before
            released = Migrations(MIGRATION_SET)
            for name in RELEASED_ORDER[:step]:
                released()(package[name])
            db = _raw(path)
            released.apply(db)
            db.execute(f"PRAGMA user_version = {step}")
            assert [m.name for m in released.applied(db)] == RELEASED_ORDER[:step]
            db.close()
        # ... and this version opening a copy of that database brings it to the same schema as a fresh one
        copy = tmp_path / f"upgraded-{step}.db"
        if step:
            shutil.copyfile(path, copy)
        upgraded = open_db(copy)
        applied = [m.name for m in migrations.applied(upgraded)]
        assert applied[:step] == RELEASED_ORDER[:step]  # nothing it already had ran again
        assert sorted(applied) == sorted(fn.__name__ for fn in MIGRATIONS)
        assert _schema(upgraded) == expected, f"schema differs after step {step} ({RELEASED_ORDER[step - 1]})"
        assert upgraded.execute("PRAGMA user_version").fetchone()[0] == schema_version()
        upgraded.close()
