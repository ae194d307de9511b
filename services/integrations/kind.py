"""The integrations' outbox kinds (decision 0120): e-mails, Open311 service requests and webhook deliveries are
rows of one table, ``integration_outbox``, each channel an :class:`OutboxKind` of the one engine (decision 0051).

A message is *queued* (:func:`queue`: a ``pending`` row and ``integration-queued``, in the caller's transaction,
unique per ``dedupe`` key, with its stable ``message_id`` fixed there); the worker (or the person's action, at once)
*claims* it (``sending`` under a new token, ``integration-sending``, committed before the call), *calls* the
receiver outside any transaction, and records the outcome under the token: sent (``integration-sent``), not sent
and tried again after a backoff (``integration-retry``), refused (``integration-failed``), or uncertain: looked up
where the channel can tell (an Open311 request by its reference), else « à vérifier » (``integration-to-verify``)
for a person; never sent again by itself. Each channel says in :meth:`IntegrationKind.send` what is certain and
what is not (:class:`NotSent`: certainly not delivered, try later).
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlite_utils import Database

from core import audit
from core.db import write_transaction
from core.errors import PermanentFailure, RateLimited, ValidationError
from core.models import Agent
from core.repo import integrations as integrations_repo
from core.repo.integrations import OutRow
from services.integrations import erasure
from services.outbox.engine import (
    SINCE_MARGIN,
    Claim,
    Counts,
    Delivery,
    Engine,
    Hook,
    Item,
    OutboxKind,
    Phase,
    new_token,
)
from services.publishing.content import DEFAULT_POLICY, PublishPolicy

log = logging.getLogger("parvis.integrations")
_PHASES = {"sending": Phase.CLAIMED, "done": Phase.DONE, "failed": Phase.FAILED, "to_verify": Phase.TO_VERIFY,
           "pending": Phase.WAITING, "cancelled": Phase.OTHER}
_STATES = {Phase.CLAIMED: "sending", Phase.DONE: "done", Phase.FAILED: "failed", Phase.TO_VERIFY: "to_verify",
           Phase.WAITING: "pending"}
MESSAGE_DOMAIN = "parvis.invalid"  # the right-hand side of every Message-ID / event id (no real host)


class NotSent(RateLimited):
    """The receiver certainly did not get the message (connection refused, a 4xx SMTP answer before the data, a
    webhook answered 5xx or timed out where the receiver de-duplicates by event id): the engine tries again after
    a backoff. A subclass of :class:`RateLimited`, the engine's "certainly not done, try later"."""

    code = "not_sent"


