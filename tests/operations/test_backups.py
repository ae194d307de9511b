"""Backups that restore: taken under write load, checked, rotated, restored (refused when they should be)."""

from __future__ import annotations

import json
import sqlite3
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from connectors.demo.connector import DemoConnector
from console import worker
from console.cli import _load_commands, cli
from console.jobs import backups as backup_jobs
from core import audit, repo, snapshot
from core.config import Settings
from core.db import open_db, write_transaction
from core.errors import BackupError, DatabaseInUse
from services.connections.ingest import sync_connector
from services.inbox import triage
from services.operations import backups
from tests.conftest import make_mention

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _history(db, agents) -> None:
    """A few mentions, notes and audit rows."""
    mentions = [make_mention(f"Bonjour {i}") for i in range(3)]
    repo.upsert_mentions(db, mentions, now=T0)
    for m in mentions:
        triage.add_note(db, m.uid, "vu", actor=agents["julie"], now=T0)


def _rows(db, table: str, order: str) -> list[tuple]:
    return db.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()


@pytest.fixture
def busy_db(db_path, agents):
    """A database the demo connector and an agent keep writing to while the test runs (worker + inbox)."""
    stop = threading.Event()
    errors: list[BaseException] = []
    julie = agents["julie"]
    started, noted = threading.Event(), threading.Event()

    def sync_loop() -> None:
        db = open_db(db_path)
        tick = 0
        try:
            while not stop.is_set():
                tick += 1
                demo = DemoConnector(clock=lambda tick=tick: T0 + timedelta(minutes=10 * tick), history_days=2)
                sync_connector(db, demo, now=T0 + timedelta(minutes=10 * tick))
                started.set()
        except BaseException as err:  # noqa: BLE001 - surfaced by the test
            errors.append(err)
        finally:
            db.close()

    def inbox_loop() -> None:
        db = open_db(db_path)
        n = 0
        try:
            while not stop.is_set():
                items = repo.list_inbox(db, repo.InboxQuery(order="newest", limit=5))
                for item in items:
                    n += 1
                    triage.add_note(db, item.uid, f"note {n}", actor=julie, now=T0 + timedelta(seconds=n))
                    noted.set()
        except BaseException as err:  # noqa: BLE001
            errors.append(err)
        finally:
            db.close()

    threads = [threading.Thread(target=sync_loop), threading.Thread(target=inbox_loop)]
    for t in threads:
        t.start()
    assert started.wait(60) and noted.wait(60), "the writers never wrote"
    yield
    stop.set()
    for t in threads:
        t.join(60)
    assert not errors, errors


def test_a_backup_taken_under_write_load_restores_to_an_identical_verifying_database(db_path, busy_db,
                                                                                      tmp_path):
    taken = backups.take_backup(db_path, tmp_path / "backups", now=T0)
    live = open_db(db_path)
    head_during = audit.chain_head(live)
    live.close()
    # the writers kept going after the snapshot
    restored_path = tmp_path / "elsewhere" / "parvis.db"
    done = backups.restore(taken.path, restored_path, now=T0)
    assert done.replaced is None and done.verification.ok

    restored = open_db(restored_path)
    manifest = json.loads(taken.manifest_path.read_text())
    assert snapshot.table_counts(restored.conn) == manifest["counts"]
    head = audit.chain_head(restored)
    assert (head["id"], head["hash"]) == (manifest["audit_head"]["id"], manifest["audit_head"]["hash"])
    report = audit.verify_chain(restored)
    assert report.ok and report.checked == head["id"]
    assert manifest["counts"]["mentions"] > 0 and manifest["counts"]["notes"] > 0
    # the copy is one moment of the live database: its audit log is a prefix of the live chain, its rows are
    # rows of the live database (nothing half-written)
    live = open_db(db_path)
    assert head_during["id"] >= head["id"]
    assert _rows(restored, "audit_log", "id") == _rows(live, "audit_log", "id")[:head["id"]]
    live_notes = set(_rows(live, "notes", "id"))
    assert set(_rows(restored, "notes", "id")) <= live_notes
    live_uids = {r[0] for r in live.execute("SELECT uid FROM mentions")}
    assert {r[0] for r in restored.execute("SELECT uid FROM mentions")} <= live_uids
    live.close()
    restored.close()


