"""Ingest: one sync pass of one connector (cursor → fetch → score → upsert → health), and file imports.

A pass never loses work: the cursor only advances after the mentions are stored, in the same transaction.
Expected connector failures (auth, rate limit, outage, malformed payload) are recorded on the connector's
health and returned, not raised, so one connector's trouble never stops the others.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypedDict

from sqlite_utils import Database

from connectors.base import Connector, FetchResult, PlatformChange
from connectors.mastodon.direct import mark_direct
from core import audit, repo
from core.db import write_transaction
from core.errors import AuthFailed, ConnectorError, RateLimited
from core.models import InboxItem, Mention
from core.repo import tokens as tokens_repo

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
                   score: ScoreFn | None = None, into: repo.BulkLoad | None = None) -> repo.UpsertResult:
    """Score (if a scorer is given) and upsert ``mentions`` (as part of the bulk load ``into`` when given);
    record platform edits in the audit log. Mastodon ``direct`` statuses are stored as private messages."""
    mentions = mark_direct(list(mentions))
    scores = list(score(mentions, now)) if score is not None and mentions else None
    if into is not None:
        result = into.add(mentions, now=now, scores=scores)
    else:
        result = repo.upsert_mentions(db, mentions, now=now, scores=scores)
    for uid, change, old, new in result.revised:
        audit.record(db, audit.MentionRevised(actor=audit.SYSTEM_WORKER, subject=uid, change=change,
                                              old_text=old, new_text=new), at=now)
    return result


def sync_connector(db: Database, connector: Connector, *, now: datetime | None = None,
                   score: ScoreFn | None = None, max_rounds: int = 20) -> SyncResult:
    """Run one sync pass of ``connector`` against ``db``; returns counts, never raises ConnectorError.

    A pass fetches again while the connector says it stopped at its page budget (``has_more``), up to
    ``max_rounds`` fetches; each round stores its mentions and advances the cursor in one transaction.
    """
    now = now or datetime.now(UTC)
    started = time.perf_counter()
    name = connector.name
    platform = str(connector.info.platform)
    health = repo.connector_health(db, name)
    if _still_blocked(db, connector, health.status):
        return SyncResult(connector=name, status="reconnect_needed", error_code="reconnect_needed",
                          error="waiting for new credentials or « Réessayer »")
    if health.rate_limited_until and health.rate_limited_until > now:
        return SyncResult(connector=name, status="rate_limited", error_code="rate_limited",
                          error=f"waiting until {health.rate_limited_until.isoformat()}")
    totals = {"fetched": 0, "inserted": 0, "updated": 0, "revised": 0, "skipped": 0, "ignored": 0}
    inserted_uids: list[str] = []
    cursor = health.cursor
    for _ in range(max(1, max_rounds)):
        try:
            fetched = connector.fetch(cursor)
        except ConnectorError as err:
            return _failed(db, connector, err, now=now, started=started, totals=totals)
        for reason in fetched.skipped:
            log.warning("sync %s: skipped a malformed item: %s", name, reason)
        for note in fetched.notes:
            log.warning("sync %s: %s", name, note)
        with write_transaction(db):
            stored = store_mentions(db, fetched.mentions, now=now, score=score)
            applied = _apply_changes(db, fetched.changes, now=now)
            repo.record_rejected(db, name, platform, ((r.item_id, r.reason, r.permalink) for r in fetched.rejected),
                                 now=now)
            _record_own_posts(db, fetched, platform=platform, account=name, now=now)
            _apply_own_changes(db, fetched.own_changes, platform=platform, now=now)
            counts = {"fetched": len(fetched.mentions), "inserted": len(stored.inserted),
                      "updated": len(stored.updated), "revised": len(stored.revised) + applied,
                      "skipped": len(fetched.skipped), "ignored": sum(fetched.ignored.values())}
            for key, value in counts.items():
                totals[key] += value
            problems = [*fetched.notes, *([f"{totals['skipped']} malformed item(s) skipped"]
                                           if totals["skipped"] else [])]
            repo.save_connector_state(db, name, platform=platform, status="ok", now=now, cursor=fetched.cursor,
                                      fetched=len(fetched.mentions), counts=totals,
                                      last_error="; ".join(problems) or None)
            audit.record(db, audit.SyncCompleted(actor=audit.SYSTEM_WORKER, subject=f"connector:{name}",
                                                 connector=name, **_counts(counts)), at=now)
        inserted_uids.extend(stored.inserted)
        cursor = fetched.cursor
        if not getattr(fetched, "has_more", False):
            break
    seconds = time.perf_counter() - started
    log.info("sync %s: fetched=%d inserted=%d updated=%d revised=%d skipped=%d in %.2fs", name,
             totals["fetched"], totals["inserted"], totals["updated"], totals["revised"], totals["skipped"], seconds)
    return SyncResult(connector=name, seconds=seconds, inserted_uids=inserted_uids, **_counts(totals))


_STATE_CHANGES = ("deleted", "hidden", "unhidden")


def _already(item: InboxItem, change: str) -> bool:
    """Whether the stored mention already shows the state ``change`` would record."""
    if change == "deleted":
        return item.deleted_at is not None
    return item.hidden == (change == "hidden")


def _apply_changes(db: Database, changes: Sequence[PlatformChange], *, now: datetime) -> int:
    """Record deletions/hides/edit-history steps seen on the platform for mentions we have; return how many.

    Edit-history steps already stored (by an earlier sync, or as the text change the upsert just noticed) are
    skipped, counting repeats: the same history read twice adds nothing.
    """
    applied = 0
    known: dict[str, Counter[tuple[str | None, str | None]]] = {}
    for change in changes:
        if not repo.mention_exists(db, change.uid):
            continue  # a change on a mention we never stored
        if change.change in _STATE_CHANGES and _already(repo.get_item(db, change.uid), change.change):
            continue  # seen again (e.g. a pass that failed after finding it): the state is already recorded
        if change.change == "edited":
            if change.uid not in known:
                known[change.uid] = Counter(repo.edits_recorded(db, change.uid))
            step = (change.old_text, change.new_text)
            if known[change.uid][step] > 0:
                known[change.uid][step] -= 1
                continue
        repo.record_platform_change(db, change.uid, change.change, now=now, raw=change.raw,
                                    old_text=change.old_text, new_text=change.new_text)
        audit.record(db, audit.MentionRevised(actor=audit.SYSTEM_WORKER, subject=change.uid, change=change.change,
                                              old_text=change.old_text, new_text=change.new_text), at=now)
        applied += 1
    return applied


class _Counts(TypedDict):
    fetched: int
    inserted: int
    updated: int
    revised: int
    skipped: int


def _counts(counts: dict[str, int]) -> _Counts:
    """The five counts of a pass, typed for ``SyncResult(**...)`` and the ``sync-completed`` audit event."""
    return _Counts(fetched=counts["fetched"], inserted=counts["inserted"], updated=counts["updated"],
                   revised=counts["revised"], skipped=counts["skipped"])

def credential_fingerprint(connector: Connector) -> str:
    """The connector's ``credential_fingerprint`` (a hash of its credentials), "" when it has none (demo)."""
    return str(getattr(connector, "credential_fingerprint", "") or "")


