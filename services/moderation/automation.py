"""Automation rules (issue #17): conditions on a new message → actions, tried on the last 30 days before they are
switched on, applied by the worker right after each sync, each run audited.

Conditions (all given ones must hold; inside one, any value): ``platforms``, ``accounts``, ``risk_kinds`` (a flag of
that kind scored >= 0.5), ``keywords`` (whole words or phrases, accents and case ignored), ``sentiments``,
``author_marks`` (``elected``, ``opposition``, ``marked``, ``unmarked``).

Actions: ``assign_to`` (an agent id) or ``assign_team`` (agent ids, in rotation), ``tag``, ``priority`` (0-100:
set now and kept as a floor by the waiting-time re-prioritisation), ``hide`` with a legal ground (``spam`` or
``personal_data``: the moderation act goes through the outbox like a person's, services/moderation/acts.py),
``duplicate_of`` (an incident's mention uid: tagged « doublon », a note names the incident, closed).

Who: directors and administrators manage rules (``automation.manage``); a rule that hides needs whoever switches it
on to be allowed to moderate. Every action a rule takes is audited with that person as actor and the rule named
(``automation-applied``, then the usual ``tag-added``, ``mention-assigned``, ``status-changed``...). A changed
rule is switched off and must be tried again. A rule acts once per message, only on messages ingested after it was
switched on.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from core import audit, repo
from core.config import Settings
from core.db import write_transaction
from core.errors import NotFoundError, ParvisError, ValidationError
from core.models import OPEN_STATUSES, Agent, InboxItem, Role, Status
from core.repo import author_marks as author_marks_repo
from core.repo import automation as rules_repo
from moderation.text import fold
from services.accounts.permissions import Action, can, require

log = logging.getLogger(__name__)

DRY_RUN_DAYS = 30
RISK_KINDS = ("threat", "self_harm", "personal_data", "hate", "harassment", "insult", "urgent", "spam")
SENTIMENTS = ("negative", "neutral", "positive")
AUTHOR_MARKS = ("elected", "opposition", "marked", "unmarked")
HIDE_GROUNDS = ("spam", "personal_data")
RISK_MIN = 0.5
DUPLICATE_TAG = "doublon"
MAX_KEYWORDS = 50
CONDITION_KEYS = ("platforms", "accounts", "risk_kinds", "keywords", "sentiments", "author_marks")
ACTION_KEYS = ("assign_to", "assign_team", "tag", "priority", "hide", "duplicate_of")


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """A rule as the services and the page see it."""

    stored: rules_repo.StoredRule

    @property
    def id(self) -> int:
        """The rule's id."""
        return self.stored.id

    @property
    def conditions(self) -> dict[str, Any]:
        """Its conditions."""
        return self.stored.conditions

    @property
    def actions(self) -> dict[str, Any]:
        """Its actions."""
        return self.stored.actions


