"""``parvis doctor``: the checks a system administrator runs after installing, upgrading or when something looks
wrong. Each check gives findings: a status (``ok``, ``warning``, ``problem``, or ``unknown`` when it could not be
checked, e.g. the clock while offline), a code and its parameters. The command (console/commands/doctor.py)
prints each one in French with what to do; any ``problem`` makes it exit non-zero.

Never prints or returns a secret value: only key names, paths, modes, ages and the connectors' own health
details (which name the account, never the token). Never writes to the database and never migrates it.
"""

from __future__ import annotations

import shutil
import stat
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from connectors import registry
from connectors.base import Connector
from core import audit, repo, snapshot
from core.clock import from_iso
from core.config import PREFIX, Settings
from core.db import open_db, schema_version
from core.errors import ParvisError
from core.settings_schema import is_known
from services.operations import backups, health

OK, WARNING, PROBLEM, UNKNOWN = "ok", "warning", "problem", "unknown"
CLOCK_TOLERANCE_S = 30.0  # a post at 9:00 that leaves at 9:00:30 is still on time; more is a wrong clock
BACKUP_SLACK_H = 2.0  # the daily backup is due-checked hourly: allow that much past the interval
DISK_WARNING_BYTES = 1024**3  # below 1 GiB free (or twice the database: a backup is a full copy), warn
DEFAULT_ENV_FILE = Path("/etc/parvis/parvis.env")
# Where the clock can be compared when the city's connectors do not name a server (their APIs' hosts).
PLATFORM_HOSTS = {"x": "https://api.x.com", "facebook": "https://graph.facebook.com",
                  "instagram": "https://graph.facebook.com"}


@dataclass(frozen=True)
class Finding:
    """One result: which check, its status, a code (the French sentence in the command) and its parameters."""

    check: str
    status: str
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Environment:
    """What the checks look at besides the settings (injected by the tests)."""

    env: Mapping[str, str]
    cwd: Path
    env_file: Path | None = None
    time_servers: Sequence[str] = ()
    disk_usage: Callable[[Path], Any] = shutil.disk_usage
    fetch_date: Callable[[str], datetime] | None = None
    build_connectors: Callable[[Settings], list[Connector]] = registry.build_enabled


def run(settings: Settings, where: Environment, *, now: datetime) -> list[Finding]:
    """Every check, in the order they are printed."""
    findings: list[Finding] = []
    findings += check_config(settings, where)
    findings += check_permissions(settings, where)
    findings += check_disk(settings, where)
    findings += check_database(settings, now=now)
    findings += check_clock(settings, where, now=now)
    findings += check_connectors(settings, where)
    findings += check_worker(settings, now=now)
    findings += check_backup(settings, now=now)
    return findings


def has_problem(findings: Iterable[Finding]) -> bool:
    return any(f.status == PROBLEM for f in findings)


# ---- configuration ----------------------------------------------------------------------------------------

def check_config(settings: Settings, where: Environment) -> list[Finding]:
    """Unknown PARVIS_ keys (environment, config files), and connectors configured halfway (a secret missing)."""
    out: list[Finding] = []
    unknown = sorted({k for k in where.env if k.startswith(PREFIX) and not is_known(k)} | set(settings.unknown_keys))
    if unknown:
        out.append(Finding("config", PROBLEM, "unknown_keys", {"keys": ", ".join(unknown)}))
    entries = registry.entries(settings)
    for entry in entries:
        if entry.name == "demo" or not entry.missing or len(entry.missing) == len(entry.required):
            continue  # not configured at all is a choice; halfway is a mistake
        out.append(Finding("config", PROBLEM, "connector_incomplete",
                           {"connector": entry.name, "keys": ", ".join(entry.missing)}))
    enabled = [e.name for e in entries if e.enabled]
    if "demo" in enabled and len(enabled) > 1:
        out.append(Finding("config", WARNING, "demo_in_service", {}))
    if not out:
        out.append(Finding("config", OK, "config_ok", {"connectors": ", ".join(enabled) or "aucun"}))
    return out


# ---- permissions ------------------------------------------------------------------------------------------

def _mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None


def secret_files(settings: Settings, where: Environment) -> list[Path]:
    """The files that may hold secrets: the env file of the services, ``.streamlit/secrets.toml``, the config."""
    files = []
    if where.env_file is not None:
        files.append(where.env_file)
    files.append(where.cwd / ".streamlit" / "secrets.toml")
    config = where.env.get(f"{PREFIX}CONFIG")
    files.append(Path(config) if config else where.cwd / "parvis.toml")
    return [f for f in dict.fromkeys(files) if f.is_file()]


