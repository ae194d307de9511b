"""Automation rules (issue #17): conditions, actions, audit by the rule and whoever switched it on, the dry run
over 30 days before switching on, roles, and the worker applying them right after a sync."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from connectors.base import Capability, ConnectorInfo
from core import audit, repo
from core.config import Settings
from core.errors import NotFoundError, PermissionDenied, ValidationError
from core.models import Platform, Status
from core.repo import outbox as acts_repo
from services.moderation import automation as auto
from tests.conftest import make_mention

PHONE = {"kind": "personal_data", "score": 0.8, "spans": [[0, 5]]}
URGENT = {"kind": "urgent", "score": 0.95, "spans": [[0, 5]]}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, db_path=tmp_path / "p.db", values={"PARVIS_DEMO": "1"})


def _store(db, when, text, *, pid, flags=(), platform=Platform.X, sentiment="neutral", author="camille",
           account=None):
    m = make_mention(text, pid=pid, platform=platform, author=author, created_at=when)
    if account:
        from dataclasses import replace
        m = replace(m, account=account)
    repo.upsert_mentions(db, [m], now=when, scores=[repo.Scores(risk_score=0.9 if flags else 0.0,
                                                                 risk_flags=tuple(flags), sentiment=sentiment,
                                                                 sentiment_confidence=0.9, priority=40.0)])
    return m.uid


def _item(db, uid):
    return repo.get_item(db, uid)


def test_conditions(db, now, agents):
    uid = _store(db, now, "Arbre tombé rue Pasteur, DANGER", pid="a", flags=(URGENT,), sentiment="negative")
    item = _item(db, uid)
    assert auto.matches({"risk_kinds": ["urgent"]}, item, None)
    assert not auto.matches({"risk_kinds": ["threat"]}, item, None)
    assert auto.matches({"keywords": ["arbre tombe"]}, item, None)  # accents and case ignored, phrase
    assert not auto.matches({"keywords": ["arbres"]}, item, None)  # whole words
    assert auto.matches({"platforms": ["x"], "sentiments": ["negative"]}, item, None)
    assert not auto.matches({"platforms": ["facebook"]}, item, None)
    assert auto.matches({"author_marks": ["unmarked"]}, item, None)
    assert not auto.matches({"author_marks": ["marked"]}, item, None)
    assert auto.matches({"author_marks": ["marked"]}, item, "opposition")
    assert auto.matches({"author_marks": ["elected"]}, item, "elected")
    assert not auto.matches({"accounts": ["ville"]}, item, None)
    with pytest.raises(ValidationError):
        auto.clean_conditions({})
    with pytest.raises(ValidationError):
        auto.clean_conditions({"risk_kinds": ["menace"]})
    with pytest.raises(ValidationError):
        auto.clean_conditions({"colour": ["red"]})


def test_roles_manage_rules(db, now, agents):
    spec = {"name": "Tempête", "conditions": {"keywords": ["arbre"]}, "actions": {"tag": "tempête"}}
    for who in ("julie", "marc"):
        with pytest.raises(PermissionDenied):
            auto.save_rule(db, agents[who], now=now, **spec)
    rule = auto.save_rule(db, agents["admin"], now=now, **spec)
    assert auto.list_rules(db, viewer=agents["sophie"])[0].id == rule.id
    with pytest.raises(PermissionDenied):
        auto.list_rules(db, viewer=agents["julie"])
    with pytest.raises(ValidationError):  # legal staff are not given messages
        auto.save_rule(db, agents["sophie"], name="x", conditions={"keywords": ["a"]},
                       actions={"assign_to": agents["marc"].id}, now=now)
    with pytest.raises(ValidationError):
        auto.save_rule(db, agents["sophie"], name="x", conditions={"keywords": ["a"]}, actions={"hide": "insult"},
                       now=now)
    with pytest.raises(NotFoundError):
        auto.save_rule(db, agents["sophie"], name="x", conditions={"keywords": ["a"]},
                       actions={"duplicate_of": "x:nope"}, now=now)


def test_dry_run_first_then_switch_on_then_applied_and_audited(db, now, agents, settings):
    old = [_store(db, now - timedelta(days=d), f"Arbre tombé rue {d}", pid=f"old{d}", flags=(URGENT,))
           for d in (1, 5, 29, 31)]
    incident = _store(db, now - timedelta(days=2), "Tempête : 40 arbres tombés, services mobilisés", pid="inc")
    rule = auto.save_rule(db, agents["sophie"], name="Tempête", now=now,
                          conditions={"keywords": ["arbre tombé"], "risk_kinds": ["urgent"]},
                          actions={"tag": "tempête", "duplicate_of": incident, "priority": 20})
    with pytest.raises(ValidationError, match="30"):
        auto.switch(db, agents["sophie"], rule.id, enabled=True, now=now)
    tried = auto.dry_run(db, agents["sophie"], rule.id, now=now)
    assert (tried.matched, tried.scanned) == (3, 4)  # 31 days old is out; the incident itself does not match
    assert "clore comme doublon de l'incident x:inc" in tried.actions
    assert {e.uid for e in tried.examples} == set(old[:3])
    assert repo.get_item(db, old[0]).status is Status.NEW  # a dry run changes nothing
    auto.switch(db, agents["sophie"], rule.id, enabled=True, now=now)
    later = now + timedelta(minutes=5)
    new = _store(db, later, "Un arbre tombé bloque la rue des Écoles", pid="new", flags=(URGENT,))
    other = _store(db, later, "Merci pour le marché", pid="other")
    assert auto.apply_rules(db, settings, now=later) == 1
    assert auto.apply_rules(db, settings, now=later) == 0  # once per message
    item = repo.get_item(db, new)
    assert item.status is Status.CLOSED and {"tempête", "doublon"} <= set(item.tags) and item.priority == 20
    assert repo.get_item(db, old[0]).status is Status.NEW  # only messages after it was switched on
    assert repo.get_item(db, other).tags == ()
    [applied] = [e for e in audit.events_for(db, new) if e["event"] == "automation-applied"]
    assert applied["actor"] == "sophie@valmont.fr" and applied["properties"]["rule_id"] == rule.id
    assert {e["event"] for e in audit.events_for(db, new)} >= {"tag-added", "status-changed", "note-added"}
    assert all(e["actor"] == "sophie@valmont.fr" for e in audit.events_for(db, new)
               if e["event"] in ("tag-added", "status-changed"))
    # a change switches it off: it must be tried again
    changed = auto.save_rule(db, agents["sophie"], rule_id=rule.id, name="Tempête 2", now=later,
                             conditions={"keywords": ["arbre"]}, actions={"tag": "tempête"})
    assert not changed.stored.enabled and changed.stored.dry_run_at is None


def test_team_rotation_and_priority_floor(db, now, agents, settings):
    team = [agents["julie"].id, agents["karim"].id]
    rule = auto.save_rule(db, agents["sophie"], name="Voirie", now=now, conditions={"keywords": ["trou"]},
                          actions={"assign_team": team, "priority": 70})
    auto.dry_run(db, agents["sophie"], rule.id, now=now)
    auto.switch(db, agents["sophie"], rule.id, enabled=True, now=now)
    later = now + timedelta(minutes=1)
    uids = [_store(db, later, f"Un trou rue {i}", pid=f"t{i}") for i in range(3)]
    assert auto.apply_rules(db, settings, now=later) == 3
    assert [repo.get_item(db, u).assigned_to for u in uids] == [team[0], team[1], team[0]]
    assert all(repo.get_item(db, u).status is Status.ASSIGNED for u in uids)
    assert auto.respect_priority_floors(db, [(uids[0], 35.0), ("x:other", 10.0)]) == [(uids[0], 70.0),
                                                                                        ("x:other", 10.0)]


def test_hide_exposed_personal_data_through_the_moderation_outbox(db, now, agents, settings, monkeypatch):
    calls = []

    class Fake:
        info = ConnectorInfo(platform=Platform.X, name="fake", capabilities=frozenset({Capability.HIDE}))
        name = "fake"

        def hide(self, mention):  # noqa: ANN001, ANN201
            calls.append(mention.platform_id)

    monkeypatch.setattr("services.connections.assembly.connector_for", lambda s, m: Fake())
    rule = auto.save_rule(db, agents["admin"], name="Téléphones", now=now,
                          conditions={"risk_kinds": ["personal_data"]}, actions={"hide": "personal_data"})
    auto.dry_run(db, agents["admin"], rule.id, now=now)
    with pytest.raises(PermissionDenied):  # hiding is moderation: an administrator may not switch it on
        auto.switch(db, agents["admin"], rule.id, enabled=True, now=now)
    auto.switch(db, agents["sophie"], rule.id, enabled=True, now=now)
    later = now + timedelta(minutes=1)
    uid = _store(db, later, "appelez-moi au 06 12 34 56 78", pid="pd", flags=(PHONE,))
    assert auto.apply_rules(db, settings, now=later) == 1
    assert calls == ["pd"] and repo.get_item(db, uid).hidden
    [event] = [e for e in audit.events_for(db, uid) if e["event"] == "mention-hidden"]
    assert event["properties"]["ground"] == "personal_data" and event["actor"] == "sophie@valmont.fr"
    assert [a.action for a in acts_repo.acts_in_state(db, ["done"])] == ["hide"]
