"""The numbers behind ``/metrics``: one consistent read of the database per scrape, as plain values.

Rendering them in the Prometheus text format is the web layer's job (console/web/metrics.py); the series are
listed in docs/operations.md. Everything here is a count, an age or an identifier: never a resident's text,
never a secret (a connector's last error is reduced to its error code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlite_utils import Database

from connectors import registry
from core import audit, repo, snapshot
from core.config import Settings
from core.db import schema_version
from core.repo import ops_stats
from core.version import __version__
from services.connections import status as connection_status
from services.operations import backups

# Priority is 0-100 (moderation/priority.py): bands for counting the open items by urgency.
PRIORITY_BANDS: tuple[tuple[str, float], ...] = (("urgent", 75.0), ("high", 50.0), ("medium", 25.0), ("low", 0.0))
LATENESS_WINDOW = timedelta(hours=1)
_ERROR_CODE = re.compile(r"^([a-z][a-z0-9_]*):")


@dataclass(frozen=True, slots=True)
class QueueStat:
    """One outbox queue: ``kind`` (post, reply, moderation), ``state``, how many, and how long the oldest has waited."""

    kind: str
    state: str
    size: int
    oldest_age_s: float


@dataclass(frozen=True, slots=True)
class ConnectorStat:
    """One connector: whether enabled, its last status, mentions ingested, sync lag, last error code."""

    name: str
    enabled: bool
    status: str
    ingested_total: int
    last_sync_age_s: float | None
    error_code: str | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every value ``/metrics`` exposes, read at ``at``."""

    at: datetime
    version: str
    schema_version: int
    connectors: list[ConnectorStat]
    mentions_per_platform: dict[str, int]
    open_by_band: dict[str, int]
    queues: list[QueueStat]
    lateness_s: dict[str, float | None]
    worker_beat_age_s: float | None
    audit_head_id: int
    backup_age_s: float | None
    database_bytes: int
    extra: dict[str, float] = field(default_factory=dict)


def _error_code(status: str, last_error: str | None) -> str | None:
    if status in ("ok", "never"):
        return None
    match = _ERROR_CODE.match(last_error or "")
    return match.group(1) if match else status


def _age(now: datetime, since: datetime | None) -> float:
    return 0.0 if since is None else max(0.0, (now - since).total_seconds())


def outbox_queues(db: Database, now: datetime) -> list[QueueStat]:
    """Sizes and oldest ages of the outbox queues by kind (the OutboxKind names: ``post``, ``reply``,
    ``moderation``) and state.

    The one place that knows where the outbox lives: point it at the outbox engine when there is one.
    """
    out = [QueueStat("post", state, size, _age(now, since)) for state, size, since in ops_stats.post_queue(db)]
    out += [QueueStat("reply", state, size, _age(now, since)) for state, size, since in ops_stats.reply_queue(db)]
    out += [QueueStat("moderation", state, size, _age(now, since)) for state, size, since in ops_stats.act_queue(db)]
    return sorted(out, key=lambda q: (q.kind, q.state))


def connector_stats(db: Database, settings: Settings, now: datetime) -> list[ConnectorStat]:
    """Every connector that is enabled or has ever synced."""
    out = []
    for c in connection_status.overview(db, settings, now=now).connectors:
        if not c.entry.enabled and c.health.status == "never":
            continue
        out.append(ConnectorStat(name=c.entry.name, enabled=c.entry.enabled, status=c.health.status,
                                 ingested_total=c.health.fetched_total, last_sync_age_s=c.last_sync_age_s,
                                 error_code=_error_code(c.health.status, c.health.last_error)))
    return out


def warm_up(settings: Settings) -> None:
    """Import the connectors' modules now (at server start) rather than on the first scrape (seconds)."""
    registry.entries(settings)


def collect(db: Database, settings: Settings, *, now: datetime) -> Snapshot:
    """Read every value of ``/metrics`` from ``db``."""
    beat = repo.last_beat(db)
    head = audit.chain_head(db)
    since = now - LATENESS_WINDOW
    path = Path(settings.db_path)
    size = sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    return Snapshot(
        at=now,
        version=__version__,
        schema_version=snapshot.user_version(db.conn),
        connectors=connector_stats(db, settings, now),
        mentions_per_platform=ops_stats.mentions_per_platform(db),
        open_by_band=ops_stats.open_by_priority(db, PRIORITY_BANDS),
        queues=outbox_queues(db, now),
        lateness_s={"post": ops_stats.worst_post_lateness_s(db, since),
                    "reply": ops_stats.worst_reply_lateness_s(db, since)},
        worker_beat_age_s=None if beat is None else max(0.0, (now - beat).total_seconds()),
        audit_head_id=int(head["id"]) if head else 0,
        backup_age_s=backups.backup_age_s(backups.backup_dir(settings), now),
        database_bytes=size,
        extra={"schema_expected": float(schema_version())},
    )
