"""Ingest: one sync pass of one connector (cursor → fetch → score → upsert → health), and file imports.

A pass never loses work: the cursor only advances after the mentions are stored, in the same transaction.
Expected connector failures (auth, rate limit, outage, malformed payload) are recorded on the connector's
health and returned, not raised, so one connector's trouble never stops the others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlite_utils import Database

from connectors.base import Connector
from core import audit, repo
from core.errors import AuthFailed, ConnectorError, RateLimited
from core.models import Mention
from core.storage import write_transaction

log = logging.getLogger(__name__)

ScoreFn = Callable[[Sequence[Mention], datetime], Sequence[repo.Scores]]


@dataclass(frozen=True, slots=True)
class SyncResult:
    """Counts of one pass; ``error_code`` set when the pass failed (nothing half-stored)."""

    connector: str
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    revised: int = 0
    skipped: int = 0
    status: str = "ok"
    error_code: str = ""
    error: str = ""
    seconds: float = 0.0
    inserted_uids: list[str] = field(default_factory=list)


def store_mentions(db: Database, mentions: Sequence[Mention], *, now: datetime,
                   score: ScoreFn | None = None) -> repo.UpsertResult:
    """Score (if a scorer is given) and upsert ``mentions``; record platform edits in the audit log."""
    scores = list(score(mentions, now)) if score is not None and mentions else None
    result = repo.upsert_mentions(db, mentions, now=now, scores=scores)
    for uid, change, old, new in result.revised:
        audit.record(db, audit.MentionRevised(actor=audit.SYSTEM_WORKER, subject=uid, change=change,
                                              old_text=old, new_text=new), at=now)
    return result


def sync_connector(db: Database, connector: Connector, *, now: datetime | None = None,
                   score: ScoreFn | None = None) -> SyncResult:
    """Run one sync pass of ``connector`` against ``db``; returns counts, never raises ConnectorError."""
    now = now or datetime.now(UTC)
    started = time.perf_counter()
    name = connector.name
    platform = str(connector.info.platform)
    health = repo.connector_health(db, name)
    if health.rate_limited_until and health.rate_limited_until > now:
        return SyncResult(connector=name, status="rate_limited", error_code="rate_limited",
                          error=f"waiting until {health.rate_limited_until.isoformat()}")
    try:
        fetched = connector.fetch(health.cursor)
    except ConnectorError as err:
        status = "reconnect_needed" if isinstance(err, AuthFailed) else (
            "rate_limited" if isinstance(err, RateLimited) else "error")
        until = None
        if isinstance(err, RateLimited) and err.reset_at:
            until = datetime.fromtimestamp(err.reset_at, UTC)
        with write_transaction(db):
            repo.save_connector_state(db, name, platform=platform, status=status, now=now,
                                      last_error=f"{err.code}: {err}", rate_limited_until=until)
            audit.record(db, audit.SyncCompleted(actor=audit.SYSTEM_WORKER, subject=f"connector:{name}",
                                                 connector=name, fetched=0, inserted=0, updated=0,
                                                 error=err.code), at=now)
        log.warning("sync %s failed: %s (%s)", name, err, err.code)
        return SyncResult(connector=name, status=status, error_code=err.code, error=str(err),
                          seconds=time.perf_counter() - started)
    for reason in fetched.skipped:
        log.warning("sync %s: skipped a malformed item: %s", name, reason)
    with write_transaction(db):
        stored = store_mentions(db, fetched.mentions, now=now, score=score)
        for change in fetched.changes:
            try:
                repo.get_item(db, change.uid)
            except Exception:  # noqa: BLE001 - a change on a mention we never stored is ignored
                continue
            repo.record_platform_change(db, change.uid, change.change, now=now, raw=change.raw)
            audit.record(db, audit.MentionRevised(actor=audit.SYSTEM_WORKER, subject=change.uid,
                                                  change=change.change), at=now)
        counts = {"fetched": len(fetched.mentions), "inserted": len(stored.inserted),
                  "updated": len(stored.updated), "revised": len(stored.revised) + len(fetched.changes),
                  "skipped": len(fetched.skipped)}
        repo.save_connector_state(db, name, platform=platform, status="ok", now=now, cursor=fetched.cursor,
                                  fetched=len(fetched.mentions), counts=counts,
                                  last_error=(f"{len(fetched.skipped)} malformed item(s) skipped"
                                              if fetched.skipped else None))
        audit.record(db, audit.SyncCompleted(actor=audit.SYSTEM_WORKER, subject=f"connector:{name}",
                                             connector=name, **counts), at=now)
    seconds = time.perf_counter() - started
    log.info("sync %s: fetched=%d inserted=%d updated=%d revised=%d skipped=%d in %.2fs", name,
             counts["fetched"], counts["inserted"], counts["updated"], counts["revised"], counts["skipped"], seconds)
    return SyncResult(connector=name, seconds=seconds, inserted_uids=list(stored.inserted), **counts)
