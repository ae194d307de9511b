"""Versions of the editorial charter."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core.clock import from_iso, to_iso
from core.errors import NotFoundError


def latest_charter(db: Database) -> dict[str, Any] | None:
    """The charter version in force (highest version), or None if none was ever saved."""
    row = db.execute("SELECT version, name, data, yaml, sha256, comment, created_by, created_at FROM charters "
                     "ORDER BY version DESC LIMIT 1").fetchone()
    return _charter_row(row) if row else None


def get_charter(db: Database, version: int) -> dict[str, Any]:
    """One stored charter version, or NotFoundError."""
    row = db.execute("SELECT version, name, data, yaml, sha256, comment, created_by, created_at FROM charters "
                     "WHERE version = ?", (version,)).fetchone()
    if row is None:
        raise NotFoundError(f"no charter version {version}")
    return _charter_row(row)


def _charter_row(r: Sequence[Any]) -> dict[str, Any]:
    return {"version": r[0], "name": r[1], "data": json.loads(r[2]), "yaml": r[3], "sha256": r[4],
            "comment": r[5], "created_by": r[6], "created_at": from_iso(r[7])}


def list_charters(db: Database, *, limit: int = 100) -> list[dict[str, Any]]:
    """Charter versions, newest first (without their YAML)."""
    return [{"version": r[0], "name": r[1], "sha256": r[2], "comment": r[3], "created_by": r[4],
             "created_at": from_iso(r[5])}
            for r in db.execute("SELECT version, name, sha256, comment, created_by, created_at FROM charters "
                                "ORDER BY version DESC LIMIT ?", (limit,))]


def insert_charter(db: Database, *, name: str, data: dict[str, Any], yaml_text: str, sha256: str, comment: str,
                   created_by: str, now: datetime) -> int:
    """Append a new charter version (previous + 1) and return its number."""
    row = db.execute("SELECT COALESCE(MAX(version), 0) FROM charters").fetchone()
    version = int(row[0]) + 1
    db.execute("INSERT INTO charters (version, name, data, yaml, sha256, comment, created_by, created_at) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               (version, name, json.dumps(data, ensure_ascii=False, sort_keys=True), yaml_text, sha256, comment,
                created_by, to_iso(now)))
    return version