def check_permissions(settings: Settings, where: Environment) -> list[Finding]:
    """The data directory and the database readable by their owner only; secrets never readable by others."""
    out: list[Finding] = []
    data = settings.data_dir
    mode = _mode(data)
    if mode is None:
        out.append(Finding("permissions", PROBLEM, "data_dir_missing", {"path": str(data)}))
    elif mode & 0o077:
        out.append(Finding("permissions", PROBLEM, "data_dir_open", {"path": str(data), "mode": f"{mode:o}"}))
    db = settings.db_path
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        mode = _mode(path)
        if mode is not None and mode & 0o077:
            out.append(Finding("permissions", PROBLEM, "database_open", {"path": str(path), "mode": f"{mode:o}"}))
    for path in secret_files(settings, where):
        mode = _mode(path)
        if mode is None:
            continue
        if mode & 0o007:
            out.append(Finding("permissions", PROBLEM, "secrets_world_readable",
                               {"path": str(path), "mode": f"{mode:o}"}))
        elif where.env_file is not None and path == where.env_file and mode & 0o077:
            out.append(Finding("permissions", WARNING, "env_file_group", {"path": str(path), "mode": f"{mode:o}"}))
    if not out:
        out.append(Finding("permissions", OK, "permissions_ok", {"path": str(data)}))
    return out


# ---- disk -------------------------------------------------------------------------------------------------

def check_disk(settings: Settings, where: Environment) -> list[Finding]:
    """Free space where the database lives (a backup needs as much again)."""
    folder = settings.db_path.parent if settings.db_path.parent.exists() else settings.data_dir
    try:
        free = int(where.disk_usage(folder).free)
    except OSError as err:
        return [Finding("disk", UNKNOWN, "disk_unknown", {"path": str(folder), "error": type(err).__name__})]
    db_size = sum(p.stat().st_size for p in (settings.db_path, settings.db_path.with_name(settings.db_path.name
                                                                                         + "-wal")) if p.exists())
    minimum = settings.operations.ready_min_free_mb * 1_000_000
    params = {"path": str(folder), "free_mb": round(free / 1e6), "minimum_mb": round(minimum / 1e6),
              "database_mb": round(db_size / 1e6)}
    if free < minimum:
        return [Finding("disk", PROBLEM, "disk_full", params)]
    if free < max(DISK_WARNING_BYTES, 2 * db_size):
        return [Finding("disk", WARNING, "disk_low", params)]
    return [Finding("disk", OK, "disk_ok", params)]


# ---- database, worker, backups ----------------------------------------------------------------------------

def check_database(settings: Settings, *, now: datetime) -> list[Finding]:
    """The readiness checks of the database and its schema (services/operations/health.py)."""
    path = settings.db_path
    if not path.is_file():
        return [Finding("database", PROBLEM, "database_missing", {"path": str(path)})]
    out = []
    for check in health.readiness(settings, now=now).checks:
        if check.name == "database":
            out.append(Finding("database", OK if check.ok else PROBLEM,
                               "database_ok" if check.ok else "database_problem",
                               {"path": str(path), "detail": check.detail}))
        elif check.name == "schema":
            found = _read_db(settings, lambda db: snapshot.user_version(db.conn))
            out.append(Finding("database", OK if check.ok else PROBLEM, "schema_ok" if check.ok else "schema_old",
                               {"found": found, "expected": schema_version()}))
    return out


def _read_db(settings: Settings, read: Callable[[Any], Any]) -> Any:
    if not settings.db_path.is_file():
        return None
    db = open_db(settings.db_path, migrate=False)
    try:
        return read(db)
    finally:
        db.close()


def check_worker(settings: Settings, *, now: datetime) -> list[Finding]:
    """The worker's heartbeat (the same limit as /readyz)."""
    try:
        beat = _read_db(settings, repo.last_beat)
    except ParvisError:
        beat = None
    limit = health.max_beat_age_s(settings)
    if beat is None:
        return [Finding("worker", PROBLEM, "worker_never", {})]
    age = max(0.0, (now - beat).total_seconds())
    params = {"age": _duration(age), "limit": _duration(limit)}
    return [Finding("worker", OK if age <= limit else PROBLEM, "worker_ok" if age <= limit else "worker_stale",
                    params)]


