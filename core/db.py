"""The database connection: opening (path checks, pragmas, migrations), write transactions, statistics.

``open_db`` opens a file in WAL mode with a busy timeout, refuses databases written by a newer Parvis,
reports unreadable or corrupt files clearly, and applies pending migrations (``core/migrations/``).
The schema (DDL) lives in ``core/migrations/``; reads and writes (DML) in ``core/repo/`` and ``core/audit/``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlite_utils import Database

from core.errors import DatabaseBusy, SchemaTooNewError, StorageError
from core.migrations import MIGRATIONS, migrations

BUSY_TIMEOUT_S = 10.0
WAL_AUTOCHECKPOINT_BYTES = 40_000_000
JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
# 8 KB pages for new databases (SQLite's default is 4 KB): a mention row is ~0.8 KB, and a bulk load of a
# million mentions runs ~12 % faster; small transactions (one audit event each) pay ~25 % for writing bigger
# pages; 16 KB would halve them (docs/decisions/0005-bulk-load.md, BENCHMARKS.md).
PAGE_SIZE = 8_192


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
    try:
        # Autocommit mode: no implicit transaction is ever left open on a long-lived connection; every
        # multi-statement change goes through write_transaction (BEGIN IMMEDIATE).
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, check_same_thread=False, isolation_level=None)
        db = Database(conn)
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        db.execute("PRAGMA foreign_keys = ON")
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
            db.execute("PRAGMA synchronous = NORMAL")
            # Checkpoint every ~40 MB of WAL rather than 4 MB: bulk ingest rewrites the same index pages less
            # often and fsyncs less (BENCHMARKS.md); readers are unaffected.
            page = db.execute("PRAGMA page_size").fetchone()[0]
            db.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_BYTES // page}")
            # A bulk load grows the WAL to the size of what it wrote; cut it back when it is next reset.
            db.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT_BYTES}")
        if migrate and found < schema_version():  # up to date: skip sqlite-utils' per-migration checks
            migrations.apply(db)
            db.execute(f"PRAGMA user_version = {schema_version()}")
    except sqlite3.DatabaseError as err:
        raise StorageError(
            f"the database {path} cannot be used ({err}): it may be corrupt or not a Parvis database. "
            "Nothing was overwritten; restore a backup or point PARVIS_DB at another file") from err
    return db


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
        try:
            db.conn.execute("ROLLBACK")
        except sqlite3.Error:  # SQLite rolled it back itself meanwhile: the COMMIT's error is what matters
            pass
