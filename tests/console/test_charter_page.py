"""The Charte éditoriale page through AppTest: every role reads it, only the director edits it (each save a new,
audited version), YAML export/import round trip with clear errors, and the draft tester's findings."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from console.ui.deps import AGENT_KEY
from core import audit, repo
from editorial.charter_yaml import load_yaml

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = str(ROOT / "streamlit_app.py")
PAGE = "console/ui/pages/charter.py"


@pytest.fixture
def app(db_path, db, agents, now, monkeypatch):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    monkeypatch.setattr("console.ui.deps.now", lambda: now)  # the période de réserve depends on the date
    return AppTest.from_file(ENTRYPOINT, default_timeout=30)


def open_as(app: AppTest, agent) -> AppTest:
    app.run()
    app.selectbox(key="sidebar_agent").select(agent.id).run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def yaml_shown(app: AppTest) -> str:
    return next(c.value for c in app.code if c.language == "yaml")


def texts(elements) -> list[str]:
    """Element values without Markdown escapes (error messages quoting user input are escaped)."""
    return [str(e.value).replace("\\", "") for e in elements]


def findings(app: AppTest):
    """The tester's findings table, cells unescaped."""
    frame = next(t.value for t in app.table if "Passage" in t.value.columns)
    return frame.map(lambda v: str(v).replace("\\", ""))


def table(app: AppTest, column: str):
    """The first dataframe that has ``column``."""
    for frame in app.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with a {column!r} column")


@pytest.mark.parametrize("who", ["julie", "marc", "admin"])
def test_other_roles_read_test_and_export_but_cannot_edit(app, agents, who):
    open_as(app, agents[who])
    assert app.title[0].value == "Charte éditoriale"
    assert any("Version en vigueur : 0" in c.value for c in app.caption)
    assert any("Lecture seule" in i for i in texts(app.info))
    labels = [t.label for t in app.tabs]
    assert "Modifier" not in labels and "Tester un brouillon" in labels
    assert not [b for b in app.button if b.key in ("charter_save", "charter_import")]
    assert not app.file_uploader
    assert [b.key for b in app.download_button] == ["charter_export"]
    assert "name: Charte éditoriale" in yaml_shown(app)


def test_director_sees_the_editor(app, agents):
    open_as(app, agents["sophie"])
    assert "Modifier" in [t.label for t in app.tabs]
    assert app.button(key="charter_save") and app.file_uploader(key="charter_import_file")
    assert not any("Lecture seule" in i for i in texts(app.info))


def test_no_agent_is_asked_to_choose(db_path, db, monkeypatch):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    page = AppTest.from_file(str(ROOT / PAGE), default_timeout=30).run()
    assert not page.exception
    assert any("Choisissez votre nom d'agent" in w.value for w in page.warning)
    assert not page.tabs


def test_director_changes_a_rule_and_it_becomes_an_audited_version(app, db, agents):
    open_as(app, agents["sophie"])
    app.selectbox(key="charter_ed_rule_discouraged_term").select("block")
    app.text_input(key="charter_ed_comment").input("ton plus strict")
    app.button(key="charter_save").click().run()
    assert any("Version 1 de la charte enregistrée" in s for s in texts(app.success)), texts(app.error)
    row = repo.latest_charter(db)
    assert row["version"] == 1 and row["data"]["rules"]["discouraged_term"] == "block"
    assert row["created_by"] == "sophie@valmont.fr" and row["comment"] == "ton plus strict"
    events = audit.events_for(db, "charter:1")
    assert [(e["event"], e["actor"]) for e in events] == [("charter-changed", "sophie@valmont.fr")]
    assert events[0]["properties"]["comment"] == "ton plus strict" and events[0]["properties"]["source"] == "ui"
    assert any("Version en vigueur : 1" in c.value for c in app.caption)
    assert list(table(app, "Empreinte")["Version"]) == [1, 0]
    assert any("+  discouraged_term: block" in c.value for c in app.code if c.language == "diff")
    # the rule now blocks in the tester ("problème" is a discouraged term)
    app.text_area(key="charter_test_text").input("Un problème de collecte, nous regardons.").run()
    assert any("Bloqué par la charte" in e for e in texts(app.error))


def test_saving_without_change_creates_no_version(app, db, agents):
    open_as(app, agents["sophie"])
    app.button(key="charter_save").click().run()
    assert any("Aucune modification" in i for i in texts(app.info))
    assert repo.latest_charter(db) is None


def test_director_edits_terms_and_ballot_dates(app, db, agents):
    open_as(app, agents["sophie"])
    app.session_state["charter_ed_banned"] = {
        "edited_rows": {"0": {"Remplacement": "inadapté"}}, "deleted_rows": [3],
        "added_rows": [{"Terme": "nul", "Remplacement": "décevant", "Raison": "dévalorisant"}]}
    app.session_state["charter_ed_elections"] = {
        "edited_rows": {}, "deleted_rows": [],
        "added_rows": [{"Scrutin": "Municipales 2027", "1er tour": "2027-03-14", "2d tour": "2027-03-21"}]}
    app.text_area(key="charter_ed_allowed_domains").input("valmont.fr\nservice-public.fr\nvalmont-tourisme.fr")
    app.text_area(key="charter_ed_candidates").input("Jean Dupont")
    app.number_input(key="charter_ed_limit_facebook").set_value(2000)
    app.button(key="charter_save").click().run()
    assert not app.error, texts(app.error)
    data = repo.latest_charter(db)["data"]
    banned = {t["term"]: t.get("replacement", "") for t in data["terms"]["banned"]}
    assert banned == {"débile": "inadapté", "n'importe quoi": "une information inexacte",
                      "mensonge*": "information inexacte", "nul": "décevant"}
    assert data["reserve"]["elections"] == [{"name": "Municipales 2027", "rounds": ["2027-03-14", "2027-03-21"]}]
    assert data["reserve"]["candidates"] == ["Jean Dupont"] and data["limits"]["facebook"] == 2000
    assert "valmont-tourisme.fr" in data["allowed_domains"]
    # 23 Nov 2026 is inside the window of a March 2027 ballot (opened 1 Sep 2026): banner, and candidates warn
    assert any("Période de réserve (Municipales 2027) du 01/09/2026 au 21/03/2027" in w.value for w in app.warning)
    app.text_area(key="charter_test_text").input("Jean Dupont inaugure le gymnase.").run()
    found = findings(app)
    assert "Période de réserve : noms de candidats" in list(found["Règle"]) and "Jean Dupont" in list(found["Passage"])