def check_backup(settings: Settings, *, now: datetime) -> list[Finding]:
    """The newest backup's age against the daily backup's interval."""
    folder = backups.backup_dir(settings)
    age = backups.backup_age_s(folder, now)
    interval_h = settings.operations.backup_interval_h
    params: dict[str, Any] = {"folder": str(folder), "interval": f"{interval_h:g} h"}
    if interval_h <= 0:
        return [Finding("backup", WARNING if age is not None else PROBLEM, "backup_disabled", params)]
    if age is None:
        return [Finding("backup", PROBLEM, "backup_none", params)]
    params["age"] = _duration(age)
    if age > (interval_h + BACKUP_SLACK_H) * 3600:
        return [Finding("backup", PROBLEM, "backup_old", params)]
    return [Finding("backup", OK, "backup_ok", params)]


# ---- clock --------------------------------------------------------------------------------------------------

def time_servers(settings: Settings, where: Environment) -> list[str]:
    """Servers whose HTTP ``Date`` the clock is compared with: those given, else the enabled connectors'."""
    if where.time_servers:
        return list(where.time_servers)
    out = []
    for entry in registry.entries(settings):
        if not entry.enabled:
            continue
        if entry.name == "mastodon" and settings.mastodon.base_url:
            out.append(settings.mastodon.base_url)
        elif entry.name == "bluesky" and settings.bluesky.base_url:
            out.append(settings.bluesky.base_url)
        elif entry.name in PLATFORM_HOSTS:
            out.append(PLATFORM_HOSTS[entry.name])
    return list(dict.fromkeys(out))


def http_date(url: str, timeout: float = 4.0) -> datetime:
    """The ``Date`` header of ``url``'s answer (any status); OSError/ValueError when none could be read."""
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "parvis-doctor"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (http/https only)
            value = answer.headers.get("Date")
    except urllib.error.HTTPError as err:  # a 401/404 still carries the server's time
        value = err.headers.get("Date")
    if not value:
        raise ValueError(f"no Date header from {url}")
    return parsedate_to_datetime(value)


def check_clock(settings: Settings, where: Environment, *, now: datetime) -> list[Finding]:
    """This machine's clock against a server's (when one answers) and against the last recorded event."""
    out: list[Finding] = []
    fetch = where.fetch_date or http_date
    servers = time_servers(settings, where)
    compared = False
    for url in servers:
        if not url.startswith(("http://", "https://")):
            continue
        try:
            theirs = fetch(url)
        except (OSError, ValueError):
            continue  # offline, or that server is down: try the next one
        skew = (now - theirs).total_seconds()
        compared = True
        params = {"server": url.split("://", 1)[-1].split("/", 1)[0], "skew": _duration(abs(skew))}
        if abs(skew) <= CLOCK_TOLERANCE_S:
            out.append(Finding("clock", OK, "clock_ok", params))
        else:
            out.append(Finding("clock", PROBLEM, "clock_ahead" if skew > 0 else "clock_behind", params))
        break
    if not compared:
        out.append(Finding("clock", UNKNOWN, "clock_unchecked" if servers else "clock_no_server",
                           {"servers": ", ".join(s.split("://", 1)[-1].split("/", 1)[0] for s in servers)}))
    try:
        head = _read_db(settings, audit.chain_head)
    except ParvisError:
        head = None
    last = from_iso(head["at"]) if head else None
    if last is not None and (last - now).total_seconds() > CLOCK_TOLERANCE_S:
        ahead = _duration((last - now).total_seconds())
        out.append(Finding("clock", PROBLEM, "clock_behind_database",
                           {"last": last.isoformat(timespec="seconds"), "skew": ahead}))
    return out


# ---- connectors ---------------------------------------------------------------------------------------------

def check_connectors(settings: Settings, where: Environment) -> list[Finding]:
    """Each enabled connector's credentials, through its ``health()`` (one harmless authenticated read)."""
    try:
        connectors = where.build_connectors(settings)
    except ParvisError as err:
        return [Finding("connector", PROBLEM, "connector_build_failed", {"error": type(err).__name__,
                                                                          "reason": err.reason or ""})]
    out = []
    for connector in connectors:
        try:
            h = connector.health()
        except Exception as err:  # health() promises not to raise; a broken one is reported, not fatal
            out.append(Finding("connector", PROBLEM, "connector_failed",
                               {"connector": connector.name, "detail": type(err).__name__}))
            continue
        params = {"connector": connector.name, "account": h.account or "", "detail": h.detail or ""}
        out.append(Finding("connector", OK if h.ok else PROBLEM, "connector_ok" if h.ok else "connector_failed",
                           params))
    if not out:
        out.append(Finding("connector", WARNING, "connector_none", {}))
    return out


def _duration(seconds: float) -> str:
    """``42 s``, ``12 min``, ``5 h``, ``3 j`` (French abbreviations)."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 3570:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} j"
