"""The worker's side of scheduled replies: the posts' exactly-once machinery applied to reply drafts.

Per tick (docs/publishing.md, "Réponses"; decision 0050):
1. the worker holds the ``publisher`` lease (shared with the posts' outbox), or does nothing;
2. replies left ``publishing`` (a worker or a console process stopped mid-call, longer than the stale delay) and
   replies whose outcome was uncertain (``needs_check``) are looked for on the platform first (optional
   connector method ``find_reply(mention, text, since)``): found -> ``sent``; certainly absent -> sent again (a
   scheduled reply) or ``failed`` (a person's send: the person decides); cannot tell -> looked for again until
   the deadline, then "à vérifier"; a connector without the method -> "à vérifier" at once;
3. each due scheduled reply is claimed (:func:`services.publishing.reply_sending.claim`, under the lease), sent with the
   connector's ``reply`` to its mention, and recorded (:func:`services.publishing.reply_sending.deliver`).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlite_utils import Database

from connectors.base import Connector
from core import audit, repo
from core.clock import Clock, utcnow
from core.db import write_transaction
from core.errors import ParvisError
from core.models import Draft, DraftState, Platform, Published
from core.repo import leases as lease_repo
from core.repo import reply_outbox as outbox_repo
from core.repo.reply_outbox import ReplySend
from services.publishing import reply_sending as sending
from services.publishing.content import DEFAULT_POLICY, PublishPolicy
from services.publishing.posts import LEASE, SLOW_RETRY, acquire_publisher_lease, worker_identity

log = logging.getLogger("parvis.publishing.replies")
S = DraftState
SINCE_MARGIN = timedelta(minutes=5)  # clock skew between us and the platform
LOOKUP_RETRY = timedelta(seconds=60)
Connectors = Mapping[Platform, Connector] | Callable[[Draft], Connector | None]


@dataclass(frozen=True, slots=True)
class DueResult:
    """Outcome of one scheduled reply the worker tried to send (``error_code`` when not sent)."""

    draft_id: int
    ok: bool
    error_code: str = ""


@dataclass(slots=True)
class ReplyReport:
    """What one tick did; ``leased`` is False when another worker holds the publisher lease."""

    leased: bool = True
    results: list[DueResult] = field(default_factory=list)
    reconciled: int = 0


class ReplyWorker:
    """Sends due scheduled replies once; ``connectors`` maps a platform to its connector or chooses per draft."""

    def __init__(self, db: Database, connectors: Connectors, *, clock: Clock = utcnow,
                 policy: PublishPolicy = DEFAULT_POLICY, worker_id: str | None = None,
                 rng: random.Random | None = None, hook: sending.Hook | None = None) -> None:
        self.db, self.connectors, self.clock, self.policy = db, connectors, clock, policy
        self.worker_id = worker_id or worker_identity()
        self.rng = rng or random.Random()
        self.hook: sending.Hook = hook or sending._noop  # noqa: SLF001 - same package
        self._lease_lost = False

    def connector_for(self, draft: Draft) -> Connector | None:
        """The connector that replies to ``draft``'s mention."""
        if callable(self.connectors):
            return self.connectors(draft)
        return self.connectors.get(draft.platform)

    def tick(self) -> ReplyReport:
        """One pass: lease, look for interrupted or uncertain sends, then send every due scheduled reply."""
        report = ReplyReport()
        if not acquire_publisher_lease(self.db, self.worker_id, now=self.clock(), ttl=self.policy.lease_ttl):
            report.leased = False
            return report
        self._lease_lost = False
        self.reconcile(report)
        seen: set[int] = set()
        while not self._lease_lost:
            due = [i for i in outbox_repo.due(self.db, now=self.clock(), limit=self.policy.batch) if i not in seen]
            if not due:
                break
            for draft_id in due:
                seen.add(draft_id)
                self.process(draft_id, report)
                if self._lease_lost:
                    break
        return report

    def process(self, draft_id: int, report: ReplyReport) -> None:
        """Claim, send and record one due scheduled reply."""
        draft = repo.get_draft(self.db, draft_id)
        connector = self.connector_for(draft)
        now = self.clock()
        if connector is None:
            self._no_connector(draft, now)
            report.results.append(DueResult(draft_id, False, "no_connector"))
            return
        try:
            claim = sending.claim(self.db, None, draft_id, now=now, worker=self.worker_id,
                                  lease_ttl=self.policy.lease_ttl, hook=self.hook)
        except ParvisError as err:  # audited by claim(); the next reply still goes out
            log.warning("scheduled reply %s not sent: %s", draft_id, err)
            report.results.append(DueResult(draft_id, False, err.code))
            return
        if claim is None:
            self._lease_lost = lease_repo.holder(self.db, LEASE, now=now) != self.worker_id
            return
        outcome = sending.deliver(self.db, claim, connector, clock=self.clock, policy=self.policy, rng=self.rng,
                                  hook=self.hook)
        code = "" if outcome.error is None else str(getattr(outcome.error, "code", type(outcome.error).__name__))
        report.results.append(DueResult(draft_id, outcome.kind == "sent", code))

    def _no_connector(self, draft: Draft, now: datetime) -> None:
        """Account not connected: try again in a minute, and fail (nothing was sent) past the deadline."""
        with write_transaction(self.db):
            base = draft.scheduled_at or now
            if now > base + self.policy.retry_window:
                if outbox_repo.update_send(self.db, draft.id, now=now, expect_state=S.SCHEDULED, state=S.FAILED,
                                           send_error_code="no_connector", send_error="Compte non connecté : "
                                           "rien n'a été envoyé."):
                    audit.record(self.db, audit.ReplyFailed(actor=audit.SYSTEM_WORKER, subject=draft.mention_uid or "",
                                                            draft_id=draft.id, error_code="no_connector",
                                                            error="Compte non connecté"), at=now)
            else:
                outbox_repo.update_send(self.db, draft.id, now=now, expect_state=S.SCHEDULED,
                                        not_before=now + SLOW_RETRY, send_error_code="no_connector",
                                        send_error="Compte non connecté.")

    # ---- looking on the platform before anything is sent again -------------------------------------------

    def look_up(self, send: ReplySend) -> tuple[str, Published | None, str]:
        """``("found", published, "")``, ``("absent", None, "")`` or ``("unknown", None, why)``."""
        draft = repo.get_draft(self.db, send.draft_id)
        connector = self.connector_for(draft)
        if not sending.can_look_up(connector) or not send.sent_text or send.claimed_at is None:
            return "unknown", None, "recherche automatique impossible sur ce compte"
        mention = repo.get_item(self.db, draft.mention_uid or "").mention
        starts = [t for t in (send.claimed_at, None if send.by_person else send.scheduled_at) if t is not None]
        try:
            finder = connector.find_reply  # type: ignore[union-attr]
            found = finder(mention, send.sent_text, since=min(starts) - SINCE_MARGIN)
        except Exception as err:  # noqa: BLE001 - a failed lookup is an answer: "cannot tell"
            outcome, result, why = "unknown", None, f"recherche impossible : {err or type(err).__name__}"
        else:
            if found is None:
                outcome, result, why = "absent", None, ""
            elif outbox_repo.platform_id_recorded(self.db, send.platform, found.platform_id,
                                                  other_than=send.draft_id):
                outcome, result, why = "unknown", None, (f"la réponse trouvée ({found.platform_id}) est déjà "
                                                         "attribuée à un autre envoi")
            else:
                outcome, result, why = "found", found, ""
        self.hook("looked_up")
        return outcome, result, why

    def reconcile(self, report: ReplyReport) -> None:
        """Interrupted or uncertain sends: found -> sent; absent -> again (or failed for a person); else a person."""
        now = self.clock()
        for send in outbox_repo.claimed(self.db):
            if send.needs_check:
                if send.not_before is not None and send.not_before > now:
                    continue
            elif not (send.claimed_by == self.worker_id or send.claimed_at is None  # stuck before m052
                      or send.claimed_at <= now - self.policy.stale_after):
                continue  # a live call (ours in another process, or a person's): leave it alone
            outcome, found, why = self.look_up(send)
            now = self.clock()
            with write_transaction(self.db):
                current = outbox_repo.get_send(self.db, send.draft_id)
                if current.state is not S.PUBLISHING or current.claim_token != send.claim_token:
                    continue
                self._settle(current, outcome, found, why, now)
                self.hook("reconcile_txn")
            report.reconciled += 1

    def _settle(self, send: ReplySend, outcome: str, found: Published | None, why: str, now: datetime) -> None:
        past = now > sending.deadline(send, self.policy)
        if outcome == "found" and found is not None:
            sending.mark_sent(self.db, send.draft_id, found, now=now, expect_token=send.claim_token, via="lookup")
        elif outcome == "absent" and send.by_person:
            sending.fail(self.db, send, send.error_code or "interrupted", "Envoi interrompu ou incertain ; la "
                         "réponse n'est pas sur la plateforme (vérifié) : rien n'est parti, elle peut être "
                         "renvoyée.", now=now)
        elif outcome == "absent" and past:
            sending.fail(self.db, send, send.error_code or "deadline", "Délai dépassé ; la réponse n'est pas sur "
                         f"la plateforme (vérifié). Dernière erreur : {send.error or 'envoi interrompu'}", now=now)
        elif outcome == "absent":
            sending.retry(self.db, send, send.error_code or "interrupted", "Envoi interrompu ou incertain ; la "
                          "réponse n'est pas sur la plateforme (vérifié) : nouvel essai.", now=now,
                          policy=self.policy, delay=timedelta(0))
        elif past or not sending.can_look_up(self.connector_for(repo.get_draft(self.db, send.draft_id))):
            sending.to_verify(self.db, send, f"Envoi interrompu ou incertain ; {why}.", now=now)
        else:  # the lookup failed: look again later, until the deadline
            outbox_repo.update_send(self.db, send.draft_id, now=now, expect_token=send.claim_token, needs_check=True,
                                    not_before=min(now + LOOKUP_RETRY, sending.deadline(send, self.policy)))