def _strings(value: Any, key: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValidationError(f"{key} must be a list of strings", reason="automation_condition_invalid", key=key)
    return [v.strip() for v in value if v.strip()]


def clean_conditions(raw: dict[str, Any]) -> dict[str, Any]:
    """Validated conditions (unknown keys, kinds, sentiments or marks refused; at least one condition)."""
    unknown = sorted(set(raw) - set(CONDITION_KEYS))
    if unknown:
        raise ValidationError(f"unknown conditions {unknown}", reason="automation_condition_invalid", key=unknown[0])
    out: dict[str, Any] = {}
    for key, allowed in (("risk_kinds", RISK_KINDS), ("sentiments", SENTIMENTS), ("author_marks", AUTHOR_MARKS)):
        values = _strings(raw.get(key), key)
        bad = [v for v in values if v not in allowed]
        if bad:
            raise ValidationError(f"{key}: unknown {bad}", reason="automation_condition_invalid", key=key)
        if values:
            out[key] = sorted(set(values))
    for key in ("platforms", "accounts"):
        values = _strings(raw.get(key), key)
        if values:
            out[key] = sorted(set(values))
    keywords = _strings(raw.get("keywords"), "keywords")
    if len(keywords) > MAX_KEYWORDS:
        raise ValidationError("too many keywords", reason="automation_too_many_keywords", max=MAX_KEYWORDS)
    if keywords:
        out["keywords"] = list(dict.fromkeys(keywords))
    if not out:
        raise ValidationError("a rule needs at least one condition", reason="automation_no_condition")
    return out


def clean_actions(db: Database, raw: dict[str, Any]) -> dict[str, Any]:
    """Validated actions (agents exist and may be given messages, the incident exists...; at least one)."""
    unknown = sorted(set(raw) - set(ACTION_KEYS))
    if unknown:
        raise ValidationError(f"unknown actions {unknown}", reason="automation_action_invalid", key=unknown[0])
    out: dict[str, Any] = {}
    team: list[int] = []
    if raw.get("assign_to") not in (None, ""):
        team = [int(raw["assign_to"])]
        out["assign_to"] = team[0]
    if raw.get("assign_team"):
        if "assign_to" in out:
            raise ValidationError("assign to a person or to a team, not both", reason="automation_action_invalid",
                                  key="assign_team")
        team = sorted({int(a) for a in raw["assign_team"]})
        out["assign_team"] = team
    for agent_id in team:
        agent = repo.get_agent(db, agent_id)
        if not can(agent, Action.INBOX_TRIAGE):
            raise ValidationError(f"{agent.email} cannot be given messages", reason="automation_assignee_invalid",
                                  email=agent.email)
    tag = str(raw.get("tag") or "").strip().lower()
    if tag:
        if len(tag) > 40:
            raise ValidationError("tag too long", reason="automation_action_invalid", key="tag")
        out["tag"] = tag
    if raw.get("priority") not in (None, ""):
        value = float(raw["priority"])
        if not 0 <= value <= 100:
            raise ValidationError("priority between 0 and 100", reason="automation_action_invalid", key="priority")
        out["priority"] = value
    if raw.get("hide"):
        if raw["hide"] not in HIDE_GROUNDS:
            raise ValidationError("hide as spam or personal data only", reason="automation_action_invalid",
                                  key="hide")
        out["hide"] = raw["hide"]
    if raw.get("duplicate_of"):
        uid = str(raw["duplicate_of"]).strip()
        repo.get_item(db, uid)  # NotFoundError if the incident's message is unknown
        out["duplicate_of"] = uid
    if not out:
        raise ValidationError("a rule needs at least one action", reason="automation_no_action")
    return out


def _keyword_pattern(keywords: list[str]) -> re.Pattern[str] | None:
    words = [re.escape(fold(k)).replace(r"\ ", r"\s+") for k in keywords if fold(k).strip()]
    return re.compile(r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)") if words else None


def matches(conditions: dict[str, Any], item: InboxItem, mark: str | None) -> bool:
    """Whether ``item`` (whose author carries ``mark``) meets every given condition."""
    m = item.mention
    if conditions.get("platforms") and str(m.platform) not in conditions["platforms"]:
        return False
    if conditions.get("accounts") and (m.account or "") not in conditions["accounts"]:
        return False
    if conditions.get("risk_kinds"):
        kinds = {str(f.get("kind")) for f in item.risk_flags if float(f.get("score", 0) or 0) >= RISK_MIN}
        if not kinds & set(conditions["risk_kinds"]):
            return False
    if conditions.get("sentiments") and item.sentiment not in conditions["sentiments"]:
        return False
    if conditions.get("author_marks"):
        wanted = set(conditions["author_marks"])
        ok = (mark in wanted) or ("marked" in wanted and mark is not None) or ("unmarked" in wanted and mark is None)
        if not ok:
            return False
    if conditions.get("keywords"):
        pattern = _keyword_pattern(conditions["keywords"])
        if pattern is None or not pattern.search(fold(m.text or "")):
            return False
    return True


def describe_actions(actions: dict[str, Any], names: dict[int, str] | None = None) -> list[str]:
    """What the actions do, in French (the page, the dry run, the audit)."""
    names = names or {}
    out = []
    if "assign_to" in actions:
        out.append(f"assigner à {names.get(actions['assign_to'], actions['assign_to'])}")
    if "assign_team" in actions:
        out.append("assigner à tour de rôle à " + ", ".join(str(names.get(a, a)) for a in actions["assign_team"]))
    if "tag" in actions:
        out.append(f"étiqueter « {actions['tag']} »")
    if "priority" in actions:
        out.append(f"priorité {actions['priority']:.0f}")
    if "hide" in actions:
        out.append("masquer comme spam" if actions["hide"] == "spam"
                   else "masquer (donnée personnelle exposée, RGPD)")
    if "duplicate_of" in actions:
        out.append(f"clore comme doublon de l'incident {actions['duplicate_of']}")
    return out


def _manager(actor: Agent) -> None:
    require(actor, Action.AUTOMATION_MANAGE)


def list_rules(db: Database, *, viewer: Agent) -> list[Rule]:
    """Every rule, oldest first."""
    _manager(viewer)
    return [Rule(stored=r) for r in rules_repo.list_rules(db)]


def save_rule(db: Database, actor: Agent, *, name: str, conditions: dict[str, Any], actions: dict[str, Any],
              now: datetime, rule_id: int | None = None) -> Rule:
    """Create a rule (switched off) or change one (switched off again: it must be tried before it acts)."""
    _manager(actor)
    title = (name or "").strip()
    if not title or len(title) > 120:
        raise ValidationError("a rule needs a name (120 characters at most)", reason="automation_name_invalid")
    conds = clean_conditions(conditions)
    with write_transaction(db):
        acts = clean_actions(db, actions)
        if rule_id is None:
            rule_id = rules_repo.insert_rule(db, name=title, conditions=conds, actions=acts, agent_id=actor.id,
                                             now=now)
        else:
            rules_repo.get_rule(db, rule_id)
            rules_repo.update_rule(db, rule_id, name=title, conditions=conds, actions=acts, now=now)
        audit.record(db, audit.AutomationRuleSaved(
            actor=actor.email, role=actor.role, subject=f"automation-rule:{rule_id}", rule_id=rule_id,
            rule_name=title, conditions=_json(conds), actions=_json(acts)), at=now)
    return Rule(stored=rules_repo.get_rule(db, rule_id))


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class DryRun:
    """« Ce qu'elle aurait fait » : over the last ``days``, how many messages the rule would have acted on, out of
    how many, what it would have done, and the first examples."""

    rule_id: int
    days: int
    scanned: int
    matched: int
    actions: list[str]
    examples: list[InboxItem] = field(default_factory=list)
    by_platform: dict[str, int] = field(default_factory=dict)


def dry_run(db: Database, actor: Agent, rule_id: int, *, now: datetime, days: int = DRY_RUN_DAYS,
            examples: int = 10) -> DryRun:
    """Try the rule on the messages of the last ``days`` without acting; remembered (it may then be switched on)
    and audited."""
    _manager(actor)
    stored = rules_repo.get_rule(db, rule_id)
    marks = author_marks_repo.marks(db)
    items = rules_repo.created_since(db, since=now - timedelta(days=days))
    hit = [i for i in items if matches(stored.conditions, i,
                                       marks.get((str(i.mention.platform), i.mention.author.platform_id)))]
    with write_transaction(db):
        rules_repo.set_dry_run(db, rule_id, matches=len(hit), now=now)
        audit.record(db, audit.AutomationRuleTried(actor=actor.email, role=actor.role,
                                                   subject=f"automation-rule:{rule_id}", rule_id=rule_id, days=days,
                                                   matches=len(hit)), at=now)
    names = {a.id: a.name for a in repo.list_agents(db, active_only=False)}
    return DryRun(rule_id=rule_id, days=days, scanned=len(items), matched=len(hit),
                  actions=describe_actions(stored.actions, names), examples=hit[-examples:][::-1],
                  by_platform=dict(Counter(str(i.mention.platform) for i in hit)))


def switch(db: Database, actor: Agent, rule_id: int, *, enabled: bool, now: datetime) -> Rule:
    """Switch a rule on (only once tried: « ce qu'elle aurait fait »; a hiding rule needs someone allowed to
    moderate) or off."""
    _manager(actor)
    with write_transaction(db):
        stored = rules_repo.get_rule(db, rule_id)
        if enabled:
            if stored.dry_run_at is None:
                raise ValidationError("try the rule on the last 30 days before switching it on",
                                      reason="automation_not_tried", days=DRY_RUN_DAYS)
            if "hide" in stored.actions:
                require(actor, Action.MODERATE)
        rules_repo.set_enabled(db, rule_id, enabled, agent_id=actor.id, now=now)
        audit.record(db, audit.AutomationRuleSwitched(actor=actor.email, role=actor.role,
                                                      subject=f"automation-rule:{rule_id}", rule_id=rule_id,
                                                      enabled=enabled), at=now)
    return Rule(stored=rules_repo.get_rule(db, rule_id))


def _enabler(db: Database, stored: rules_repo.StoredRule) -> Agent | None:
    if stored.enabled_by is None:
        return None
    try:
        agent = repo.get_agent(db, stored.enabled_by)
    except NotFoundError:
        return None
    return agent if can(agent, Action.AUTOMATION_MANAGE) else None


def _apply_one(db: Database, stored: rules_repo.StoredRule, who: Agent, item: InboxItem, *, now: datetime
               ) -> list[str]:
    """The rule's actions on one message except hiding, in the caller's transaction; returns what it did."""
    uid, acts, done = item.uid, stored.actions, []
    actor = {"actor": who.email, "role": who.role, "subject": uid}
    team = acts.get("assign_team") or ([acts["assign_to"]] if "assign_to" in acts else [])
    if team:
        target = team[rules_repo.next_rotation(db, stored.id) % len(team)] if len(team) > 1 else team[0]
        before = repo.set_assignee(db, uid, target, now=now)
        audit.record(db, audit.MentionAssigned(**actor, before=before, after=target), at=now)
        if item.status is Status.NEW:
            repo.set_status(db, uid, Status.ASSIGNED, now=now)
            audit.record(db, audit.StatusChanged(**actor, before=str(Status.NEW), after=str(Status.ASSIGNED)),
                         at=now)
        done.append(f"assign:{target}")
    if "tag" in acts and repo.add_tag(db, uid, acts["tag"]):
        audit.record(db, audit.TagAdded(**actor, tag=acts["tag"]), at=now)
        done.append(f"tag:{acts['tag']}")
    if "priority" in acts:
        rules_repo.set_priority_floor(db, uid, float(acts["priority"]))
        done.append(f"priority:{acts['priority']:.0f}")
    if "duplicate_of" in acts and acts["duplicate_of"] != uid:
        if repo.add_tag(db, uid, DUPLICATE_TAG):
            audit.record(db, audit.TagAdded(**actor, tag=DUPLICATE_TAG), at=now)
        text = f"Doublon de l'incident {acts['duplicate_of']} (règle n° {stored.id} « {stored.name} »)."
        note_id = repo.add_note(db, uid, who.id, text, now=now)
        audit.record(db, audit.NoteAdded(**actor, note_id=note_id, text=text), at=now)
        current = repo.get_item(db, uid).status
        if current in OPEN_STATUSES:
            repo.set_status(db, uid, Status.CLOSED, now=now)
            audit.record(db, audit.StatusChanged(**actor, before=str(current), after=str(Status.CLOSED)), at=now)
        done.append(f"duplicate_of:{acts['duplicate_of']}")
    return done


def apply_rules(db: Database, settings: Settings, *, now: datetime) -> int:
    """Run every switched-on rule on the messages ingested since it was switched on and not yet seen by it; return
    how many (rule, message) runs acted. Hiding goes through the moderation outbox as the person who switched the
    rule on (a refusal or an uncertain act is left to the outbox and the queue, and logged)."""
    from services.moderation import actions as moderation_actions  # actions imports the queue, which is heavier

    acted = 0
    marks = author_marks_repo.marks(db)
    for stored in rules_repo.list_rules(db, enabled_only=True):
        who = _enabler(db, stored)
        if who is None or stored.enabled_at is None:
            log.warning("automation rule %s skipped: whoever switched it on may no longer manage rules", stored.id)
            continue
        for item in rules_repo.candidates(db, since=stored.enabled_at, rule_id=stored.id):
            mark = marks.get((str(item.mention.platform), item.mention.author.platform_id))
            if not matches(stored.conditions, item, mark):
                with write_transaction(db):
                    rules_repo.record_run(db, stored.id, item.uid, [], now=now)  # seen: not looked at again
                continue
            with write_transaction(db):
                if not rules_repo.record_run(db, stored.id, item.uid, ["pending"], now=now):
                    continue
                done = _apply_one(db, stored, who, item, now=now)
                planned = done + ([f"hide:{stored.actions['hide']}"] if "hide" in stored.actions else [])
                audit.record(db, audit.AutomationApplied(actor=who.email, role=who.role, subject=item.uid,
                                                         rule_id=stored.id, rule_name=stored.name,
                                                         actions=tuple(planned)), at=now)
            acted += 1
            if "hide" in stored.actions and not item.hidden:
                try:
                    moderation_actions.restrict(db, settings, item.uid, "hide", stored.actions["hide"], actor=who,
                                                now=now, note=f"Règle automatique n° {stored.id} « {stored.name} »")
                except ParvisError as err:
                    log.warning("automation rule %s: hiding %s not done: %s", stored.id, item.uid, err)
    return acted


def apply_rules_safely(db: Database, settings: Settings, *, now: datetime) -> int:
    """:func:`apply_rules` for the worker's sync jobs: an error is logged, never stops the sync."""
    try:
        return apply_rules(db, settings, now=now)
    except Exception:  # noqa: BLE001 - the worker must keep syncing; the error is logged with its traceback
        log.exception("automation rules failed")
        return 0


def respect_priority_floors(db: Database, changes: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """The re-prioritisation's ``changes`` with the priorities rules set kept as floors."""
    return rules_repo.respect_floors(db, changes)


ROLES_THAT_MANAGE = (Role.DIRECTOR, Role.ADMIN)
