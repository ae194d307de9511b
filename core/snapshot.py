"""Consistent copies of the database while Parvis runs (SQLite's online backup API), and the checks of a copy.

:func:`copy_database` reads one snapshot of the live database (a read transaction, which in WAL mode never
blocks the worker or the agents' writes), copies it page by page into a new file created 0600, and switches
the copy to a rollback journal so that it is one self-contained file. The counts and the audit-chain head
returned are read inside the same snapshot, so they describe the copy exactly, whatever was written meanwhile.

Used by the backups (services/operations/backups.py) and before a migration (core/db.py).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core import db

FILE_MODE = 0o600


@dataclass(frozen=True, slots=True)
class CopyReport:
    """What :func:`copy_database` copied: row counts per table and the audit-chain head of the snapshot."""

    counts: dict[str, int]
    audit_head_id: int | None
    audit_head_hash: str | None
    schema_version: int


def create_private(path: Path) -> None:
    """Create an empty file readable and writable by its owner only (fails if it exists)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    os.close(fd)


def table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows in every ordinary table (full-text shadow tables and SQLite's own tables left out)."""
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name")]
    shadow = {r[0] for r in conn.execute(
        "SELECT s.name FROM sqlite_master s JOIN sqlite_master v ON v.type = 'table' "
        "AND v.sql LIKE 'CREATE VIRTUAL TABLE%' AND s.name LIKE v.name || '_%'")}
    return {name: int(conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])
            for name in names if name not in shadow}


def _audit_head(conn: sqlite3.Connection) -> tuple[int | None, str | None]:
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'").fetchone()
    if not exists:
        return None, None
    row = conn.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    return (None, None) if row is None else (int(row[0]), str(row[1]))


def user_version(conn: sqlite3.Connection) -> int:
    """The schema version stored in the file (``PRAGMA user_version``)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def copy_database(source: str | Path, dest: Path, *, busy_timeout_s: float = 30.0) -> CopyReport:
    """Copy the database at ``source`` into the new file ``dest`` (0600) from one consistent snapshot.

    :raises FileExistsError: ``dest`` exists (a backup never overwrites a file).
    :raises sqlite3.Error: the source cannot be read; ``dest`` is removed.
    """
    create_private(dest)
    try:
        src = db.connect_file(Path(source), timeout=busy_timeout_s)
        try:
            src.execute("BEGIN")  # one read snapshot for the counts, the head and the pages copied
            counts = table_counts(src)
            head_id, head_hash = _audit_head(src)
            version = user_version(src)
            dst = db.connect_file(dest)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
            finally:
                dst.close()
            src.execute("COMMIT")
        finally:
            src.close()
        with open(dest, "rb+") as fh:
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            dest.unlink()
        raise
    return CopyReport(counts=counts, audit_head_id=head_id, audit_head_hash=head_hash, schema_version=version)


@contextlib.contextmanager
def open_copy(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to a backup file (nothing is written to it, no -wal is created)."""
    conn = db.connect_file(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        yield conn
    finally:
        conn.close()


def integrity_problems(conn: sqlite3.Connection, *, limit: int = 20) -> list[str]:
    """``PRAGMA integrity_check``: an empty list when the file is sound."""
    rows = [str(r[0]) for r in conn.execute(f"PRAGMA integrity_check({int(limit)})")]
    return [] if rows == ["ok"] else rows


def checkpoint_and_detach(path: Path, *, busy_timeout_s: float = 2.0) -> bool:
    """Fold the write-ahead log into ``path`` and switch it to a rollback journal, so that the file alone holds
    the whole database (before it is moved aside). False when another connection has it open (in use).
    """
    conn = db.connect_file(path, timeout=busy_timeout_s)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        return str(mode).lower() == "delete"
    except sqlite3.OperationalError as err:
        if "locked" in str(err) or "busy" in str(err):
            return False
        raise
    finally:
        conn.close()
