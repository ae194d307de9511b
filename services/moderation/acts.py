"""The moderation acts' kind of the outbox: hide, unhide, delete, ban and unban (decision 0051).

A person's act used to be sent to the platform first and recorded after: a write that failed then (database
locked past the busy timeout during a bulk import, disk full) lost the record of an act that did happen, and the
person was told nothing had changed. Through the outbox:

1. the *intent* (a ``moderation_acts`` row, ``sending``, with a claim token) and ``moderation-act-sending`` are
   committed in one write transaction before the platform is called (refused if another act on the same message
   or author is in flight);
2. the platform is called outside any transaction;
3. the outcome is recorded under the token: done -> the local state (hidden, deleted, ban row), the act's usual
   event (``mention-hidden`` ... ``author-unbanned``, with ``act_id`` and ``via``) and the moderation decision;
   refused -> ``moderation-act-failed`` (nothing changed); uncertain -> looked up on the platform where the
   connector can tell (optional method ``act_applied(action, mention) -> bool``), else « à vérifier »;
4. if writing the outcome fails, the platform's answer is kept in memory and written by the next moderation act of
   this process; if the process stopped, the worker looks the act up once it is stale (found -> done ``via
   lookup``; absent -> failed, "rien n'a changé"; cannot tell -> « à vérifier »). The person is told "sent to the
   platform, being recorded", never "nothing changed".

Acts are idempotent on the platforms (hiding twice leaves the message hidden), but a person's act is never
repeated by Parvis on its own: like a reply sent by a person, it is the person's to redo.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from connectors.base import Capability, Connector
from core import audit, repo
from core.clock import Clock
from core.db import write_transaction
from core.errors import NotFoundError, Unsupported, ValidationError
from core.models import Agent, InboxItem, Mention
from core.repo import author_bans as author_bans_repo
from core.repo import moderation_actions as moderation_actions_repo
from core.repo import outbox as acts_repo
from core.repo.outbox import Act
from services.outbox.engine import (
    SINCE_MARGIN,
    Claim,
    Delivery,
    Engine,
    Hook,
    Item,
    OutboxKind,
    Phase,
    new_token,
)
from services.publishing.content import DEFAULT_POLICY, PublishPolicy

log = logging.getLogger("parvis.outbox.moderation")
ACTIONS = ("hide", "unhide", "delete", "ban", "unban")
PERSON_PREFIX = "agent:"
_PHASES = {"sending": Phase.CLAIMED, "done": Phase.DONE, "failed": Phase.FAILED, "to_verify": Phase.TO_VERIFY}
_STATES = {phase: state for state, phase in _PHASES.items()}
ConnectorFor = Callable[[Mention], Connector | None]


def can_do(connector: Connector, action: str) -> bool:
    """Whether ``connector`` supports ``action`` (hide, unhide, delete, ban, unban)."""
    if Capability(action) not in connector.info.capabilities:
        return False
    return action not in ("ban", "unban") or callable(getattr(connector, action, None))  # extras, not in Protocol


def platform_call(connector: Connector, action: str, mention: Mention) -> None:
    """Do ``action`` on the platform (ban/unban: on the mention's author); Unsupported where it cannot."""
    if not can_do(connector, action):
        raise Unsupported(f"{connector.name} cannot {action} on {mention.platform}", reason="moderation_unsupported",
                          moderation_action=action, platform=str(mention.platform))
    if action == "hide":
        connector.hide(mention)
    elif action == "unhide":
        connector.unhide(mention)
    elif action == "delete":
        connector.delete(mention.platform_id)
    elif action == "ban":
        connector.ban(mention.author)  # type: ignore[attr-defined]
    else:
        connector.unban(mention.author)  # type: ignore[attr-defined]


def can_look_up(connector: Connector | None) -> bool:
    """True if ``connector`` can tell whether an act is in effect (optional method ``act_applied``)."""
    return connector is not None and callable(getattr(connector, "act_applied", None))


@dataclass(frozen=True, slots=True, kw_only=True)
class ActRequest:
    """What a person asks: ``action`` on ``mention_uid`` (ban/unban: on its author), with its ground and note."""

    action: str
    mention_uid: str
    ground: str | None = None  # unban: the ground of the ban being lifted (audited with it)
    note: str = ""
    confirmed_by: str = ""  # the director who confirmed acting on an elected official's message
    request_id: int | None = None  # the confirmation request this act carries out (closed once done)


@dataclass(frozen=True, slots=True)
class ActCall:
    """What the platform call needs."""

    act_id: int
    action: str
    mention: Mention


@dataclass(slots=True)
class ActReport:
    """What one pass did with moderation acts."""

    done: int = 0
    failed: int = 0
    to_verify: int = 0
    uncertain: int = 0
    reconciled: int = 0


class ModerationKind(OutboxKind):
    """Moderation acts as outbox rows; ``connector_for`` gives the connector of a mention (None: not configured)."""

    name = "moderation"
    what = "l'action de modération"
    absent_fail = "rien n'a changé sur la plateforme, l'action peut être refaite"

    def __init__(self, connector_for: ConnectorFor) -> None:
        self._connector_for = connector_for

    def new_report(self) -> ActReport:
        """Acts count their outcomes in an :class:`ActReport`."""
        return ActReport()

    # ---- rows -----------------------------------------------------------------------------------------------

    def item(self, act: Act) -> Item:
        """The engine's view of an act (always a person's: never repeated by Parvis on its own)."""
        return Item(key=act.id, phase=_PHASES.get(act.state, Phase.OTHER), token=act.claim_token,
                    claimed_by=act.claimed_by, claimed_at=act.claimed_at, attempts=act.attempts,
                    not_before=act.not_before, needs_check=act.needs_check, by_person=True, payload=act.action,
                    platform_id=None, error_code=act.error_code, error=act.error,
                    since=act.claimed_at - SINCE_MARGIN, deadline=act.claimed_at + self.policy.retry_window, row=act)

    def get(self, key: int) -> Item:
        return self.item(acts_repo.get_act(self.db, key))

    def claimed(self) -> list[Item]:
        return [self.item(a) for a in acts_repo.acts_in_state(self.db, ["sending"])]

    # ---- the call -------------------------------------------------------------------------------------------

    def _mention(self, act: Act) -> Mention | None:
        try:
            return repo.get_item(self.db, act.mention_uid).mention
        except NotFoundError:  # purged since: nothing left to look up with
            return None

    def connector_for(self, item: Item) -> Connector | None:
        mention = self._mention(item.row)
        return None if mention is None else self._connector_for(mention)

    def call(self, claim: Claim) -> None:
        c: ActCall = claim.data
        platform_call(claim.connector, c.action, c.mention)

    def can_look_up(self, connector: Connector | None) -> bool:
        return can_look_up(connector)

    def find(self, connector: Connector, item: Item) -> bool | None:
        mention = self._mention(item.row)
        if mention is None:
            raise NotFoundError("the message was purged: nothing to look the act up with",
                                reason="moderation_act_mention_purged")
        applied = connector.act_applied(item.row.action, mention)  # type: ignore[attr-defined]
        return True if applied else None

    # ---- outcomes -------------------------------------------------------------------------------------------

    def _actor(self, act: Act, agent: Agent | None) -> tuple[str, str]:
        """Who the act's events name: the person who asked (the act is theirs, whoever records its outcome)."""
        person = agent or (repo.get_agent(self.db, act.agent_id) if act.agent_id is not None else None)
        return (person.email, str(person.role)) if person else (audit.SYSTEM_WORKER, "")

    def done(self, item: Item, result: Any, *, via: str, report: ActReport, token: str | None = None,
             expect: Phase | None = None, agent: Agent | None = None) -> bool:
        act: Act = item.row
        now = self.clock()
        if not acts_repo.update_act(self.db, act.id, now=now, expect_token=token,
                                    expect_state=_STATES.get(expect) if expect else None, state="done", via=via,
                                    finished_at=now, needs_check=False, not_before=None, error_code="", error=""):
            return False
        apply_done(self.db, act, via=via, now=now, actor=self._actor(act, agent))
        report.done += 1
        return True

    def superseded(self, claim: Claim, result: Any, report: ActReport) -> None:
        """The platform said yes after the act was settled otherwise (looked up meanwhile, or « à vérifier »):
        the platform's answer wins, unless it is already recorded as done."""
        current = self.get(claim.key)
        if current.phase is Phase.DONE:
            return
        self.done(current, result, via="api-after-takeover", report=report, expect=current.phase, agent=claim.agent)

    def fail(self, item: Item, code: str, error: str, *, report: ActReport, token: str | None = None,
             expect: Phase | None = None, agent: Agent | None = None) -> bool:
        act: Act = item.row
        now = self.clock()
        if not acts_repo.update_act(self.db, act.id, now=now, expect_token=token,
                                    expect_state=_STATES.get(expect) if expect else None, state="failed",
                                    error_code=code, error=error[:500], finished_at=now, needs_check=False,
                                    not_before=None):
            return False
        actor, role = self._actor(act, agent) if agent else (audit.SYSTEM_WORKER, "")
        audit.record(self.db, audit.ModerationActFailed(actor=actor, role=role, subject=act.mention_uid, act_id=act.id,
                                                        action=act.action, error_code=code, error=error[:500]), at=now)
        report.failed += 1
        return True

    def again(self, item: Item, code: str, error: str, at: datetime, *, check: bool, report: ActReport,
              token: str | None = None, expect: Phase | None = None) -> bool:
        if not check:  # certainly not done (a person's act is never repeated by Parvis): failed
            return self.fail(item, code, error, report=report, token=token, expect=expect)
        act: Act = item.row
        now = self.clock()
        if not acts_repo.update_act(self.db, act.id, now=now, expect_token=token, expect_state="sending",
                                    needs_check=True, not_before=at, error_code=code, error=error[:500]):
            return False
        audit.record(self.db, audit.ModerationActUncertain(actor=audit.SYSTEM_WORKER, subject=act.mention_uid,
                                                           act_id=act.id, action=act.action, error_code=code,
                                                           error=error[:500], next_at=at), at=now)
        report.uncertain += 1
        return True

    def clear_check(self, item: Item) -> None:
        raise AssertionError("a moderation act is never waiting: it is claimed when it is asked for")

    def look_later(self, item: Item, at: datetime, *, token: str | None = None) -> bool:
        return acts_repo.update_act(self.db, item.key, now=self.clock(), expect_token=token, expect_state="sending",
                                    needs_check=True, not_before=at)

    def to_verify(self, item: Item, reason: str, *, report: ActReport, token: str | None = None,
                  expect: Phase | None = None) -> bool:
        act: Act = item.row
        now = self.clock()
        if not acts_repo.update_act(self.db, act.id, now=now, expect_token=token,
                                    expect_state=_STATES.get(expect) if expect else None, state="to_verify",
                                    error_code="to_verify", error=reason[:500], needs_check=False, not_before=None):
            return False
        audit.record(self.db, audit.ModerationActToVerify(actor=audit.SYSTEM_WORKER, subject=act.mention_uid,
                                                          act_id=act.id, action=act.action, reason=reason[:500]),
                     at=now)
        report.to_verify += 1
        log.warning("moderation act %s (%s on %s) needs a person: %s", act.id, act.action, act.mention_uid, reason)
        return True


def apply_done(db: Database, act: Act, *, via: str, now: datetime, actor: tuple[str, str]) -> None:
    """An act happened on the platform: close the older same acts left « à vérifier » on that message or author,
    mark the mention / keep or forget the ban (unless a later act decided its state since), write the act's event
    and the moderation decision, and close the director's request it carried out. In the caller's transaction."""
    from services.moderation.queue import is_unlawful  # the read side of the same area

    email, role = actor
    for earlier in acts_repo.open_acts_on(db, act.target, before=act.id):
        if earlier.state == "to_verify" and earlier.action == act.action:
            acts_repo.update_act(db, earlier.id, now=now, expect_state="to_verify", state="done", via="later-act",
                                 finished_at=now, error_code="", error="")
            audit.record(db, audit.ModerationActVerified(actor=email, role=role, subject=earlier.mention_uid,
                                                         act_id=earlier.id, action=earlier.action, done=True,
                                                         via="later-act"), at=now)
    current = not acts_repo.later_done_on(db, act.target, after=act.id)
    item = repo.get_item(db, act.mention_uid)
    ground = act.ground or ""
    if act.action == "hide":
        if current:
            repo.set_hidden(db, act.mention_uid, True, now=now)
        event: audit.AuditEvent = audit.MentionHidden(
            actor=email, role=role, subject=act.mention_uid, act_id=act.id, via=via, ground=ground,
            connector=act.connector, confirmed_by=act.confirmed_by)
    elif act.action == "unhide":
        if current:
            repo.set_hidden(db, act.mention_uid, False, now=now)
        event = audit.MentionUnhidden(actor=email, role=role, subject=act.mention_uid, act_id=act.id, via=via,
                                      connector=act.connector, note=act.note)
    elif act.action == "delete":
        if current:
            repo.record_platform_change(db, act.mention_uid, "deleted", now=now, raw={"by": email, "ground": ground})
        event = audit.MentionDeleted(actor=email, role=role, subject=act.mention_uid, act_id=act.id, via=via,
                                     ground=ground, connector=act.connector, confirmed_by=act.confirmed_by)
    elif act.action == "ban":
        if current:
            author_bans_repo.add_ban(db, author_bans_repo.Ban(
                platform=act.platform, author_platform_id=act.author_platform_id, handle=act.author_handle,
                mention_uid=act.mention_uid, ground=ground, connector=act.connector, banned_by=act.agent_id,
                banned_at=now))
        event = audit.AuthorBanned(actor=email, role=role, subject=act.mention_uid, act_id=act.id, via=via,
                                   ground=ground, connector=act.connector, confirmed_by=act.confirmed_by,
                                   author=act.author_handle, author_id=act.author_platform_id)
    else:
        if current:
            author_bans_repo.remove_ban(db, act.platform, act.author_platform_id)
        event = audit.AuthorUnbanned(actor=email, role=role, subject=act.mention_uid, act_id=act.id, via=via,
                                     connector=act.connector, author=act.author_handle,
                                     author_id=act.author_platform_id, ground=ground, note=act.note)
    audit.record(db, event, at=now)
    decision_ground = None if act.action in ("unhide", "unban") else act.ground
    unlawful = False if act.action == "unban" else is_unlawful(tuple(item.risk_flags))
    moderation_actions_repo.add_decision(db, act.mention_uid, act.action, ground=decision_ground, detail=act.note,
                                         unlawful=unlawful, flagged_at=item.ingested_at, decided_at=now,
                                         agent_id=act.agent_id)
    if act.request_id is not None and \
            moderation_actions_repo.get_request(db, act.request_id).state == "pending" and act.agent_id is not None:
        moderation_actions_repo.close_request(db, act.request_id, "confirmed", agent_id=act.agent_id, now=now)


def flagged_by(item: InboxItem) -> dict[str, Any]:
    """What the record keeps of the scores a person acted on (decision 0326): the risk flags' kinds and the models
    that scored the mention, so that a hide, a deletion, a ban or a dismissal stays explained once retention has cleared
    the scores (``flags``, ``risk_model`` of ``moderation-act-sending`` and ``dismissed``)."""
    kinds = tuple(dict.fromkeys(str(f.get("kind")) for f in item.risk_flags if f.get("kind")))
    return {"flags": kinds, "risk_model": item.risk_model_version or ""}


def _flagged_by_uid(db: Database, uid: str) -> dict[str, Any]:
    try:
        return flagged_by(repo.get_item(db, uid))
    except NotFoundError:  # an act on a mention no longer stored (an author's ban lifted after retention)
        return {}


def engine_for(db: Database, connector_for: ConnectorFor, *, clock: Clock, agent: Agent | None = None,
               policy: PublishPolicy = DEFAULT_POLICY, hook: Hook | None = None) -> tuple[Engine, ModerationKind]:
    """An engine with the moderation kind alone (a person's act, or a reconciliation outside the worker)."""
    kind = ModerationKind(connector_for)
    worker = f"{PERSON_PREFIX}{agent.id}" if agent is not None else None
    return Engine(db, [kind], clock=clock, policy=policy, worker_id=worker, hook=hook), kind


def perform(db: Database, connector: Connector, mention: Mention, request: ActRequest, *, agent: Agent,
            now: datetime, policy: PublishPolicy = DEFAULT_POLICY, hook: Hook | None = None) -> tuple[int, Delivery]:
    """A person's act through the outbox: outcomes left unwritten by earlier acts of this process first, then the
    intent (committed), the call, the outcome; returns the act's id and how the call ended."""
    if request.action not in ACTIONS:
        raise ValidationError(f"unknown moderation action {request.action!r}", reason="moderation_action_unknown",
                              moderation_action=request.action)
    engine, kind = engine_for(db, lambda _m: connector, clock=lambda: now, agent=agent, policy=policy, hook=hook)
    engine.flush_unrecorded()
    token, by = new_token(), f"{PERSON_PREFIX}{agent.id}"
    with write_transaction(db):
        act_id = acts_repo.insert_act(
            db, action=request.action, mention_uid=request.mention_uid, platform=str(mention.platform),
            author_platform_id=mention.author.platform_id, author_handle=mention.author.handle,
            ground=request.ground, note=request.note, confirmed_by=request.confirmed_by,
            request_id=request.request_id, connector=connector.name, agent_id=agent.id, token=token, claimed_by=by,
            now=now)
        audit.record(db, audit.ModerationActSending(actor=agent.email, role=str(agent.role),
                                                    subject=request.mention_uid, act_id=act_id,
                                                    action=request.action, ground=request.ground or "",
                                                    connector=connector.name,
                                                    **_flagged_by_uid(db, request.mention_uid)), at=now)
        engine.hook("claim_txn")
    claim = Claim(key=act_id, token=token, by=by, connector=connector, agent=agent,
                  data=ActCall(act_id, request.action, mention))
    return act_id, engine.deliver(kind, claim)


def verify(db: Database, agent: Agent, act_id: int, *, done: bool, now: datetime) -> Act:
    """A person settles an act left « à vérifier »: it is in effect on the platform -> done (``via`` person, with
    its usual event); it is not -> failed (it may be done again). The caller checks the person's rights."""
    _engine, kind = engine_for(db, lambda _m: None, clock=lambda: now, agent=agent)
    with write_transaction(db):
        item = kind.get(act_id)
        if item.phase is not Phase.TO_VERIFY:
            raise ValidationError(f"act {act_id} is not to verify", reason="moderation_act_not_to_verify")
        act: Act = item.row
        audit.record(db, audit.ModerationActVerified(actor=agent.email, role=str(agent.role), subject=act.mention_uid,
                                                     act_id=act.id, action=act.action, done=done), at=now)
        if done:
            kind.done(item, True, via="person", report=ActReport(), expect=Phase.TO_VERIFY, agent=agent)
        else:
            acts_repo.update_act(db, act.id, now=now, expect_state="to_verify", state="failed",
                                 error_code="not_done", finished_at=now,
                                 error=f"Vérifiée par {agent.name} : pas faite sur la plateforme.")
    return acts_repo.get_act(db, act_id)
