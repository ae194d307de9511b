"""Signed checkpoints of the audit chain for the CLI and the worker: where they go, which key signs, which verify.

The mechanism is core/audit/checkpoint.py; this module reads the settings (``PARVIS_AUDIT_*``). By default the
checkpoints go to ``checkpoints/`` beside the database and the key is ``audit-signing.key`` beside it, created
with mode 0600 on first use: the data directory in the default layout. Production moves the folder to a remote
or write-once mount and pins the public key elsewhere (docs/audit.md, "In production").

Who takes checkpoints: the worker every ``PARVIS_AUDIT_CHECKPOINT_INTERVAL_MIN`` minutes (console/jobs/audit.py),
every CLI command whose run moved the head of the chain (console/cli.py), and ``audit checkpoint``.
Taking one never writes to the database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlite_utils import Database

from core import audit
from core.audit import checkpoint
from core.audit.checkpoint import AnchorReport, Checkpoint
from core.config import Settings
from core.db import open_readonly
from core.errors import ConfigError, ParvisError, StorageError

CHECKPOINT_DIR = "checkpoints"
KEY_FILE = "audit-signing.key"


@dataclass(frozen=True, slots=True, kw_only=True)
class Anchor:
    """Where the checkpoints of one database go and which keys sign and verify them."""

    db_path: Path
    folder: Path
    key_path: Path
    public_key_path: Path | None

    @classmethod
    def from_settings(cls, settings: Settings, *, folder: Path | None = None) -> Anchor:
        """The settings' paths (``folder`` overrides ``PARVIS_AUDIT_CHECKPOINT_DIR``)."""
        beside = settings.db_path.parent
        conf = settings.audit
        return cls(db_path=settings.db_path, folder=folder or conf.checkpoint_dir or beside / CHECKPOINT_DIR,
                   key_path=conf.signing_key or beside / KEY_FILE, public_key_path=conf.public_key)

    def signing_key(self) -> Ed25519PrivateKey:
        """The private key (created on first use)."""
        return checkpoint.load_or_create_key(self.key_path)

    def public_pem(self) -> str:
        """The signing key's public half as PEM (the key is created on first use)."""
        return checkpoint.public_pem(self.signing_key().public_key())

    def trusted_keys(self, given: Sequence[Path] = ()) -> list[Ed25519PublicKey]:
        """The keys a verification trusts: the files ``given``, else ``PARVIS_AUDIT_PUBLIC_KEY``, else the signing
        key's public half when that file exists; none otherwise (signatures then cannot be checked)."""
        files = list(given) or ([self.public_key_path] if self.public_key_path else [])
        if files:
            return [key for path in files for key in checkpoint.load_public_keys(path)]
        try:
            return [checkpoint.load_private_key(self.key_path).public_key()] if self.key_path.exists() else []
        except ConfigError:  # e.g. verified by another user than the service's: said as "no public key"
            return []


def _open_for_reading(path: Path) -> Database:
    """The live database, opened without migrating and refusing writes (no stray -wal/-shm once closed)."""
    if not path.is_file() or path.stat().st_size == 0:  # open_db would create (or format) it
        raise StorageError(f"no database at {path}", reason="database_missing", path=str(path))
    return open_readonly(path)  # mode=ro: no pragma written, so a database not yet migrated stays as it is


def current_head(db_path: Path) -> str | None:
    """The hash of the chain's head, or None (no database, no audit log yet, or unreadable: not our concern here)."""
    try:
        db = _open_for_reading(db_path)
    except ParvisError:
        return None
    try:
        head = audit.chain_head(db)
    except sqlite3.Error:
        return None
    finally:
        db.close()
    return None if head is None else str(head["hash"])


def take(settings: Settings, *, now: datetime, only_if_moved: bool = False,
         folder: Path | None = None) -> Checkpoint | None:
    """Take a checkpoint of ``settings.db_path`` (see :func:`core.audit.checkpoint.take`); None when
    ``only_if_moved`` and the head has not moved since the latest checkpoint, or the log is empty."""
    anchor = Anchor.from_settings(settings, folder=folder)
    db = _open_for_reading(anchor.db_path)
    try:
        if only_if_moved and audit.chain_head(db) is None:
            return None  # nothing to sign: do not create a key for nothing
        return checkpoint.take(db, anchor.folder, anchor.signing_key(), now=now, database=str(anchor.db_path),
                               only_if_moved=only_if_moved)
    finally:
        db.close()


def check(db: Database, anchor: Anchor, *, public_keys: Sequence[Path] = ()) -> AnchorReport:
    """Compare ``db`` (opened by the caller, read-only) with the checkpoints of ``anchor.folder``."""
    return checkpoint.check(db, anchor.folder, anchor.trusted_keys(public_keys))