def test_backup_files_are_private_and_the_manifest_describes_the_copy(db, db_path, agents, tmp_path):
    _history(db, agents)
    folder = tmp_path / "backups"
    taken = backups.take_backup(db_path, folder, now=T0)
    assert taken.path.name == "parvis-20261123T100000Z.db"
    assert _mode(taken.path) == 0o600 and _mode(taken.manifest_path) == 0o600 and _mode(folder) == 0o700
    manifest = json.loads(taken.manifest_path.read_text())
    assert manifest["sha256"] == backups.sha256_file(taken.path)
    assert manifest["counts"]["agents"] == 5
    assert manifest["audit_head"]["id"] == audit.chain_head(db)["id"]
    with snapshot.open_copy(taken.path) as conn:  # a single self-contained file
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    second = backups.take_backup(db_path, folder, now=T0)  # same second: never overwrites
    assert second.path.name == "parvis-20261123T100000Z-2.db"
    assert [p for _, p in backups.list_backups(folder)] == [second.path, taken.path]


def test_an_altered_backup_is_refused_and_nothing_is_replaced(db, db_path, agents, tmp_path):
    _history(db, agents)
    taken = backups.take_backup(db_path, tmp_path / "b", now=T0)
    data = bytearray(taken.path.read_bytes())
    data[-100] ^= 0xFF
    taken.path.write_bytes(bytes(data))
    before = db_path.read_bytes()
    with pytest.raises(BackupError, match="SHA-256 differs"):
        backups.restore(taken.path, db_path, now=T0, force=True)
    assert db_path.read_bytes() == before


def test_a_copy_whose_audit_chain_was_edited_fails_its_checks(db, db_path, agents, tmp_path):
    _history(db, agents)
    copy = tmp_path / "copy.db"
    snapshot.copy_database(db_path, copy)
    conn = sqlite3.connect(copy)
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET actor = 'someone@else.fr' WHERE id = 2")
    conn.commit()
    conn.close()
    check = backups.verify_backup(copy)  # no manifest: integrity and chain still checked
    assert not check.ok
    assert any("audit chain broken at row 2" in p for p in check.problems)
    with pytest.raises(BackupError):
        backups.restore(copy, tmp_path / "new" / "parvis.db", now=T0)
    assert not (tmp_path / "new" / "parvis.db").exists()


def test_restore_refuses_a_database_the_worker_runs_on_unless_forced_and_keeps_the_replaced_file(
        db, db_path, agents, tmp_path):
    mention = make_mention("Bonjour")
    repo.upsert_mentions(db, [mention], now=T0)
    taken = backups.take_backup(db_path, tmp_path / "b", now=T0)
    with write_transaction(db):
        repo.beat(db, "worker", pid=1, started_at=T0, now=T0 + timedelta(seconds=50))
        repo.add_note(db, mention.uid, agents["julie"].id, "after the backup", now=T0)
    db.close()
    later = T0 + timedelta(seconds=55)
    with pytest.raises(DatabaseInUse, match="worker is running"):
        backups.restore(taken.path, db_path, now=later)
    done = backups.restore(taken.path, db_path, now=later, force=True)
    assert done.replaced is not None and done.replaced.name == "parvis.db.replaced-20261123T100055Z"
    kept = open_db(done.replaced, migrate=False)
    assert kept.execute("SELECT count(*) FROM notes").fetchone()[0] == 1
    kept.close()
    back = open_db(db_path)
    assert back.execute("SELECT count(*) FROM notes").fetchone()[0] == 0
    assert _mode(db_path) == 0o600
    back.close()


def test_restore_refuses_a_database_another_process_has_open(db, db_path, agents, tmp_path):
    _history(db, agents)
    taken = backups.take_backup(db_path, tmp_path / "b", now=T0)
    with pytest.raises(DatabaseInUse, match="open"):  # `db` (the fixture's connection) is still open
        backups.restore(taken.path, db_path, now=T0 + timedelta(hours=1))
    assert not list(db_path.parent.glob("*.replaced-*"))
    assert audit.verify_chain(db).ok


