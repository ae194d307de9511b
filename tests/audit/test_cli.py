"""CLI: `audit verify` exit codes, countersigned head, exports, retention, RGPD and the audit bench."""

from __future__ import annotations

import json

import pytest

from console.cli import main
from tests.audit.conftest import tamper
from tests.audit.test_chain import rewrite_whole_chain


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_verify_exits_zero_when_intact(chain, db_path, capsys):
    code, out, _ = run(capsys, "audit", "verify", "--db", str(db_path))
    assert code == 0 and "10 event(s) verified" in out


@pytest.mark.parametrize(("statements", "broken"), [
    (["UPDATE audit_log SET actor = 'mallory@valmont.fr' WHERE id = 7"], 7),
    (["DELETE FROM audit_log WHERE id = 4"], 5),
])
def test_verify_names_the_first_broken_event(chain, db_path, capsys, statements, broken):
    tamper(db_path, *statements)
    code, _, err = run(capsys, "audit", "verify", "--db", str(db_path))
    assert code == 3 and f"BROKEN at event #{broken}" in err


def test_verify_reports_dropped_triggers(chain, db_path, capsys):
    tamper(db_path, restore_guards=False)
    code, _, err = run(capsys, "audit", "verify", "--db", str(db_path))
    assert code == 6 and "audit_log_no_update" in err


def test_exported_head_catches_a_whole_chain_rewrite(chain, db_path, tmp_path, capsys):
    head_file = tmp_path / "head.txt"
    code, out, _ = run(capsys, "audit", "head", "--db", str(db_path), "--out", str(head_file))
    assert code == 0 and "id: 10" in out and "hash: " in head_file.read_text(encoding="utf-8")
    assert run(capsys, "audit", "verify", "--db", str(db_path), "--head", str(head_file))[0] == 0
    rewrite_whole_chain(db_path, new_actor="mallory@valmont.fr")
    # self-consistent on its own (`audit head` also left a signed checkpoint, which catches it: tests/security)
    assert run(capsys, "audit", "verify", "--db", str(db_path), "--checkpoints", str(tmp_path / "none"))[0] == 0
    code, _, err = run(capsys, "audit", "verify", "--db", str(db_path), "--head", str(head_file))
    assert code == 4 and "rewritten or truncated" in err


def test_head_given_as_a_bare_hash_catches_truncation(chain, db_path, capsys):
    code, out, _ = run(capsys, "audit", "head", "--db", str(db_path), "--json")
    head = json.loads(out)
    tamper(db_path, f"DELETE FROM audit_log WHERE id >= {head['id']}")
    code, _, err = run(capsys, "audit", "verify", "--db", str(db_path), "--head", head["hash"])
    assert code == 4 and "HEAD MISMATCH" in err


def test_verify_reports_an_altered_archive(db, db_path, published, capsys):
    tamper(db_path, "UPDATE archive_messages SET text = 'autre' WHERE id = 1")
    code, _, err = run(capsys, "audit", "verify", "--db", str(db_path))
    assert code == 5 and "archive_messages #1" in err


def test_audit_and_archive_exports(db, db_path, published, tmp_path, capsys):
    code, out, _ = run(capsys, "audit", "export", "--db", str(db_path), "--to", "2026-11-23", "--format", "csv",
                       "--out", str(tmp_path / "audit"))
    assert code == 0 and (tmp_path / "audit" / "audit-events.csv").exists() and "manifest.json" in out
    code, _, _ = run(capsys, "archive", "export", "--db", str(db_path), "--agent", "julie@valmont.fr",
                     "--format", "json", "--out", str(tmp_path / "arch"))
    data = json.loads((tmp_path / "arch" / "archive.json").read_text(encoding="utf-8"))
    assert code == 0 and len(data["messages"]) == 1
    code, _, _ = run(capsys, "archive", "transfer", "--db", str(db_path), "--to", "2026-11-23",
                     "--out", str(tmp_path / "sip"))
    assert code == 0 and (tmp_path / "sip" / "SHA256SUMS").exists()


def test_export_of_a_broken_chain_fails(chain, db_path, tmp_path, capsys):
    tamper(db_path, "DELETE FROM audit_log WHERE id = 2")
    code, _, err = run(capsys, "audit", "export", "--db", str(db_path), "--out", str(tmp_path / "x"))
    assert code == 1 and "Erreur : Intégrité du journal d'audit rompue" in err and "export refusé" in err


def test_retention_and_rgpd_commands(db, db_path, published, tmp_path, capsys):
    code, out, _ = run(capsys, "retention", "purge", "--db", str(db_path), "--dry-run")
    assert code == 0 and "notes: would purge 0" in out
    code, out, _ = run(capsys, "retention", "hold", "--db", str(db_path), "--mention", published[0].uid,
                       "--scope", "author", "--reason", "Affaire 12", "--actor", "marc@valmont.fr")
    assert code == 0 and "legal hold #1" in out
    code, out, _ = run(capsys, "rgpd", "access", "--db", str(db_path), "@camille", "--out", str(tmp_path))
    assert code == 0 and (tmp_path / "rgpd-access-1.json").exists()
    code, out, _ = run(capsys, "rgpd", "erase", "--db", str(db_path), "camille", "--yes")
    assert code == 0 and "legal hold" in out and "17(3)(d)" in out
    code, _, err = run(capsys, "rgpd", "erase", "--db", str(db_path), "camille", "--yes",
                       "--actor", "julie@valmont.fr")
    assert code == 1 and "Réservé au service juridique" in err


def test_bench_audit_reports_rates(tmp_path, capsys):
    code, out, _ = run(capsys, "bench", "audit", "--events", "300", "--json", "--db", str(tmp_path / "b.db"))
    result = json.loads(out)
    assert code == 0 and result["events"] == 300 and result["ok"] is True
    assert result["append_per_s"] > 0 and result["verify_s"] >= 0


def test_verify_of_a_missing_database_fails_instead_of_creating_one(tmp_path, capsys):
    missing = tmp_path / "typo.db"
    code, _, err = run(capsys, "audit", "verify", "--db", str(missing))
    assert code == 1 and "no database" in err and not missing.exists()
