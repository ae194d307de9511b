"""Backups that restore: take one while Parvis runs, check it, rotate them, restore one.

A backup is ``parvis-<UTC time>.db`` (a standalone SQLite file, 0600) and ``parvis-<UTC time>.manifest.json``
beside it: its SHA-256, size, schema version, row counts per table and audit-chain head, all read from the
snapshot copied (core/snapshot.py). A backup is kept only if the copy passes ``PRAGMA integrity_check``, the
audit hash chain verifies on the copy (and its append-only triggers and archive seals are there), and its
counts and head are those of the snapshot. A restore checks the file again (SHA-256 against the manifest,
then the same checks) before it replaces anything, refuses a database in use unless forced, and keeps the
file it replaces (``parvis.db.replaced-<time>``).

Rotation keeps, like ``borg prune``, the newest backup of each of the last 7 days, 4 ISO weeks and 12 months
(Paris time; ``PARVIS_BACKUP_KEEP_DAILY/WEEKLY/MONTHLY``); it only deletes ``parvis-<time>.db`` files
(pre-migration copies and other files in the folder are never touched). Documented in docs/operations.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from core import audit, repo, snapshot
from core.clock import PARIS, to_iso
from core.config import Settings
from core.db import backup_dir_for, open_db, schema_version
from core.errors import BackupError, DatabaseInUse, ParvisError, StorageError
from core.files import private_dir
from core.version import __version__
from services.archive.published import verify_archive
from services.connections.status import WORKER_STALE_S

MANIFEST_SUFFIX = ".manifest.json"
_NAME = re.compile(r"^parvis-(\d{8}T\d{6}Z)(?:-(\d+))?\.db$")
_STAMP = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How many daily, weekly and monthly backups rotation keeps."""

    daily: int = 7
    weekly: int = 4
    monthly: int = 12

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        """``PARVIS_BACKUP_KEEP_DAILY`` / ``_WEEKLY`` / ``_MONTHLY`` (defaults 7, 4, 12)."""
        ops = settings.operations
        return cls(daily=max(0, ops.backup_keep_daily), weekly=max(0, ops.backup_keep_weekly),
                   monthly=max(0, ops.backup_keep_monthly))


@dataclass(frozen=True, slots=True)
class Verification:
    """The checks of one backup file: ``ok`` when ``problems`` is empty."""

    path: Path
    problems: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    audit_head_id: int | None = None
    audit_head_hash: str | None = None
    audit_rows: int = 0
    schema_version: int = 0
    manifest: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return not self.problems


@dataclass(frozen=True, slots=True)
class Backup:
    """A backup taken: the database file, its manifest file and the manifest's content."""

    path: Path
    manifest_path: Path
    manifest: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Restored:
    """A restore done: where the database now is, and where the file it replaced was kept (None: no file)."""

    db_path: Path
    replaced: Path | None
    verification: Verification


def backup_dir(settings: Settings) -> Path:
    """``PARVIS_BACKUP_DIR``, else ``backups/`` beside the database."""
    return settings.operations.backup_dir or backup_dir_for(settings.db_path)


def manifest_path_for(path: Path) -> Path:
    """``parvis-X.db`` -> ``parvis-X.manifest.json``."""
    return path.with_name(path.name.removesuffix(".db") + MANIFEST_SUFFIX)


def sha256_file(path: Path) -> str:
    """SHA-256 hex of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest beside backup ``path``, or None when there is none."""
    mpath = manifest_path_for(path)
    if not mpath.is_file():
        return None
    try:
        data = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise BackupError(f"the manifest {mpath} cannot be read: {err}", reason="backup_manifest_unreadable",
                          path=mpath, error=err) from err
    if not isinstance(data, dict):
        raise BackupError(f"the manifest {mpath} is not a JSON object", reason="backup_manifest_not_object",
                          path=mpath)
    return data