def _still_blocked(db: Database, connector: Connector, status: str) -> bool:
    """Whether the platform refused these very credentials (« reconnexion nécessaire »): no call until they change
    or an admin clicks « Réessayer » (decision 0185). New credentials lift the block here."""
    state = tokens_repo.token_state(db, connector.name)
    if not state.blocked:
        return False
    if state.blocked_fingerprint == credential_fingerprint(connector) and status == "reconnect_needed":
        log.debug("sync %s: skipped, the platform refused these credentials", connector.name)
        return True
    with write_transaction(db):
        tokens_repo.unblock_connector(db, connector.name)
    log.info("sync %s: the credentials changed since the platform refused them: trying again", connector.name)
    return False


def _failed(db: Database, connector: Connector, err: ConnectorError, *, now: datetime, started: float,
            totals: dict[str, int]) -> SyncResult:
    """Record a failed fetch on the connector's health (the cursor stays where it was)."""
    name = connector.name
    # A refused session whose password may still work (Bluesky: ``session_only``) is an error, not a reconnect.
    refused = isinstance(err, AuthFailed) and not getattr(err, "session_only", False)
    status = "reconnect_needed" if refused else ("rate_limited" if isinstance(err, RateLimited) else "error")
    until = datetime.fromtimestamp(err.reset_at, UTC) if isinstance(err, RateLimited) and err.reset_at else None
    with write_transaction(db):
        repo.save_connector_state(db, name, platform=str(connector.info.platform), status=status, now=now,
                                  last_error=f"{err.code}: {err}", rate_limited_until=until)
        if refused:
            tokens_repo.block_connector(db, name, str(connector.info.platform), now=now, error=f"{err.code}: {err}",
                                        fingerprint=credential_fingerprint(connector))
        audit.record(db, audit.SyncCompleted(actor=audit.SYSTEM_WORKER, subject=f"connector:{name}",
                                             connector=name, fetched=0, inserted=0, updated=0,
                                             error=err.code), at=now)
    log.warning("sync %s failed: %s (%s)", name, err, err.code)
    return SyncResult(connector=name, status=status, error_code=err.code, error=str(err),
                      seconds=time.perf_counter() - started, **_counts(totals))


