"""Liveness and readiness of a running Parvis (``/healthz``, ``/readyz``).

Ready means: the database opens with read-write permissions on it and its folder (a read-only file system
counts as not writable), a write transaction can start (nothing is written; another write in progress, such as
a bulk import, still counts as writable) and its disk has at least ``PARVIS_READY_MIN_FREE_MB`` (default 100)
free; its schema is the one this Parvis knows (no pending migration); and the worker's heartbeat is younger than
``PARVIS_READY_MAX_MISSED_BEATS`` (default 6) heartbeat intervals. A failing check carries its reason.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from core import repo, snapshot
from core.config import Settings
from core.db import open_db, probe_writable, schema_version
from core.errors import DatabaseBusy, ParvisError

HEARTBEAT_INTERVAL_S = 5  # console.worker.HEARTBEAT_S (a test keeps them equal)


@dataclass(frozen=True, slots=True)
class Check:
    """One readiness check: its name, whether it passed, and what was found."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Readiness:
    """All checks; ready when every one passed."""

    checks: list[Check]

    @property
    def ok(self) -> bool:
        """Every check passed."""
        return all(c.ok for c in self.checks)

    @property
    def reason(self) -> str:
        """The failed checks' details, joined (empty when ready)."""
        return "; ".join(f"{c.name}: {c.detail}" for c in self.checks if not c.ok)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form: status, reason, and each check."""
        return {"status": "ready" if self.ok else "not ready", "reason": self.reason,
                "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in self.checks}}


def max_beat_age_s(settings: Settings) -> float:
    """The oldest heartbeat still counted as a running worker."""
    return HEARTBEAT_INTERVAL_S * max(1, settings.operations.ready_max_missed_beats)


def _writable(db: Database, path: Path, settings: Settings) -> Check:
    try:
        probe_writable(db)
        detail = "writable"
    except DatabaseBusy:
        detail = "writable (another write in progress)"
    except ParvisError as err:
        return Check("database", False, str(err))
    free_mb = shutil.disk_usage(path.parent).free / 1e6
    minimum = settings.operations.ready_min_free_mb
    if free_mb < minimum:
        return Check("database", False, f"only {free_mb:.0f} MB free on the disk of {path.parent} "
                                        f"(less than {minimum} MB): free some space")
    return Check("database", True, detail)


def readiness(settings: Settings, *, now: datetime) -> Readiness:
    """Check the database and the worker (never migrates, never writes)."""
    path = Path(settings.db_path)
    if not path.is_file():
        return Readiness([Check("database", False, f"no database at {path} (run `init` or `demo`)")])
    try:
        db = open_db(path, migrate=False)
    except ParvisError as err:
        return Readiness([Check("database", False, str(err))])
    checks = []
    try:
        checks.append(_writable(db, path, settings))
        found = snapshot.user_version(db.conn)
        checks.append(Check("schema", found == schema_version(),
                            f"schema {found}" + ("" if found == schema_version() else
                                                 f", this Parvis needs {schema_version()}: run `migrate`")))
        beat = repo.last_beat(db)
        limit = max_beat_age_s(settings)
        if beat is None:
            checks.append(Check("worker", False, "no heartbeat ever: start the worker"))
        else:
            age = max(0.0, (now - beat).total_seconds())
            checks.append(Check("worker", age <= limit, f"heartbeat {age:.0f} s old"
                                + ("" if age <= limit else f" (more than {limit:.0f} s): is the worker running?")))
    finally:
        db.close()
    return Readiness(checks)
