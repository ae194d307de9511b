"""Retention of working data and legal holds.

Working data about residents (scores, assignments, internal notes, author profiles) expires after a number of
months per data class: ``PARVIS_RETENTION_MONTHS`` (default 13) for every class, overridden per class by
``PARVIS_RETENTION_<CLASS>_MONTHS`` (e.g. ``PARVIS_RETENTION_NOTES_MONTHS=6``); 0 keeps that class forever.
The texts of finished integration messages (e-mails, Open311 requests, webhook events: they may quote residents)
are erased after ``PARVIS_RETENTION_INTEGRATION_DAYS`` (default 90; 0 keeps them), the rows and their metadata
kept (class ``integration_messages``, services/integrations/erasure.py).
The worker runs :func:`purge` daily (console/jobs/housekeeping.py); a mention under a legal hold (on its
conversation or its author) is skipped until the hold is lifted. Every run, hold and lift is audited. The record
(messages received and published, the legal archive, the audit log) is never purged here: it follows the
archival policy.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlite_utils import Database

from core import audit, repo
from core.config import Settings
from core.db import flush_erased, write_transaction
from core.errors import ValidationError
from core.repo import retention as ret
from core.repo.retention import WORKING_CLASSES, LegalHold
from services.accounts.permissions import Action, require_actor
from services.archive.published import Actor, actor_identity
from services.integrations import erasure as integration_erasure

log = logging.getLogger("parvis.retention")
DEFAULT_MONTHS = 13
DEFAULT_INTEGRATION_DAYS = 90
INTEGRATION_CLASS = "integration_messages"
PURGE_INTERVAL_S = 24 * 3600
ACTIONS = {
    "scores": "sentiment, risk score and flags, priority and model versions (sentiment, risk) cleared",
    "assignments": "assignee cleared on closed or answered mentions; presence forgotten",
    "notes": "internal notes deleted",
    "author_profiles": "author display name and follower count removed (the handle stays in the record)",
    INTEGRATION_CLASS: "texts of finished e-mails, Open311 requests and webhook events erased (the rows stay)",
}


def months_before(moment: datetime, months: int) -> datetime:
    """``moment`` minus whole calendar months (the day is clamped to the month's last day)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionPolicy:
    """Months each working-data class is kept, days the integration messages' texts are (0 = kept until erased by
    hand)."""

    months: dict[str, int] = field(default_factory=lambda: dict.fromkeys(WORKING_CLASSES, DEFAULT_MONTHS))
    integration_days: int = DEFAULT_INTEGRATION_DAYS

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        """Read ``PARVIS_RETENTION_MONTHS`` and the per-class ``PARVIS_RETENTION_<CLASS>_MONTHS``."""
        months = {c: settings.retention.months_for(c) for c in WORKING_CLASSES}
        days = settings.retention.integration_days
        bad = {c: m for c, m in {**months, INTEGRATION_CLASS: days}.items() if m < 0}
        if bad:
            raise ValidationError(f"retention months cannot be negative: {bad}", reason="retention_negative",
                                  classes=sorted(bad))
        return cls(months=months, integration_days=days)

    def cutoffs(self, now: datetime) -> dict[str, datetime]:
        """The date before which each purged class expires (classes kept forever are absent)."""
        out = {c: months_before(now, m) for c, m in self.months.items() if m > 0}
        if self.integration_days > 0:
            out[INTEGRATION_CLASS] = now - timedelta(days=self.integration_days)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class PurgeReport:
    """What a retention run did (or would do, for a dry run)."""

    counts: dict[str, int]
    held: dict[str, int]
    cutoffs: dict[str, datetime]
    dry_run: bool
    run_id: int | None = None

    @property
    def total(self) -> int:
        """Items purged over every class."""
        return sum(self.counts.values())


def purge(db: Database, policy: RetentionPolicy, *, now: datetime, actor: str = audit.SYSTEM_WORKER,
          dry_run: bool = False) -> PurgeReport:
    """Purge expired working data except under legal hold; log and audit the run (a dry run only counts)."""
    cutoffs = policy.cutoffs(now)
    counts: dict[str, int] = {}
    held: dict[str, int] = {}
    with write_transaction(db):
        for cls, cutoff in cutoffs.items():
            if cls == INTEGRATION_CLASS:
                gone = integration_erasure.erase_finished(db, cutoff=cutoff, now=now, actor=actor, dry_run=dry_run)
                counts[cls], held[cls] = gone.messages, gone.held
                continue
            counts[cls], held[cls] = ret.purge_class(db, cls, cutoff=cutoff, dry_run=dry_run)
        if "assignments" in cutoffs:
            counts["presence"] = ret.purge_presence(db, cutoff=cutoffs["assignments"], dry_run=dry_run)
        if dry_run:
            return PurgeReport(counts=counts, held=held, cutoffs=cutoffs, dry_run=True)
        iso = {c: d.isoformat() for c, d in cutoffs.items()}
        run_id = ret.insert_run(db, at=now, actor=actor, policy={"months": policy.months, "cutoffs": iso,
                                                                 "integration_days": policy.integration_days},
                                counts=counts, held=held)
        audit.record(db, audit.RetentionPurged(actor=actor, role="system", subject=f"retention-run:{run_id}",
                                               run_id=run_id, counts=counts, held=held, cutoffs=iso), at=now)
    if counts.get("notes") or counts.get(INTEGRATION_CLASS):
        flush_erased(db)  # the erased texts (notes and their audit copies, messages) in neither the file nor its WAL
    log.info("retention run %d: purged %s, held back %s", run_id, counts, held)
    return PurgeReport(counts=counts, held=held, cutoffs=cutoffs, dry_run=False, run_id=run_id)


# ---- legal holds -----------------------------------------------------------------------------------

def _hold_subject(scope: str, platform: str, key: str) -> str:
    return f"{scope}:{platform}:{key}"


def set_hold(db: Database, *, scope: str, platform: str, key: str, reason: str, actor: Actor,
             now: datetime) -> LegalHold:
    """Put a legal hold on a conversation or an author (legal staff: ``legal.hold``). Audited."""
    require_actor(actor, Action.LEGAL_HOLD)
    if not reason.strip():
        raise ValidationError("a legal hold needs a reason (e.g. the case reference)", reason="hold_reason_required")
    if not key.strip() or not platform.strip():
        raise ValidationError("a legal hold needs a platform and a conversation or author id",
                              reason="hold_target_required")
    who, role = actor_identity(actor)
    with write_transaction(db):
        hold = ret.insert_hold(db, scope=scope, platform=platform, key=key.strip(), reason=reason.strip(),
                               set_by=who, now=now)
        audit.record(db, audit.LegalHoldSet(actor=who, role=role, subject=_hold_subject(scope, platform, hold.key),
                                            hold_id=hold.id, scope=scope, platform=platform, key=hold.key,
                                            reason=hold.reason), at=now)
    return hold


def hold_mention(db: Database, uid: str, *, scope: str, reason: str, actor: Actor, now: datetime) -> LegalHold:
    """Put a hold on the conversation or the author of mention ``uid``."""
    mention = repo.get_item(db, uid).mention
    if scope == "conversation":
        key = mention.conversation_id or mention.platform_id
    elif scope == "author":
        key = mention.author.platform_id
    else:
        raise ValidationError(f"unknown legal-hold scope {scope!r} (expected conversation or author)",
                              reason="hold_scope_unknown", scope=scope)
    return set_hold(db, scope=scope, platform=str(mention.platform), key=key, reason=reason, actor=actor, now=now)


def lift_hold(db: Database, hold_id: int, *, reason: str, actor: Actor, now: datetime) -> LegalHold:
    """Lift a legal hold (legal staff only, ``legal.hold``; the next retention run purges what it protected).
    Audited."""
    require_actor(actor, Action.LEGAL_HOLD)
    if not reason.strip():
        raise ValidationError("lifting a legal hold needs a reason", reason="hold_lift_reason_required")
    who, role = actor_identity(actor)
    with write_transaction(db):
        hold = ret.get_hold(db, hold_id)
        if not hold.active:
            raise ValidationError(f"legal hold {hold_id} was already lifted on {hold.lifted_at:%Y-%m-%d}",
                                  reason="hold_already_lifted", hold_id=hold_id, day=f"{hold.lifted_at:%d/%m/%Y}")
        hold = ret.lift_hold(db, hold_id, lifted_by=who, reason=reason.strip(), now=now)
        audit.record(db, audit.LegalHoldLifted(actor=who, role=role,
                                               subject=_hold_subject(hold.scope, hold.platform, hold.key),
                                               hold_id=hold_id, reason=reason.strip()), at=now)
    return hold


def holds(db: Database, *, active_only: bool = True) -> list[LegalHold]:
    """Legal holds, newest first."""
    return ret.list_holds(db, active_only=active_only)
