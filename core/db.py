"""The database connection: opening (path checks, pragmas, migrations), write transactions, statistics.

``open_db`` opens a file in WAL mode with a busy timeout, refuses databases written by a newer Parvis,
reports unreadable or corrupt files clearly, and applies pending migrations (``core/migrations/``); before it
migrates a database that holds data, it copies it to ``<its folder>/backups/pre-migrate-*.db`` and logs where.
The schema (DDL) lives in ``core/migrations/``; reads and writes (DML) in ``core/repo/`` and ``core/audit/``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from core import snapshot
from core.errors import DatabaseBusy, SchemaTooNewError, StorageError
from core.files import create_private, private_dir
from core.migrations import MIGRATIONS, migrations

log = logging.getLogger("parvis.db")

BUSY_TIMEOUT_S = 10.0
WAL_AUTOCHECKPOINT_BYTES = 40_000_000
JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
# 8 KB pages for new databases (SQLite's default is 4 KB): a mention row is ~0.8 KB, and a bulk load of a
# million mentions runs ~12 % faster; small transactions (one audit event each) pay ~25 % for writing bigger
# pages; 16 KB would halve them (docs/decisions/0005-bulk-load.md, BENCHMARKS.md).
PAGE_SIZE = 8_192
# FULL, not NORMAL: in WAL mode NORMAL does not sync the log at each commit, so a committed transaction (a
# publication's claim, an audit event) can roll back after a power cut and a post then goes out twice; FULL syncs
# it. Cost: one fsync per write transaction (BENCHMARKS.md, "Durability"; decision 0095).
SYNCHRONOUS = "FULL"


def schema_version() -> int:
    """The number of migrations this version of Parvis knows (stored as ``PRAGMA user_version``)."""
    return len(MIGRATIONS)


def _check_path(path: Path) -> None:
    directory = path.parent
    if not directory.exists():
        raise StorageError(
            f"the data directory {directory} does not exist: create it (mkdir -p {directory}) "
            f"or run `python -m console init --db {path}`, or point PARVIS_DB elsewhere")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise StorageError(
            f"the data directory {directory} is not writable by this user: fix its permissions "
            "or point PARVIS_DB / PARVIS_DATA_DIR at a writable directory")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise StorageError(f"the database {path} is not readable and writable by this user: fix its permissions")


@dataclass(frozen=True, slots=True)
class MigrationReport:
    """What :func:`apply_migrations` did: the migrations applied and the copy taken before (None: no data)."""

    applied: list[str]
    from_version: int
    to_version: int
    backup: Path | None


def pending_migrations(db: Database) -> list[str]:
    """Names of the migrations this Parvis would apply to ``db``, in order (read-only)."""
    return [m.name for m in migrations.pending(db)]


def _holds_data(db: Database) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                      "LIMIT 1").fetchone() is not None


def backup_dir_for(path: Path) -> Path:
    """The default folder of backups of the database at ``path``: ``backups/`` beside it."""
    return path.parent / "backups"


def _backup_before_migrating(path: Path, found: int, backup_dir: Path | None) -> Path:
    folder = backup_dir or backup_dir_for(path)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / f"pre-migrate-{stamp}-schema{found}-to{schema_version()}.db"
    try:
        private_dir(folder)
        snapshot.copy_database(path, target)
    except (OSError, sqlite3.Error) as err:
        raise StorageError(
            f"the database {path} needs an upgrade (schema {found} -> {schema_version()}), but the backup "
            f"taken first failed ({err}): nothing was changed; free some space or fix {folder}, then retry"
        ) from err
    log.warning("database %s backed up to %s before upgrading its schema from %d to %d", path, target, found,
                schema_version())
    return target


def apply_migrations(db: Database, path: str | Path, *, backup_dir: Path | None = None) -> MigrationReport:
    """Apply the pending migrations to ``db`` (open on ``path``), after a backup when it holds data."""
    found = int(db.execute("PRAGMA user_version").fetchone()[0])
    pending = pending_migrations(db)
    backup = None
    if pending and str(path) != ":memory:" and _holds_data(db):
        backup = _backup_before_migrating(Path(path), found, backup_dir)
    if pending:
        migrations.apply(db)
    db.execute(f"PRAGMA user_version = {schema_version()}")
    return MigrationReport(applied=pending, from_version=found, to_version=schema_version(), backup=backup)


def connect_file(target: str | Path, *, uri: bool = False, timeout: float = BUSY_TIMEOUT_S) -> sqlite3.Connection:
    """A plain ``sqlite3`` connection for file-level work (backup copies, restore checks), with the same
    durability as every Parvis connection (``synchronous``): the one other place a connection is opened."""
    conn = sqlite3.connect(target, uri=uri, timeout=timeout, isolation_level=None)
    conn.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
    return conn


def open_db(path: str | Path, *, migrate: bool = True) -> Database:
    """Open (and migrate) the Parvis database at ``path``; ``":memory:"`` works for tests.

    :raises StorageError: missing/unwritable directory, corrupt file (nothing is overwritten).
    :raises SchemaTooNewError: the file comes from a newer Parvis.
    """
    memory = str(path) == ":memory:"
    fresh = False
    if not memory:
        path = Path(path).expanduser()
        _check_path(path)
        fresh = not path.exists() or path.stat().st_size == 0
        # Residents' data and password hashes: a new database is 0600 (SQLite gives its -wal and -shm the
        # mode of the database file); an existing one keeps its mode (docs/security.md).
        create_private(path)
    try:
        # Autocommit mode: no implicit transaction is ever left open on a long-lived connection; every
        # multi-statement change goes through write_transaction (BEGIN IMMEDIATE).
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, check_same_thread=False, isolation_level=None)
        db = Database(conn)
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        db.execute("PRAGMA foreign_keys = ON")
        # Deleted rows are overwritten with zeros, not left in free space: an erased note or resident's text
        # must not stay readable in the file (docs/security.md, « Data and files »).
        db.execute("PRAGMA secure_delete = ON")
        found = db.execute("PRAGMA user_version").fetchone()[0]
        if found > schema_version():
            conn.close()
            raise SchemaTooNewError(
                f"the database {path} was written by a newer Parvis (schema {found}, this version knows "
                f"{schema_version()}): upgrade Parvis, or point PARVIS_DB at another file; nothing was changed")
        if fresh:  # only a new file takes a page size (an existing one keeps its own)
            db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        if not memory:
            db.enable_wal()
            db.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
            # Checkpoint every ~40 MB of WAL rather than 4 MB: bulk ingest rewrites the same index pages less
            # often and fsyncs less (BENCHMARKS.md); readers are unaffected.
            page = db.execute("PRAGMA page_size").fetchone()[0]
            db.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_BYTES // page}")
            # A bulk load grows the WAL to the size of what it wrote; cut it back when it is next reset.
            db.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT_BYTES}")
        if migrate and found < schema_version():  # up to date: skip sqlite-utils' per-migration checks
            try:
                apply_migrations(db, path)
            except StorageError:
                conn.close()
                raise
    except sqlite3.DatabaseError as err:
        raise StorageError(
            f"the database {path} cannot be used ({err}): it may be corrupt or not a Parvis database. "
            "Nothing was overwritten; restore a backup or point PARVIS_DB at another file") from err
    return db


def flush_erased(db: Database) -> bool:
    """After an erasure: copy the WAL into the database and truncate it, so that the erased text is left in
    neither file (deleted rows are zeroed by ``secure_delete``; the WAL still holds the older page images until
    it is reset). Best effort: False when a reader kept part of the WAL in use (the next checkpoint finishes it).
    """
    if db.conn.in_transaction:
        return False
    busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy


def on_read_only_media(path: Path) -> bool:
    """Whether ``path`` is a copy nobody may write: a read-only mount, or the file or its folder without write
    permission (mode bits too, so that it holds for root, whom permissions do not stop)."""
    directory = path.parent
    if not os.access(path, os.W_OK) or not os.access(directory, os.W_OK):
        return True
    if path.stat().st_mode & 0o222 == 0 or directory.stat().st_mode & 0o222 == 0:
        return True
    return bool(os.statvfs(directory).f_flag & os.ST_RDONLY)


def open_readonly(path: str | Path, *, check_schema: bool = False) -> Database:
    """Open an existing database for reading only (``audit verify``, ``migrate --dry-run``): no migration, no
    pragma that writes, and SQLite refuses every write (``mode=ro``).

    A copy on read-only media (see :func:`on_read_only_media`) without a ``-wal`` file is opened ``immutable=1``:
    SQLite then creates no ``-wal``/``-shm`` file beside it and takes no lock, so the evidence is left exactly as
    it was. A live database is opened ``mode=ro`` and reads what other connections committed.

    :raises StorageError: no such file, or it cannot be read as a database.
    :raises SchemaTooNewError: with ``check_schema``, the file comes from a newer Parvis.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise StorageError(f"no database at {path}", reason="database_missing", path=str(path))
    wal = path.with_name(path.name + "-wal")
    immutable = on_read_only_media(path) and not (wal.exists() and wal.stat().st_size > 0)
    uri = f"{path.resolve().as_uri()}?mode=ro" + ("&immutable=1" if immutable else "")
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, check_same_thread=False, isolation_level=None)
        db = Database(conn)
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        db.execute("PRAGMA query_only = ON")
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # fails now on a file that is no database
        found = db.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as err:
        raise StorageError(f"the database {path} cannot be read ({err})", reason="database_unreadable",
                           path=str(path)) from err
    if check_schema and found > schema_version():
        conn.close()
        raise SchemaTooNewError(
            f"the database {path} was written by a newer Parvis (schema {found}, this version knows "
            f"{schema_version()}): upgrade Parvis, or point PARVIS_DB at another file; nothing was changed")
    return db


