"""Import from JSONL/CSV: good lines kept, bad lines reported with their number, idempotent."""

from __future__ import annotations

import json

import pytest

from core import audit, repo
from core.errors import ValidationError
from services.importer import import_file


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
