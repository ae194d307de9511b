"""The worker's side of scheduled replies: the outbox engine with the replies' kind.

Per pass (docs/publishing.md, "Réponses"; decisions 0050 and 0051):
1. the worker holds the ``publisher`` lease (shared with posts and moderation acts), or does nothing;
2. replies left ``publishing`` (a worker or a console process stopped mid-call, longer than the stale delay) and
   replies whose outcome was uncertain (``needs_check``) are looked for on the platform first (optional
   connector method ``find_reply(mention, text, since)``): found -> ``sent``; certainly absent -> sent again (a
   scheduled reply) or ``failed`` (a person's send: the person decides); cannot tell -> looked for again until
   the deadline, then "à vérifier"; a connector without the method -> "à vérifier" at once
   (:meth:`services.outbox.engine.Engine.reconcile`);
3. each due scheduled reply is claimed (:func:`services.publishing.reply_sending.claim`, under the lease), sent with the
   connector's ``reply`` to its mention, and recorded (:class:`services.publishing.reply_sending.ReplyKind`).
"""

from __future__ import annotations

import random
from datetime import datetime

from sqlite_utils import Database

from connectors.base import Connector
from core.clock import Clock, utcnow
from core.models import Draft
from services.outbox.engine import Hook, OneKindWorker
from services.publishing.content import DEFAULT_POLICY, PublishPolicy
from services.publishing.reply_sending import Connectors, DueResult, ReplyKind, ReplyReport

__all__ = ["Connectors", "DueResult", "ReplyReport", "ReplyWorker"]


class ReplyWorker(OneKindWorker[ReplyKind]):
    """Sends due scheduled replies once; ``connectors`` maps a platform to its connector or chooses per draft."""

    def __init__(self, db: Database, connectors: Connectors, *, clock: Clock = utcnow,
                 policy: PublishPolicy = DEFAULT_POLICY, worker_id: str | None = None,
                 rng: random.Random | None = None, hook: Hook | None = None) -> None:
        super().__init__(db, ReplyKind(connectors), clock=clock, policy=policy, worker_id=worker_id, rng=rng,
                         hook=hook)
        self.connectors = connectors

    def connector_for(self, draft: Draft) -> Connector | None:
        """The connector that replies to ``draft``'s mention."""
        return self.kind.connector_for_draft(draft)

    def tick(self) -> ReplyReport:
        """One pass: lease, look for interrupted or uncertain sends, then send every due scheduled reply."""
        report = ReplyReport()
        report.leased = self.engine.run_pass({ReplyKind.name: report})
        return report

    def next_due(self) -> datetime | None:
        """When this worker is next needed for replies (wake-on-due), or None."""
        return self.engine.next_due()

    def process(self, draft_id: int, report: ReplyReport) -> None:
        """Claim, send and record one due scheduled reply."""
        self.engine.process(self.kind, draft_id, report)