def _record_own_posts(db: Database, fetched: FetchResult, *, platform: str, account: str, now: datetime) -> None:
    """The city's own posts a connector read on the way: the roots « Fil » shows first (decision 0212). A post
    read again with another text (X: the next reply that includes it; Mastodon: read again once forgotten) keeps
    the text it had as an ``edited`` revision, unless the pass brings that post's edit history (decision 0305)."""
    if not fetched.own_posts or not platform:
        return
    stepped = {c.uid for c in fetched.own_changes if c.change == "edited"}  # their edit history says it better
    for post in fetched.own_posts:
        stored = repo.city_post_state(db, platform, post.platform_id)
        if stored is not None and stored[0] != post.text and f"{platform}:{post.platform_id}" not in stepped:
            _revise_city_post(db, platform, post.platform_id, "edited", now=now, old_text=stored[0],
                              new_text=post.text, raw={"seen": "read again"})
    repo.record_city_posts(db, (repo.CityPost(platform=platform, platform_id=p.platform_id, text=p.text,
                                              published_at=p.published_at, permalink=p.permalink,
                                              account=account, source="fetched")
                                for p in fetched.own_posts), now=now)


def _apply_own_changes(db: Database, changes: Sequence[PlatformChange], *, platform: str, now: datetime) -> int:
    """Record the edits and deletions a connector saw on the city's recorded posts (thread roots, decision 0305),
    as :func:`_apply_changes` does for mentions: an edit-history step already stored is not stored again, a
    deletion once; each recorded change has its ``city-post-revised`` audit event. Returns how many."""
    applied = 0
    known: dict[str, Counter[tuple[str | None, str | None]]] = {}
    for change in changes:
        prefix, _, platform_id = change.uid.partition(":")
        stored = repo.city_post_state(db, platform, platform_id) if prefix == platform else None
        if stored is None:
            continue  # a post never recorded (or another platform's): nothing to revise
        if change.change == "deleted" and stored[1]:
            continue  # seen again: already marked deleted
        if change.change == "edited":
            if change.uid not in known:
                known[change.uid] = Counter(repo.city_post_edits_recorded(db, platform, platform_id))
            step = (change.old_text, change.new_text)
            if known[change.uid][step] > 0:
                known[change.uid][step] -= 1
                continue
        elif change.change != "deleted":
            continue
        _revise_city_post(db, platform, platform_id, change.change, now=now, raw=change.raw,
                          old_text=change.old_text, new_text=change.new_text)
        applied += 1
    return applied


def _revise_city_post(db: Database, platform: str, platform_id: str, change: str, *, now: datetime,
                      raw: dict[str, Any], old_text: str | None = None, new_text: str | None = None) -> None:
    repo.record_city_post_change(db, platform, platform_id, change, now=now, raw=raw, old_text=old_text,
                                 new_text=new_text)
    audit.record(db, audit.CityPostRevised(actor=audit.SYSTEM_WORKER, subject=f"city-post:{platform}:{platform_id}",
                                           change=change, old_text=old_text, new_text=new_text), at=now)


def store_pushed(db: Database, connector_name: str, fetched: FetchResult, *, now: datetime,
                 score: ScoreFn | None = None, platform: str = "") -> SyncResult:
    """Store mentions a platform pushed (a webhook or a stream read by the connector) and the state changes it
    told (removed, hidden: recorded like a sync's, with their audit events), and list the items that failed
    validation (``platform`` given); the connector's cursor is untouched."""
    started = time.perf_counter()
    for reason in fetched.skipped:
        log.warning("push %s: skipped: %s", connector_name, reason)
    with write_transaction(db):
        stored = store_mentions(db, fetched.mentions, now=now, score=score)
        applied = _apply_changes(db, fetched.changes, now=now)
        if platform:
            repo.record_rejected(db, connector_name, platform,
                                 ((r.item_id, r.reason, r.permalink) for r in fetched.rejected), now=now)
        revised = len(stored.revised) + applied
        audit.record(db, audit.SyncCompleted(actor=audit.SYSTEM_WORKER, subject=f"connector:{connector_name}",
                                             connector=connector_name, fetched=len(fetched.mentions),
                                             inserted=len(stored.inserted), updated=len(stored.updated),
                                             revised=revised, skipped=len(fetched.skipped)), at=now)
    return SyncResult(connector=connector_name, fetched=len(fetched.mentions), inserted=len(stored.inserted),
                      updated=len(stored.updated), revised=revised, skipped=len(fetched.skipped),
                      seconds=time.perf_counter() - started, inserted_uids=list(stored.inserted))