def test_invalid_edit_is_refused_with_the_field_named(app, db, agents):
    open_as(app, agents["sophie"])
    app.session_state["charter_ed_banned"] = {"edited_rows": {}, "deleted_rows": [],
                                              "added_rows": [{"Terme": "ab*"}]}
    app.button(key="charter_save").click().run()
    assert any("terms" in e and "banned" in e and "3 lettres" in e for e in texts(app.error))
    assert repo.latest_charter(db) is None


def test_yaml_export_import_round_trip(app, db, agents):
    open_as(app, agents["sophie"])
    app.selectbox(key="charter_ed_rule_too_many_emoji").select("off")
    app.button(key="charter_save").click().run()
    exported = yaml_shown(app)
    assert "too_many_emoji: 'off'" in exported and "version: 1" in exported
    app.file_uploader(key="charter_import_file").upload("charte.yaml", exported.encode("utf-8"), "application/x-yaml")
    app.run()
    assert any("Fichier valide" in i for i in texts(app.info))
    app.text_input(key="charter_import_comment").input("réimport")
    app.button(key="charter_import").click().run()
    assert any("version 2 de la charte enregistrée" in s for s in texts(app.success)), texts(app.error)
    v1, v2 = repo.get_charter(db, 1), repo.get_charter(db, 2)
    assert v2["data"] == v1["data"] and v2["sha256"] == v1["sha256"] and v2["comment"] == "réimport"
    assert audit.events_for(db, "charter:2")[0]["properties"]["source"] == "import"
    assert load_yaml(yaml_shown(app)) == load_yaml(exported.replace("version: 1", "version: 2"))


def test_import_errors_are_clear_and_change_nothing(app, db, agents):
    open_as(app, agents["sophie"])
    bad = yaml.safe_dump({"name": "Charte", "rules": {"lenght": "block"}}).encode()
    app.file_uploader(key="charter_import_file").upload("charte.yaml", bad, "application/x-yaml")
    app.run()
    assert any("Fichier refusé" in e and "lenght" in e and "clé inconnue" in e
               for e in texts(app.error))
    app.button(key="charter_import").click().run()
    assert any("Import refusé" in e and "lenght" in e for e in texts(app.error))
    app.file_uploader(key="charter_import_file").clear()
    app.file_uploader(key="charter_import_file").upload("charte.yaml", "name: Été".encode("latin-1"),
                                                         "application/x-yaml")
    app.button(key="charter_import").click().run()
    assert any("UTF" in e for e in texts(app.error))
    assert repo.latest_charter(db) is None


def test_draft_tester_shows_spans_and_suggestions(app, agents):
    open_as(app, agents["julie"])
    text = "Quel problème ! Appelez Mme Durand au 06 12 34 56 78."
    app.text_area(key="charter_test_text").input(text).run()
    assert not app.exception
    rows = {r["Règle"]: r for r in findings(app).to_dict("records")}
    personal = rows["Données personnelles d'un administré"]  # the rule's French name, never its code
    assert personal["Passage"] == "06 12 34 56 78" and "Bloquant" in personal["Gravité"]
    start = text.index("06 12")
    assert personal["Position"] == f"{start}–{start + len('06 12 34 56 78')}"
    assert rows["Termes déconseillés"]["Passage"] == "problème"
    assert rows["Termes déconseillés"]["Suggestion"] == "difficulté"
    assert any("Bloqué par la charte" in e for e in texts(app.error))
    shown = texts(app.text)
    assert f"{text}\n— Julie" in shown  # the signed text, as it would go out
    assert any(t.startswith("Quel difficulté !") for t in shown)  # suggestions applied
    app.text_area(key="charter_test_text").input("Bonjour, la collecte passe demain matin.").run()
    assert any("Aucune remarque" in s for s in texts(app.success))


def test_director_cannot_edit_a_version_that_changed_meanwhile(app, db, agents, now):
    from editorial.charter_yaml import default_charter
    from services.editorial import charter as charters

    open_as(app, agents["sophie"])
    charters.save(db, agents["sophie"], default_charter(), now=now, comment="autre session")
    app.selectbox(key="charter_ed_rule_length").select("warn")
    app.button(key="charter_save").click().run()
    assert any("a changé entre-temps" in e for e in texts(app.error))
    assert repo.latest_charter(db)["version"] == 1


def test_page_refuses_inactive_agents(db_path, db, agents, monkeypatch):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    repo.update_agent(db, agents["julie"].id, active=False)
    page = AppTest.from_file(str(ROOT / PAGE), default_timeout=30)
    page.session_state[AGENT_KEY] = agents["julie"].id
    page.run()
    assert not page.exception and not page.tabs
    assert any("Choisissez votre nom d'agent" in w.value for w in page.warning)