def verify_backup(path: Path, *, expected: snapshot.CopyReport | None = None) -> Verification:
    """Check a backup file: SHA-256 (against its manifest), integrity, schema, audit chain, guards, archive
    seals, and counts and head (against the manifest, or ``expected`` right after the copy)."""
    problems: list[str] = []
    if not path.is_file():
        return Verification(path, [f"{path} does not exist"])
    manifest = read_manifest(path)
    if manifest is not None and manifest.get("sha256") != sha256_file(path):
        problems.append("SHA-256 differs from the manifest (file altered or truncated)")
    try:
        with snapshot.open_copy(path) as conn:
            problems += [f"integrity_check: {p}" for p in snapshot.integrity_problems(conn)]
            version = snapshot.user_version(conn)
            if version > schema_version():
                problems.append(f"written by a newer Parvis (schema {version}, this version knows {schema_version()})")
            counts = snapshot.table_counts(conn)
            db = Database(conn)
            chain = audit.verify_chain(db) if "audit_log" in counts else None
            if chain is not None and not chain.ok:
                problems.append(f"audit chain broken at row {chain.broken_id}: {chain.reason}")
            if chain is not None:
                problems += [f"append-only trigger missing: {g}" for g in audit.missing_guards(db)]
            if "archive_messages" in counts and chain is not None and chain.ok:
                problems += [f"archive: {p}" for p in verify_archive(db).problems]
    except Exception as err:  # noqa: BLE001 - any failure to read the copy is a failed check, reported as such
        return Verification(path, [*problems, f"cannot be read as a database: {err}"], manifest=manifest)
    head_id = chain.head_id if chain is not None else None
    head_hash = chain.head_hash if chain is not None and chain.checked else None
    want: dict[str, Any] | None = None
    if expected is not None:
        want = {"counts": expected.counts, "audit_head": {"id": expected.audit_head_id,
                                                          "hash": expected.audit_head_hash}}
    elif manifest is not None:
        want = manifest
    if want is not None:
        if want.get("counts") != counts:
            diff = sorted(k for k in set(counts) | set(want.get("counts") or {})
                          if counts.get(k) != (want.get("counts") or {}).get(k))
            problems.append(f"row counts differ from the manifest: {', '.join(diff)}")
        head = want.get("audit_head") or {}
        if (head.get("id"), head.get("hash")) != (head_id, head_hash):
            problems.append(f"audit head differs from the manifest (#{head.get('id')} expected, #{head_id} found)")
    return Verification(path, problems, counts=counts, audit_head_id=head_id, audit_head_hash=head_hash,
                        audit_rows=chain.checked if chain is not None else 0, schema_version=version,
                        manifest=manifest)


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".partial")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    snapshot.create_private(tmp)
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _free_name(folder: Path, now: datetime) -> Path:
    base = f"parvis-{now.astimezone(UTC).strftime(_STAMP)}"
    path, n = folder / f"{base}.db", 1
    while path.exists() or manifest_path_for(path).exists():
        n += 1
        path = folder / f"{base}-{n}.db"
    return path