def _stamps(folder: Path, times: list[datetime]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for when in times:
        path = folder / f"parvis-{when.strftime('%Y%m%dT%H%M%SZ')}.db"
        path.write_bytes(b"x")
        backups.manifest_path_for(path).write_text("{}")


def test_rotation_keeps_7_daily_4_weekly_12_monthly_and_nothing_else(tmp_path):
    folder = tmp_path / "b"
    start = datetime(2025, 1, 1, 1, 0, tzinfo=UTC)
    _stamps(folder, [start + timedelta(days=d) for d in range(500)])  # one a day for 500 days
    (folder / "pre-migrate-20250101T000000000000Z-schema3-to24.db").write_bytes(b"x")
    (folder / "notes.txt").write_text("kept")
    removed = backups.rotate(folder, backups.RetentionPolicy())
    kept = [when for when, _ in backups.list_backups(folder)]
    newest = start + timedelta(days=499)
    assert kept[0] == newest
    assert kept[:7] == [newest - timedelta(days=d) for d in range(7)]  # 7 daily
    weeks = {tuple(w.astimezone(backups.PARIS).isocalendar())[:2] for w in kept}
    months = {(w.year, w.month) for w in kept}
    assert len(weeks) >= 4 and len(months) == 12
    assert len(kept) <= 7 + 4 + 12
    assert all(backups.manifest_path_for(p).exists() for _, p in backups.list_backups(folder))
    assert len([p for p in removed if p.suffix == ".db"]) == 500 - len(kept)
    assert (folder / "notes.txt").exists() and (folder / "pre-migrate-20250101T000000000000Z-schema3-to24.db").exists()


def test_rotation_policy_reads_its_settings(db_path):
    settings = Settings(data_dir=db_path.parent, db_path=db_path, values={
        "PARVIS_BACKUP_KEEP_DAILY": "2", "PARVIS_BACKUP_KEEP_WEEKLY": "0", "PARVIS_BACKUP_KEEP_MONTHLY": "1"})
    policy = backups.RetentionPolicy.from_settings(settings)
    assert policy == backups.RetentionPolicy(daily=2, weekly=0, monthly=1)
    times = [datetime(2026, 3, d, 12, tzinfo=UTC) for d in range(1, 11)]
    kept = backups.to_keep(sorted(((t, Path(str(t))) for t in times), reverse=True), policy)
    assert sorted(kept) == sorted(Path(str(t)) for t in times[-2:])


def test_the_worker_job_backs_up_daily_and_rotates(monkeypatch, db, db_path, agents, tmp_path):
    settings = Settings(data_dir=db_path.parent, db_path=db_path,
                        values={"PARVIS_BACKUP_DIR": str(tmp_path / "auto"), "PARVIS_BACKUP_KEEP_DAILY": "2",
                                "PARVIS_BACKUP_KEEP_WEEKLY": "0", "PARVIS_BACKUP_KEEP_MONTHLY": "0"})
    first = backup_jobs.backup_if_due(settings, T0)
    assert first is not None and first.path.parent == tmp_path / "auto"
    assert backup_jobs.backup_if_due(settings, T0 + timedelta(hours=5)) is None  # not due yet
    assert backup_jobs.backup_if_due(settings, T0 + timedelta(days=1)) is not None
    assert backup_jobs.backup_if_due(settings, T0 + timedelta(days=2)) is not None
    assert len(backups.list_backups(tmp_path / "auto")) == 2  # rotated
    off = Settings(data_dir=db_path.parent, db_path=db_path,
                   values={**settings.values, "PARVIS_BACKUP_INTERVAL_H": "0"})
    assert backup_jobs.backup_if_due(off, T0 + timedelta(days=9)) is None
    # one of the worker's listed jobs, run by the worker's loop
    monkeypatch.setattr(worker, "EXTRA_JOBS", [])
    assert ("backup", backup_jobs.CHECK_EVERY_S) in [(j.name, j.every_s) for j in worker.jobs(settings, [])]
    worker.run(settings, [], clock=lambda: T0 + timedelta(days=4), max_loops=1)
    assert backups.latest_backup_at(tmp_path / "auto") == T0 + timedelta(days=4)


def test_backup_and_restore_commands(db, db_path, agents, tmp_path):
    _history(db, agents)
    _load_commands()
    runner = CliRunner()
    db.close()
    out = runner.invoke(cli, ["backup", "--db", str(db_path), "--to", str(tmp_path / "b")])
    assert out.exit_code == 0, out.output
    assert "Backup written:" in out.output and "audit chain ok" in out.output
    (file,) = [p for _, p in backups.list_backups(tmp_path / "b")]
    check = runner.invoke(cli, ["restore", "--db", str(db_path), "--check-only", str(file)])
    assert check.exit_code == 0 and ": ok" in check.output
    done = runner.invoke(cli, ["restore", "--db", str(tmp_path / "new" / "parvis.db"), str(file)])
    assert done.exit_code == 0, done.output
    assert "Restored" in done.output and "chain verified" in done.output
    missing = runner.invoke(cli, ["backup", "--db", str(tmp_path / "nothing.db"), "--to", str(tmp_path / "c")])
    assert missing.exit_code == 1 and not (tmp_path / "c").exists()