def probe_writable(db: Database, *, timeout_s: float = 2.0) -> None:
    """Start and end a write transaction without writing anything: proves the write lock can be taken within
    ``timeout_s`` (the permissions of the file and its folder are checked by :func:`open_db`).

    :raises StorageError: an I/O error.
    :raises DatabaseBusy: another writer kept the lock.
    """
    db.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
    try:
        db.conn.execute("BEGIN IMMEDIATE")
        db.conn.execute("ROLLBACK")
    except sqlite3.OperationalError as err:
        if "locked" in str(err) or "busy" in str(err):
            raise DatabaseBusy(f"another writer has held the database for more than {timeout_s:.0f} s") from err
        raise StorageError(f"the database cannot be written: {err}") from err
    finally:
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")


def optimize(db: Database) -> None:
    """Refresh the query planner's statistics (run after bulk loads and periodically by the worker)."""
    db.execute("ANALYZE")
    db.execute("PRAGMA optimize")


@contextlib.contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """A write transaction taken with ``BEGIN IMMEDIATE`` (nested calls use savepoints).

    Immediate, because the UI and the worker write to the same file: a deferred transaction that read
    the audit chain head and then tries to write would fail with SQLITE_BUSY instead of waiting.
    If ``COMMIT`` itself fails (disk full, I/O error, a deferred constraint), SQLite may keep the transaction
    open: it is rolled back before the error is raised, so that nothing half-written stays pending on the
    connection and its next write starts clean.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    try:
        db.conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as err:
        if "locked" not in str(err) and "busy" not in str(err):
            raise
        raise DatabaseBusy(
            f"another writer held the database for more than {BUSY_TIMEOUT_S:.0f} s (a bulk import?): "
            "nothing was changed, try again") from err
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    try:
        db.conn.execute("COMMIT")
    except BaseException:
        _rollback_after_failed_commit(db)
        raise


def _rollback_after_failed_commit(db: Database) -> None:
    if db.conn.in_transaction:
        # SQLite may have rolled it back itself meanwhile: the COMMIT's error is what matters
        with contextlib.suppress(sqlite3.Error):
            db.conn.execute("ROLLBACK")