def message_id_for(dedupe: str, domain: str = MESSAGE_DOMAIN) -> str:
    """The stable identity of a message, derived from its outbox key: the same message always has the same id
    (``<hex@domain>``: an e-mail's uses the sender's domain), so a receiver that sees it twice can tell."""
    digest = hashlib.sha256(dedupe.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{domain or MESSAGE_DOMAIN}>"


def queue(db: Database, *, channel: str, dedupe: str, topic: str, subject: str, recipient: str,
          payload: dict[str, Any], now: datetime, deadline: timedelta, actor: str = audit.SYSTEM_WORKER,
          role: str = "", agent_id: int | None = None, domain: str = MESSAGE_DOMAIN,
          mention_uid: str | None = None) -> int | None:
    """Write one message to the outbox with its audit event (in the caller's write transaction); None when the
    same ``dedupe`` key was queued before (nothing written: a notice is sent once). ``mention_uid``: the resident's
    message the payload quotes (its RGPD erasure erases the row's text, services/integrations/erasure.py)."""
    message_id = message_id_for(dedupe, domain)
    row_id = integrations_repo.enqueue(db, channel=channel, dedupe=dedupe, message_id=message_id, topic=topic,
                                       subject=subject, recipient=recipient, payload=payload, now=now,
                                       deadline=now + deadline, created_by=agent_id, mention_uid=mention_uid)
    if row_id is None:
        return None
    audit.record(db, audit.IntegrationQueued(actor=actor, role=role, subject=subject or f"{channel}:{row_id}",
                                             message=row_id, channel=channel, topic=topic, message_id=message_id,
                                             recipient=recipient), at=now)
    return row_id


class IntegrationKind(OutboxKind):
    """One channel of the integrations' outbox; subclasses implement :meth:`send` (and may look up)."""

    channel: ClassVar[str] = ""
    what = "le message"
    absent_fail = "rien n'est parti"

    def new_report(self) -> Counts:
        return Counts()

    # ---- rows -----------------------------------------------------------------------------------------------
    def item(self, row: OutRow) -> Item:
        since = row.claimed_at - SINCE_MARGIN if row.claimed_at else None
        return Item(key=row.id, phase=_PHASES.get(row.state, Phase.OTHER), token=row.claim_token,
                    claimed_by=row.claimed_by, claimed_at=row.claimed_at, attempts=row.attempts,
                    not_before=row.not_before, needs_check=row.needs_check, by_person=False,
                    payload=row.message_id, platform_id=row.result or None, error_code=row.error_code,
                    error=row.error, since=since, deadline=row.deadline_at, row=row)

    def get(self, key: int) -> Item:
        return self.item(integrations_repo.get(self.db, key))

    def claimed(self) -> list[Item]:
        return [self.item(r) for r in integrations_repo.in_state(self.db, self.channel, ["sending"])]

    def due(self, now: datetime, limit: int) -> list[int]:
        return integrations_repo.due(self.db, self.channel, now, limit)

    def next_waiting(self, now: datetime) -> datetime | None:
        return integrations_repo.next_waiting(self.db, self.channel)

    # ---- the call -------------------------------------------------------------------------------------------
    def connector_for(self, item: Item) -> Any:
        return self  # the channel itself sends and looks up

    def claim(self, key: int, report: Any) -> Claim | None:
        now = self.clock()
        token = new_token()
        with write_transaction(self.db):
            row = integrations_repo.get(self.db, key)
            if row.state != "pending" or (row.not_before is not None and row.not_before > now):
                return None
            if not integrations_repo.claim(self.db, key, token=token, by=self.engine.worker_id, now=now):
                return None
            audit.record(self.db, audit.IntegrationSending(actor=audit.SYSTEM_WORKER, subject=row.subject or
                                                           f"{self.channel}:{key}", message=key,
                                                           channel=self.channel, attempt=row.attempts + 1), at=now)
            self.engine.hook("claim_txn")
        return Claim(key=key, token=token, by=self.engine.worker_id, connector=self,
                     data=integrations_repo.get(self.db, key))

    def call(self, claim: Claim) -> Any:
        if erasure.is_erased(claim.data):  # its resident's words were erased: nothing to send (decision 0180)
            raise PermanentFailure("the message's text was erased", reason="integration_erased")
        return self.send(claim.data)

    def send(self, row: OutRow) -> Any:
        """Deliver ``row``; its result (JSON-able) or raise (:class:`NotSent`, a permanent error, or anything
        else: uncertain)."""
        raise NotImplementedError

    def after_done(self, row: OutRow, result: Any, now: datetime) -> None:
        """Channel-specific record once sent (in the transaction)."""
        return

    def after_failed(self, row: OutRow, now: datetime) -> None:
        """Channel-specific record once certainly not sent (in the transaction)."""
        return

    # ---- outcomes -------------------------------------------------------------------------------------------
    def _subject(self, row: OutRow) -> str:
        return row.subject or f"{self.channel}:{row.id}"

    def done(self, item: Item, result: Any, *, via: str, report: Any, token: str | None = None,
             expect: Phase | None = None, agent: Agent | None = None) -> bool:
        row: OutRow = item.row
        now = self.clock()
        text = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False) if result else ""
        if not integrations_repo.update(self.db, row.id, now=now, expect_token=token,
                                        expect_state=_STATES.get(expect) if expect else None, state="done",
                                        via=via, result=text[:2000], finished_at=now, needs_check=False,
                                        not_before=None, error_code="", error=""):
            return False
        self.after_done(row, result, now)
        audit.record(self.db, audit.IntegrationSent(actor=agent.email if agent else audit.SYSTEM_WORKER,
                                                    role=str(agent.role) if agent else "", subject=self._subject(row),
                                                    message=row.id, channel=self.channel, via=via,
                                                    result=text[:200]), at=now)
        return True

    def superseded(self, claim: Claim, result: Any, report: Any) -> None:
        current = self.get(claim.key)
        if current.phase is Phase.DONE:
            return
        log.warning("%s %s: sent after its claim was settled otherwise (%s): recorded as sent", self.channel,
                    claim.key, current.phase)
        self.done(current, result, via="api-after-takeover", report=report, expect=current.phase)

    def fail(self, item: Item, code: str, error: str, *, report: Any, token: str | None = None,
             expect: Phase | None = None, agent: Agent | None = None) -> bool:
        row: OutRow = item.row
        now = self.clock()
        if not integrations_repo.update(self.db, row.id, now=now, expect_token=token,
                                        expect_state=_STATES.get(expect) if expect else None, state="failed",
                                        error_code=code, error=error[:500], finished_at=now, needs_check=False,
                                        not_before=None):
            return False
        self.after_failed(row, now)
        audit.record(self.db, audit.IntegrationFailed(actor=audit.SYSTEM_WORKER, subject=self._subject(row),
                                                      message=row.id, channel=self.channel, error_code=code,
                                                      error=error[:500]), at=now)
        log.warning("%s %s failed: %s", self.channel, row.id, error)
        return True

    def again(self, item: Item, code: str, error: str, at: datetime, *, check: bool, report: Any,
              token: str | None = None, expect: Phase | None = None) -> bool:
        row: OutRow = item.row
        now = self.clock()
        if not integrations_repo.update(self.db, row.id, now=now, expect_token=token,
                                        expect_state=_STATES.get(expect) if expect else None, state="pending",
                                        claim_token=None, needs_check=check, not_before=at, error_code=code,
                                        error=error[:500]):
            return False
        audit.record(self.db, audit.IntegrationRetry(actor=audit.SYSTEM_WORKER, subject=self._subject(row),
                                                     message=row.id, channel=self.channel, error_code=code,
                                                     error=error[:500], next_at=at, check=check), at=now)
        return True

    def clear_check(self, item: Item) -> None:
        integrations_repo.update(self.db, item.key, now=self.clock(), expect_state="pending", needs_check=False)

    def look_later(self, item: Item, at: datetime, *, token: str | None = None) -> bool:
        return integrations_repo.update(self.db, item.key, now=self.clock(), expect_token=token,
                                        needs_check=True, not_before=at)

    def to_verify(self, item: Item, reason: str, *, report: Any, token: str | None = None,
                  expect: Phase | None = None) -> bool:
        row: OutRow = item.row
        now = self.clock()
        if not integrations_repo.update(self.db, row.id, now=now, expect_token=token,
                                        expect_state=_STATES.get(expect) if expect else None, state="to_verify",
                                        error_code="to_verify", error=reason[:500], needs_check=False,
                                        not_before=None):
            return False
        audit.record(self.db, audit.IntegrationToVerify(actor=audit.SYSTEM_WORKER, subject=self._subject(row),
                                                        message=row.id, channel=self.channel, reason=reason[:500]),
                     at=now)
        log.warning("%s %s needs a person: %s", self.channel, row.id, reason)
        return True


