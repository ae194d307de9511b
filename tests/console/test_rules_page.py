"""The « Règles » page through AppTest (issue #17): directors and administrators only; a rule written in the form,
tried on the last 30 days (« ce qu'elle aurait fait » shown), then switched on; the worker-side application is in
tests/services/test_automation_rules.py."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from console.ui.deps import AGENT_KEY
from core import repo
from core.repo import automation as rules_repo
from services.moderation import automation  # loaded before AppTest puts pages/ (moderation.py) on sys.path
from tests.conftest import make_mention

ROOT = Path(__file__).resolve().parents[2]
PAGE = "console/ui/pages/rules.py"


@pytest.fixture
def setup(db_path, db, agents, now, monkeypatch):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    monkeypatch.setenv("PARVIS_DATA_DIR", str(db_path.parent))
    monkeypatch.setattr("console.ui.deps.now", lambda: now)
    ms = [make_mention(f"Arbre tombé rue {i} <b>vite</b>", pid=f"s{i}", created_at=now - timedelta(days=i))
          for i in range(3)] + [make_mention("Merci pour le marché", pid="m")]
    repo.upsert_mentions(db, ms, now=now)
    return db


def open_as(agent) -> AppTest:
    page = AppTest.from_file(str(ROOT / PAGE), default_timeout=30)
    page.session_state[AGENT_KEY] = agent.id
    page.run()
    assert not page.exception, page.exception
    return page


@pytest.mark.parametrize("who", ["julie", "marc"])
def test_others_are_refused(setup, agents, who):
    page = open_as(agents[who])
    assert any("Accès refusé" in e.value for e in page.error) and not page.button


def test_write_try_then_switch_on(setup, db, agents):
    page = open_as(agents["sophie"])
    page.text_input(key="rule_new_name").input("Tempête")
    page.text_area(key="rule_new_keywords").input("arbre tombé")
    page.multiselect(key="rule_new_assign").select(agents["julie"].id).select(agents["karim"].id)
    page.text_input(key="rule_new_tag").input("tempête").run()
    page.button(key="rule_new_save").click().run()
    assert not page.exception and any("enregistrée" in s.value for s in page.success), [e.value for e in page.error]
    [rule] = rules_repo.list_rules(db)
    assert rule.actions == {"assign_team": sorted([agents["julie"].id, agents["karim"].id]), "tag": "tempête"}
    assert page.button(key=f"rule_on_{rule.id}").disabled  # not tried yet
    page.button(key=f"rule_try_{rule.id}").click().run()  # the last automation.DRY_RUN_DAYS days
    assert automation.DRY_RUN_DAYS == 30
    assert any("Ce qu'elle aurait fait" in m.value and "3 message(s) sur 4" in m.value for m in page.markdown)
    assert "Arbre tombé rue 0 <b>vite</b>" in [t.value for t in page.text]  # residents' text as text
    page.button(key=f"rule_on_{rule.id}").click().run()
    assert any("activée" in s.value for s in page.success)
    assert rules_repo.get_rule(db, rule.id).enabled and rules_repo.get_rule(db, rule.id).enabled_by == agents[
        "sophie"].id


def test_admin_manages_rules_too(setup, agents):
    page = open_as(agents["admin"])
    assert page.title[0].value == "Règles" and page.button(key="rule_new_save")
