"""The worker's outbox: one pass over every kind under the ``publisher`` lease, and when the next pass is due.

A pass (:meth:`Runner.run_pass`) writes the outcomes this process could not write before, reconciles claims of
every kind (posts, replies, moderation acts), verifies native hand-offs, then claims, calls and records every due
post and scheduled reply. Instead of a fixed tick, the worker then sleeps until :meth:`Runner.next_wake`: the
earliest due row, retry, lookup, or claim becoming stale, at most ``max_sleep`` away (the worker is woken
earlier when another connection commits: console/jobs/publishing.py), or the other worker's lease expiry.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from connectors.base import Connector
from core.clock import Clock, utcnow
from core.config import Settings
from core.models import Draft, Mention
from core.repo import leases as lease_repo
from services.moderation.acts import ActReport, ModerationKind
from services.outbox.engine import LEASE, Engine, Hook, OutboxKind
from services.publishing.content import DEFAULT_POLICY, CharterCheck, PublishPolicy, charter_check
from services.publishing.posts import PostKind, TickReport
from services.publishing.reply_sending import ReplyKind, ReplyReport

MAX_SLEEP = timedelta(seconds=DEFAULT_POLICY.tick_s)  # the longest sleep between two passes (PARVIS_PUBLISH_TICK_S)
IDLE_FLOOR = timedelta(seconds=1)  # a pass that changed nothing never runs again sooner than this


@dataclass(slots=True)
class PassReport:
    """What one pass did, per kind; ``leased`` is False when another worker holds the lease (nothing done)."""

    leased: bool = True
    posts: TickReport = field(default_factory=TickReport)
    replies: ReplyReport = field(default_factory=ReplyReport)
    acts: ActReport = field(default_factory=ActReport)

    @property
    def progressed(self) -> bool:
        """Whether the pass changed anything (sent, settled, retried, reconciled something)."""
        p, a = self.posts, self.acts
        return bool(p.published or p.handed_off or p.retried or p.failed or p.to_verify or p.held or p.reconciled
                    or any(r.ok for r in self.replies.results) or self.replies.reconciled
                    or a.done or a.failed or a.to_verify or a.uncertain or a.reconciled)

    def as_dict(self) -> dict[str, int | bool]:
        """Counts as a flat dict (logs, benchmark): the posts' counts, then replies and moderation acts."""
        out: dict[str, int | bool] = dict(self.posts.as_dict())
        out["leased"] = self.leased
        out["replies_sent"] = sum(1 for r in self.replies.results if r.ok)
        out["replies_not_sent"] = sum(1 for r in self.replies.results if not r.ok)
        out["replies_reconciled"] = self.replies.reconciled
        out.update({f"acts_{k}": getattr(self.acts, k) for k in ("done", "failed", "to_verify", "uncertain",
                                                                  "reconciled")})
        return out


def kinds(post_connectors: Mapping[str, Connector], reply_connector: Callable[[Draft], Connector | None],
          act_connector: Callable[[Mention], Connector | None], *,
          check: CharterCheck | None = charter_check, settings: Settings | None = None) -> list[OutboxKind]:
    """The registry of kinds the worker runs: posts, scheduled replies, moderation acts (in that order), then,
    given the settings, the integrations' e-mails, Open311 service requests and webhook deliveries (decision
    0120, services/integrations)."""
    listed: list[OutboxKind] = [PostKind(post_connectors, check=check), ReplyKind(reply_connector),
                                ModerationKind(act_connector)]
    if settings is not None:
        from services.integrations import kinds as integration_kinds

        listed += integration_kinds(settings)
    return listed


class Runner:
    """The worker's outbox over ``kinds`` on one connection."""

    def __init__(self, db: Database, outbox_kinds: Sequence[OutboxKind], *, clock: Clock = utcnow,
                 policy: PublishPolicy = DEFAULT_POLICY, worker_id: str | None = None, max_sleep: timedelta = MAX_SLEEP,
                 rng: random.Random | None = None, hook: Hook | None = None) -> None:
        self.engine = Engine(db, outbox_kinds, clock=clock, policy=policy, worker_id=worker_id, rng=rng, hook=hook)
        self.db, self.clock, self.max_sleep = db, clock, max_sleep

    def run_pass(self) -> PassReport:
        """One pass over every kind (see the module docstring)."""
        report = PassReport()
        reports: dict[str, Any] = {PostKind.name: report.posts, ReplyKind.name: report.replies,
                                   ModerationKind.name: report.acts}
        for name, kind in self.engine.kinds.items():
            reports.setdefault(name, kind.new_report())
        report.leased = self.engine.run_pass(reports)
        return report

    def next_wake(self, last: PassReport | None = None) -> datetime:
        """When to run the next pass: the earliest due item (now if overdue), never later than ``max_sleep``;
        after a pass that changed nothing, never sooner than :data:`IDLE_FLOOR` (no spinning on a row that stays
        due); while another worker holds the lease, when its lease expires."""
        now = self.clock()
        latest = now + self.max_sleep
        if last is not None and not last.leased:
            expiry = lease_repo.expires_at(self.db, LEASE)
            return min(latest, max(expiry or now, now + IDLE_FLOOR))
        due = self.engine.next_due()
        wake = latest if due is None else min(latest, max(due, now))
        if last is not None and not last.progressed and wake <= now:
            wake = now + IDLE_FLOOR
        return wake

    def release_lease(self) -> None:
        """Give the lease back (graceful stop)."""
        self.engine.release_lease()
