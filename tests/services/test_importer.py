"""Import from JSONL/CSV: good lines kept, bad lines reported with their number, idempotent."""

from __future__ import annotations

import json

import pytest

from core import audit, repo
from core.errors import ValidationError
from services.connections.importer import import_file


def _line(**kw):
    base = {"platform": "facebook", "platform_id": "fb1", "text": "Bonjour", "author_id": "a1",
            "author_handle": "alice", "created_at": "2026-10-01T08:00:00+00:00"}
    base.update(kw)
    return json.dumps(base, ensure_ascii=False)


def test_jsonl_bad_lines_reported_good_kept(tmp_path, db, now):
    f = tmp_path / "export.jsonl"
    f.write_text("\n".join([
        _line(platform_id="1", text="La piscine est fermée ?"),
        "{not json",
        _line(platform_id="2", platform="myspace"),
        _line(platform_id="3", created_at="hier"),
        json.dumps({"platform": "x", "text": "sans id"}),
        "",
        _line(platform_id="4", text="Merci 🙏", author_followers="1200"),
    ]) + "\n", encoding="utf-8")
    report = import_file(db, f, now=now)
    assert report.inserted == 2
    assert [n for n, _ in report.errors] == [2, 3, 4, 5]
    assert "JSON" in report.errors[0][1] and "myspace" in report.errors[1][1]
    assert repo.get_item(db, "facebook:4").mention.author.followers == 1200
    again = import_file(db, f, now=now)
    assert again.inserted == 0 and again.updated == 2 and repo.mention_count(db) == 2
    assert audit.event_names(db) == ["mentions-imported", "mentions-imported"]


def test_csv_import(tmp_path, db, now):
    f = tmp_path / "export.csv"
    f.write_text("platform,platform_id,text,author_id,author_handle,created_at,conversation_id\n"
                 "x,10,\"Nid-de-poule, rue Haute\",u1,bob,2026-10-02T09:00:00Z,10\n"
                 "x,11,,u2,eve,2026-10-02T09:05:00Z,10\n", encoding="utf-8")
    report = import_file(db, f, now=now)
    assert report.inserted == 1 and report.errors == [(3, "missing field(s): text")]
    assert repo.get_item(db, "x:10").mention.text == "Nid-de-poule, rue Haute"


def test_missing_or_wrong_file(tmp_path, db, now):
    with pytest.raises(ValidationError, match="does not exist"):
        import_file(db, tmp_path / "absent.jsonl", now=now)
    other = tmp_path / "x.txt"
    other.write_text("x")
    with pytest.raises(ValidationError, match="jsonl or .csv"):
        import_file(db, other, now=now)


def test_bulk_import_reports_and_stores_like_a_normal_one(tmp_path, db, now):
    f = tmp_path / "history.jsonl"
    lines = [_line(platform_id=str(i), text=f"Nid-de-poule numéro {i}",
                   created_at=f"2026-09-{1 + i % 28:02d}T08:00:00Z") for i in range(12)]
    lines.insert(4, "{cassé")
    lines.append(_line(platform_id="3", text="Nid-de-poule numéro 3, rebouché"))  # the same post, edited later
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_file(db, f, now=now, bulk=True)
    assert report.inserted == 12 and report.errors == [(5, report.errors[0][1])]
    assert repo.get_item(db, "facebook:3").mention.text == "Nid-de-poule numéro 3, rebouché"
    assert [i.uid for i in repo.list_inbox(db, repo.InboxQuery(search="rebouche"))] == ["facebook:3"]
    assert len(repo.secondary_indexes(db)) == 9  # m151
    again = import_file(db, f, now=now, bulk=True)  # idempotent, as the normal import
    assert again.inserted == 0 and repo.mention_count(db) == 12
    assert audit.event_names(db) == ["mentions-imported", "mentions-imported"]


def test_bulk_import_is_all_or_nothing(tmp_path, db, now):
    f = tmp_path / "history.jsonl"
    good = "\n".join(_line(platform_id=str(i)) for i in range(2500))  # more than one batch
    f.write_bytes(good.encode() + b"\n" + b'{"text": "\xff\xfe"}\n')
    with pytest.raises(ValidationError, match="not UTF-8"):
        import_file(db, f, now=now, bulk=True)
    assert repo.mention_count(db) == 0  # the batch already added was rolled back with the rest
    with pytest.raises(ValidationError, match="not UTF-8"):
        import_file(db, f, now=now)  # the normal import keeps the batches it committed before the bad byte
    assert repo.mention_count(db) == 2000


def test_import_cli_bulk_flag(tmp_path):
    from click.testing import CliRunner

    from console.cli import _load_commands, cli
    from core.db import open_db

    _load_commands()
    f = tmp_path / "history.jsonl"
    f.write_text("\n".join(_line(platform_id=str(i), text="Merci pour la fête du quartier") for i in range(30))
                 + "\nnot json\n", encoding="utf-8")
    db_file = tmp_path / "parvis.db"
    result = CliRunner().invoke(cli, ["import", "--db", str(db_file), "--bulk", str(f)])
    assert result.exit_code == 0, result.output
    assert "Imported 30 new" in result.stdout and ":31: skipped" in result.stderr
    db = open_db(db_file)
    assert repo.mention_count(db) == 30 and len(repo.secondary_indexes(db)) == 9  # m151
    db.close()