def take_backup(db_path: Path, folder: Path, *, now: datetime) -> Backup:
    """Copy the live database at ``db_path`` into ``folder``, check the copy, write its manifest.

    :raises BackupError: no database, the copy failed, or it failed a check (the copy is removed).
    """
    if not db_path.is_file():
        raise BackupError(f"no database at {db_path}: check --db or PARVIS_DB", reason="backup_no_database",
                          path=db_path)
    try:
        private_dir(folder)
    except OSError as err:
        raise BackupError(f"the backup folder {folder} cannot be created: {err}", reason="backup_folder_unusable",
                          folder=folder, error=err) from err
    target = _free_name(folder, now)
    partial = target.with_name(target.name + ".partial")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    try:
        copied = snapshot.copy_database(db_path, partial)
    except Exception as err:
        raise BackupError(f"the copy of {db_path} into {folder} failed: {err}", reason="backup_copy_failed",
                          path=db_path, folder=folder, error=err) from err
    check = verify_backup(partial, expected=copied)
    if not check.ok:
        partial.unlink()
        problems = "; ".join(check.problems)
        raise BackupError(f"the copy of {db_path} failed its checks, nothing kept: {problems}",
                          reason="backup_copy_rejected", path=db_path, problems=problems)
    os.replace(partial, target)
    manifest = {
        "file": target.name,
        "sha256": sha256_file(target),
        "size_bytes": target.stat().st_size,
        "created_at": to_iso(now),
        "source": str(db_path),
        "parvis_version": __version__,
        "schema_version": copied.schema_version,
        "counts": copied.counts,
        "audit_head": {"id": copied.audit_head_id, "hash": copied.audit_head_hash},
        "checks": {"integrity_check": "ok", "audit_chain": "ok", "audit_rows": check.audit_rows},
    }
    mpath = manifest_path_for(target)
    _write_private(mpath, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return Backup(path=target, manifest_path=mpath, manifest=manifest)


def list_backups(folder: Path) -> list[tuple[datetime, Path]]:
    """The ``parvis-<time>.db`` backups of ``folder``, newest first."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = _NAME.match(path.name)
        if match and path.is_file():
            when = datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)
            found.append((when, int(match.group(2) or 1), path))
    return [(when, path) for when, _, path in sorted(found, key=lambda t: (t[0], t[1]), reverse=True)]


def latest_backup_at(folder: Path) -> datetime | None:
    """When the newest backup of ``folder`` was taken, or None."""
    backups = list_backups(folder)
    return backups[0][0] if backups else None


def to_keep(backups: list[tuple[datetime, Path]], policy: RetentionPolicy) -> set[Path]:
    """The backups (newest first) that ``policy`` keeps: the newest of each of the last N days/weeks/months."""
    keep: set[Path] = set()
    buckets: dict[str, list[Any]] = {"daily": [], "weekly": [], "monthly": []}
    limits = {"daily": policy.daily, "weekly": policy.weekly, "monthly": policy.monthly}
    for when, path in backups:
        local = when.astimezone(PARIS)
        keys = {"daily": local.date(), "weekly": tuple(local.isocalendar())[:2], "monthly": (local.year, local.month)}
        for kind, key in keys.items():
            seen = buckets[kind]
            if key not in seen and len(seen) < limits[kind]:
                seen.append(key)
                keep.add(path)
    return keep


def rotate(folder: Path, policy: RetentionPolicy) -> list[Path]:
    """Delete the backups ``policy`` does not keep (and their manifests); returns the files deleted."""
    backups = list_backups(folder)
    keep = to_keep(backups, policy)
    removed = []
    for _, path in backups:
        if path in keep:
            continue
        for victim in (path, manifest_path_for(path)):
            with contextlib.suppress(FileNotFoundError):
                victim.unlink()
                removed.append(victim)
    return removed


def _worker_running(db_path: Path, now: datetime) -> bool:
    try:
        db = open_db(db_path, migrate=False)
    except ParvisError:
        return False
    try:
        beat = repo.last_beat(db)
    except Exception:  # noqa: BLE001 - an old or damaged database has no readable heartbeat: not running
        return False
    finally:
        db.close()
    return beat is not None and (now - beat) <= timedelta(seconds=WORKER_STALE_S)


def restore(backup: Path, db_path: Path, *, now: datetime, force: bool = False) -> Restored:
    """Replace the database at ``db_path`` with the backup file ``backup`` after checking it.

    :raises BackupError: the backup fails a check (nothing was changed).
    :raises DatabaseInUse: the worker is running, or another process has the database open (without
        ``force``); nothing was changed.
    """
    check = verify_backup(backup)
    if not check.ok:
        problems = "; ".join(check.problems)
        raise BackupError(f"{backup} failed its checks, nothing was changed: {problems}", reason="backup_rejected",
                          path=backup, problems=problems)
    private_dir(db_path.parent)
    replaced = None
    stamp = now.astimezone(UTC).strftime(_STAMP)
    if db_path.exists():
        if not force and _worker_running(db_path, now):
            raise DatabaseInUse(f"the worker is running on {db_path} (heartbeat less than {WORKER_STALE_S} s "
                                "old): stop the worker and the console first, or use --force",
                                reason="restore_worker_running", path=db_path, seconds=WORKER_STALE_S)
        try:
            detached = snapshot.checkpoint_and_detach(db_path)
        except Exception:  # noqa: BLE001 - a damaged current file is exactly what one restores over
            detached = False
        if not detached and not force:
            raise DatabaseInUse(f"another process has {db_path} open: stop the worker and the console first, "
                                "or use --force", reason="restore_database_open", path=db_path)
        replaced = db_path.with_name(f"{db_path.name}.replaced-{stamp}")
        os.replace(db_path, replaced)
        for suffix in ("-wal", "-shm"):  # left only when the file could not be detached (forced)
            side = db_path.with_name(db_path.name + suffix)
            if side.exists():
                os.replace(side, replaced.with_name(replaced.name + suffix))
    partial = db_path.with_name(f"{db_path.name}.restoring")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    try:
        snapshot.create_private(partial)
        with backup.open("rb") as src, partial.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(partial, db_path)
    except OSError as err:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        if replaced is not None and not db_path.exists():
            os.replace(replaced, db_path)
        raise StorageError(f"the restore into {db_path} failed ({err}); the previous file is back",
                           reason="restore_failed", path=db_path, error=err) from err
    return Restored(db_path=db_path, replaced=replaced, verification=check)


def backup_age_s(folder: Path, now: datetime) -> float | None:
    """Seconds since the newest backup of ``folder`` was taken, or None when there is none."""
    when = latest_backup_at(folder)
    return None if when is None else max(0.0, (now - when).total_seconds())