def deliver_now(db: Database, kind: IntegrationKind, key: int, *, clock: Any, agent: Agent | None = None,
                policy: PublishPolicy = DEFAULT_POLICY, hook: Hook | None = None) -> Delivery | None:
    """Send one queued message at once (a person's action: the agent does not wait for the worker); None when it
    is not due or already taken (the worker has it). A failure that may be retried stays for the worker."""
    worker = f"agent:{agent.id}" if agent is not None else None
    engine = Engine(db, [kind], clock=clock, policy=policy, worker_id=worker, hook=hook)
    engine.flush_unrecorded()
    return engine.process(kind, key, kind.new_report())


def verify(db: Database, kind: IntegrationKind, key: int, *, sent: bool, agent: Agent, now: datetime) -> OutRow:
    """A person settles a message left « à vérifier »: it arrived (done, ``via`` person) or not (failed)."""
    Engine(db, [kind], clock=lambda: now, worker_id=f"agent:{agent.id}")  # binds the kind to this connection
    with write_transaction(db):
        item = kind.get(key)
        if item.phase is not Phase.TO_VERIFY:
            raise ValidationError(f"message {key} is not to verify", reason="integration_not_to_verify")
        audit.record(db, audit.IntegrationVerified(actor=agent.email, role=str(agent.role),
                                                   subject=kind._subject(item.row), message=key,
                                                   channel=kind.channel, sent=sent), at=now)
        if sent:
            kind.done(item, "", via="person", report=None, expect=Phase.TO_VERIFY, agent=agent)
        else:
            kind.fail(item, "not_sent", f"Vérifié par {agent.name} : pas arrivé.", report=None,
                      expect=Phase.TO_VERIFY)
    return integrations_repo.get(db, key)


def send_soon(db: Database, settings: Any, key: int, *, agent: Agent, now: datetime) -> None:
    """Try to send a queued e-mail at once for a person's action; whatever happens stays with the outbox (a
    failure to retry goes to the worker, an uncertain one to « à vérifier »), never to the person's action."""
    from services.integrations.email import EmailKind

    try:
        deliver_now(db, EmailKind(settings), key, clock=lambda: now, agent=agent)
    except Exception:  # noqa: BLE001 - the e-mail is queued and audited: the worker takes it from here
        log.exception("e-mail %s could not be sent at once; the worker will", key)
