"""The Audit page through Streamlit's AppTest: access by role, chain status, archive search, a message's history,
exports matching their manifest, legal holds and RGPD requests audited, a tampered chain shown as broken."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from console.ui.deps import AGENT_KEY
from core import audit, repo
from core.models import Published, Status
from services.archive import published as archive
from services.archive import retention
from tests.audit.conftest import tamper
from tests.conftest import make_mention

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = str(ROOT / "streamlit_app.py")
PAGE = "console/ui/pages/audit.py"


def _publish(db, agents, now, *, pid: str, text: str, body: str, author: str, approver: str):
    mention = make_mention(text, pid=pid, author="camille", conversation_id=f"conv-{pid}")
    repo.upsert_mentions(db, [mention], now=now)
    draft = repo.create_draft(db, mention_uid=mention.uid, author_id=agents[author].id, body=body,
                              signed_text=f"{body} — {agents[author].name.split()[0]}", platform=mention.platform,
                              charter_version=4, charter_result=[{"code": "tone_ok", "severity": "info"}], now=now)
    repo.save_draft(db, dataclasses.replace(draft, approver_id=agents[approver].id, sent_at=now))
    repo.set_status(db, mention.uid, Status.ANSWERED, now=now)
    return archive.archive_draft(db, repo.get_draft(db, draft.id),
                                 Published(platform_id=f"r-{pid}", permalink=f"https://x.com/valmont/status/r-{pid}"),
                                 now=now, account="@valmont", payload=json.dumps({"data": {"id": f"r-{pid}"}}))


@pytest.fixture
def messages(db, agents, now):
    """Two archived replies: one by Julie on waste collection, one by Karim on the Christmas market."""
    first = _publish(db, agents, now, pid="m1", text="Les poubelles ne sont pas ramassées rue des Lilas",
                     body="Merci, le service propreté passe demain.", author="julie", approver="sophie")
    second = _publish(db, agents, now + timedelta(hours=1), pid="m2", text="Horaires du marché de Noël ?",
                      body="Le marché ouvre à 10 h chaque jour.", author="karim", approver="sophie")
    return first, second


@pytest.fixture
def app(db_path, messages, monkeypatch):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    return AppTest.from_file(ENTRYPOINT, default_timeout=30)


def open_as(app: AppTest, agent) -> AppTest:
    app.run()
    app.selectbox(key="sidebar_agent").select(agent.id).run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def table(app: AppTest, column: str) -> list:
    """The values of ``column`` in the first dataframe that has it."""
    for frame in app.dataframe:
        if column in frame.value.columns:
            return list(frame.value[column])
    raise AssertionError(f"no table with a {column!r} column")


@pytest.mark.parametrize("who", ["marc", "sophie", "admin"])
def test_page_renders_for_readers_with_an_intact_chain(app, agents, messages, who):
    open_as(app, agents[who])
    assert app.title[0].value == "Audit et archives"
    assert any("Chaîne d'audit intacte" in s.value for s in app.success)
    assert sorted(table(app, "N°")[:2]) == sorted(m.id for m in messages)
    assert [t.label for t in app.tabs] == ["Archive des publications", "Journal d'audit", "Gels juridiques",
                                          "Demandes RGPD"]


def test_community_manager_is_refused(db_path, agents, messages, monkeypatch):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    page = AppTest.from_file(str(ROOT / PAGE), default_timeout=30)
    page.session_state[AGENT_KEY] = agents["julie"].id
    page.run()
    assert not page.exception
    assert any("réservée au service juridique" in e.value for e in page.error)
    assert not page.dataframe and not page.tabs and not page.button


def test_navigation_offers_the_page_to_readers_only(app, agents):
    app.run()
    app.selectbox(key="sidebar_agent").select(agents["julie"].id).run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # not in a manager's navigation
        app.switch_page(PAGE)
    open_as(app, agents["marc"])
    assert app.title[0].value == "Audit et archives"


def test_search_and_filters_find_archived_messages(app, agents, messages):
    open_as(app, agents["marc"])
    app.text_input(key="audit_arch_keyword").input("proprete").run()  # accents ignored
    assert table(app, "Texte publié") == ["Merci, le service propreté passe demain. — Julie"]
    app.text_input(key="audit_arch_keyword").input("").run()
    app.selectbox(key="audit_arch_agent").select("karim@valmont.fr").run()
    assert table(app, "N°") == [messages[1].id]
    app.text_input(key="audit_arch_keyword").input("introuvablezz").run()
    assert any("Aucun message archivé" in i.value for i in app.info)


def test_history_shows_the_message_as_sent_and_later_changes(app, db, agents, messages, now):
    first, edited = messages[0], "Merci, le service propreté passe demain matin. — Julie"
    archive.record_change(db, platform="x", platform_id=first.platform_id, change="edited",
                          seen_at=now + timedelta(hours=2), text=edited)
    archive.record_change(db, platform="x", platform_id=first.platform_id, change="hidden",
                          seen_at=now + timedelta(hours=3))
    open_as(app, agents["marc"])
    app.session_state["audit_selected"] = first.id
    app.run()
    assert not app.exception
    texts = [t.value for t in app.text]
    assert "Merci, le service propreté passe demain. — Julie" in texts  # as sent, never overwritten
    assert "Les poubelles ne sont pas ramassées rue des Lilas" in texts  # the mention answered
    assert table(app, "Changement") == ["Modifié", "Masqué"]
    assert table(app, "Nouveau texte")[0] == edited
    facts = dict(zip(table(app, "Élément"), table(app, "Valeur"), strict=True))
    assert facts["Statut actuel"] == "Masqué"
    assert facts["Approbateur"] == "Sophie Laurent <sophie@valmont.fr>"
    assert facts["Version de la charte"] == "4"
    assert facts["Identifiant sur la plateforme"] == first.platform_id
    assert facts["Lien permanent"] == first.permalink
    assert any(s.value == f"Historique du message archivé n° {first.id}" for s in app.subheader)
    app.button(key="audit_close_history").click().run()
    assert not any(s.value.startswith("Historique du message") for s in app.subheader)


def _check_package(zip_data: bytes) -> dict:
    files = zipfile.ZipFile(io.BytesIO(zip_data))
    manifest = json.loads(files.read("manifest.json"))
    for entry in manifest["files"]:
        data = files.read(entry["name"])
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["bytes"]
    sums = files.read("SHA256SUMS").decode()
    assert f"{hashlib.sha256(files.read('manifest.json')).hexdigest()}  manifest.json" in sums
    return manifest


def test_archive_export_download_matches_its_manifest(app, db, agents, messages):
    open_as(app, agents["marc"])  # exports are legal staff's (issue #15 finding 8; was the director)
    app.button(key="export_archive").click().run()
    assert not app.exception
    labels = [b.label for b in app.get("download_button")]
    assert any(".zip" in label for label in labels) and "Télécharger le rapport PDF" in labels
    download, _ = app.session_state["audit_export_archive"]  # the bytes given to the download buttons
    manifest = _check_package(download.zip_bytes)
    assert {f["name"] for f in manifest["files"]} == {"archive.csv", "archive.json", "archive.pdf"}
    assert manifest["verified"] is True and len(manifest["messages"]) == 2
    assert download.pdf_bytes.startswith(b"%PDF")
    assert hashlib.sha256(download.pdf_bytes).hexdigest() == download.result.files["archive.pdf"]
    exported = audit.select_events(db, events=("export-created",))
    assert [e["actor"] for e in exported] == ["marc@valmont.fr"]
    assert json.loads(exported[0]["properties"])["manifest_sha256"] == download.result.manifest_sha256


def test_audit_events_filter_and_export(app, db, agents):
    open_as(app, agents["marc"])
    app.multiselect(key="audit_ev_events").select("message-archived").run()
    assert set(table(app, "Événement")) == {"Publication archivée"}  # French labels (issue #17)
    app.button(key="export_audit").click().run()
    download, _ = app.session_state["audit_export_events"]
    manifest = _check_package(download.zip_bytes)
    assert manifest["segment"]["count"] == 2 and manifest["selection"]["events"] == ["message-archived"]


def test_head_export_is_recorded(app, db, agents):
    open_as(app, agents["marc"])
    head = audit.chain_head(db)
    app.button(key="export_head").click().run()
    assert any(f"hash: {head['hash']}" in c.value for c in app.code)
    assert any(b.label == "Télécharger la tête (.txt)" for b in app.get("download_button"))
    last = audit.select_events(db, newest_first=True, limit=1)[0]
    assert last["event"] == "audit-head-exported" and last["actor"] == "marc@valmont.fr"


def test_legal_hold_set_and_lift_are_audited(app, db, agents, messages):
    open_as(app, agents["marc"])
    app.text_input(key="audit_hold_uid").input(messages[0].in_reply_to)
    app.text_input(key="audit_hold_reason").input("Plainte TJ 2026/118")
    app.button(key="hold_set").click().run()
    assert not app.exception
    [hold] = retention.holds(db)
    assert (hold.scope, hold.key, hold.reason) == ("conversation", "conv-m1", "Plainte TJ 2026/118")
    assert any(f"Gel juridique n° {hold.id} posé" in s.value for s in app.success)
    app.text_input(key=f"audit_lift_reason_{hold.id}").input("Affaire classée")
    app.button(key=f"lift_{hold.id}").click().run()
    assert retention.holds(db) == []
    events = audit.select_events(db, events=("legal-hold-set", "legal-hold-lifted"))
    assert [(e["event"], e["actor"]) for e in events] == [("legal-hold-set", "marc@valmont.fr"),
                                                          ("legal-hold-lifted", "marc@valmont.fr")]


def test_hold_without_reason_is_refused_with_a_message(app, db, agents, messages):
    open_as(app, agents["marc"])
    app.text_input(key="audit_hold_uid").input(messages[0].in_reply_to)
    app.button(key="hold_set").click().run()
    assert retention.holds(db) == [] and any("Un gel juridique a besoin d'un motif" in e.value for e in app.error)


def test_rgpd_access_and_erasure_keep_the_record(app, db, agents, messages):
    open_as(app, agents["marc"])
    app.text_input(key="audit_rgpd_query").input("@camille")
    app.button(key="rgpd_access").click().run()
    result, data = app.session_state["audit_rgpd_access"]
    assert hashlib.sha256(data).hexdigest() == result.sha256
    assert len(json.loads(data)["record"]["messages_received"]) == 2
    assert any(b.label == "Télécharger la réponse (JSON)" for b in app.get("download_button"))
    assert app.button(key="rgpd_erase").disabled  # identity not confirmed yet
    app.checkbox(key="audit_rgpd_confirm").check().run()
    app.button(key="rgpd_erase").click().run()
    assert not app.exception
    assert any("Effacement effectué" in s.value for s in app.success)
    assert any("article 17(3)(d)" in i.value for i in app.info)
    assert repo.get_item(db, messages[0].in_reply_to).mention.author.display_name in (None, "")
    assert [e["event"] for e in audit.select_events(db, events=("rgpd-access", "rgpd-erasure"))] == [
        "rgpd-access", "rgpd-erasure"]


def test_tampered_chain_is_shown_broken_and_exports_refused(app, db_path, agents):
    tamper(db_path, "UPDATE audit_log SET actor = 'quelqu.un@valmont.fr' WHERE id = 1")
    open_as(app, agents["marc"])
    assert any("ROMPUE à l'événement n° 1" in e.value for e in app.error)
    app.button(key="export_archive").click().run()
    assert any("Intégrité du journal d'audit rompue" in e.value for e in app.error)
    assert "audit_export_archive" not in app.session_state


def test_deleted_event_and_dropped_triggers_are_reported(app, db_path, agents):
    tamper(db_path, "DELETE FROM audit_log WHERE id = 1", restore_guards=False)
    open_as(app, agents["marc"])
    errors = " ".join(e.value for e in app.error)
    assert "ROMPUE à l'événement n° 2" in errors and "supprimé" in errors
    assert any("déclencheurs manquants" in w.value for w in app.warning)
