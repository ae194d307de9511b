"""Upgrades: a backup is taken by itself before a migration touches data; `migrate --dry-run` lists what would
run and changes nothing; a database from a newer Parvis is refused."""

from __future__ import annotations

import logging
import sqlite3

from click.testing import CliRunner
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from console.cli import _load_commands, cli
from core import snapshot
from core.db import open_db, schema_version
from core.migrations import MIGRATION_SET, MIGRATIONS
from services.operations import backups


def _old_database(path, known: int) -> None:
    """A database as written by a Parvis that knew the first ``known`` migrations, with one agent in it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = Database(sqlite3.connect(path, isolation_level=None))
    released = Migrations(MIGRATION_SET)
    for fn in MIGRATIONS[:known]:
        released()(fn)
    released.apply(db)
    db.execute(f"PRAGMA user_version = {known}")
    db.execute("INSERT INTO agents (email, name, initials, role, created_at) "
               "VALUES ('julie@valmont.fr', 'Julie', 'JM', 'community_manager', '2026-01-01T00:00:00+00:00')")
    db.close()


def test_opening_an_older_database_backs_it_up_first_and_says_where(tmp_path, caplog):
    path = tmp_path / "data" / "parvis.db"
    _old_database(path, schema_version() - 3)
    before = path.read_bytes()
    with caplog.at_level(logging.WARNING, logger="parvis.db"):
        db = open_db(path)
    assert snapshot.user_version(db.conn) == schema_version()
    db.close()
    (copy,) = (tmp_path / "data" / "backups").glob("pre-migrate-*.db")
    assert copy.name.endswith(f"-schema{schema_version() - 3}-to{schema_version()}.db")
    assert str(copy) in caplog.text and "before upgrading its schema" in caplog.text
    with snapshot.open_copy(copy) as conn:  # the copy is the database as it was
        assert snapshot.user_version(conn) == schema_version() - 3
        assert conn.execute("SELECT email FROM agents").fetchall() == [("julie@valmont.fr",)]
    assert backups.verify_backup(copy).ok
    assert len(before) > 0


def test_a_new_or_current_database_takes_no_backup(tmp_path):
    path = tmp_path / "data" / "parvis.db"
    path.parent.mkdir()
    open_db(path).close()
    open_db(path).close()
    assert not (tmp_path / "data" / "backups").exists()


def test_migrate_dry_run_lists_the_pending_migrations_and_changes_nothing(tmp_path):
    _load_commands()
    path = tmp_path / "data" / "parvis.db"
    _old_database(path, schema_version() - 2)
    before = path.read_bytes()
    out = CliRunner().invoke(cli, ["migrate", "--db", str(path), "--dry-run"])
    assert out.exit_code == 0, out.output
    names = [fn.__name__ for fn in MIGRATIONS[-2:]]
    assert f"schema {schema_version() - 2}; this Parvis knows {schema_version()}" in out.output
    assert "2 migration(s) would run" in out.output
    assert out.output.index(names[0]) < out.output.index(names[1])
    assert path.read_bytes() == before
    assert not (tmp_path / "data" / "backups").exists()

    out = CliRunner().invoke(cli, ["migrate", "--db", str(path)])
    assert out.exit_code == 0, out.output
    assert "Backup taken before migrating:" in out.output
    assert f"Applied 2 migration(s): {', '.join(names)}" in out.output
    assert len(list((tmp_path / "data" / "backups").glob("pre-migrate-*.db"))) == 1
    again = CliRunner().invoke(cli, ["migrate", "--db", str(path), "--dry-run"])
    assert "Nothing to do" in again.output


def test_migrate_refuses_a_database_from_a_newer_parvis(tmp_path):
    _load_commands()
    path = tmp_path / "parvis.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {schema_version() + 1}")
    conn.close()
    before = path.read_bytes()
    for args in (["migrate", "--db", str(path)], ["migrate", "--db", str(path), "--dry-run"]):
        out = CliRunner().invoke(cli, args)
        assert out.exit_code == 1
        assert path.read_bytes() == before
    assert not (tmp_path / "backups").exists()


def test_a_failed_backup_stops_the_migration(tmp_path, monkeypatch):
    path = tmp_path / "data" / "parvis.db"
    _old_database(path, schema_version() - 1)

    def no_space(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(snapshot, "copy_database", no_space)
    try:
        open_db(path)
    except Exception as err:  # noqa: BLE001
        assert "backup taken first failed" in str(err) and "nothing was changed" in str(err)
    else:
        raise AssertionError("the migration ran without its backup")
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema_version() - 1
    conn.close()
