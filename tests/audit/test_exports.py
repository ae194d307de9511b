"""Exports are reproducible (same selection, same bytes), hashed in a manifest, and refuse a broken chain."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest

from core import audit
from core.errors import IntegrityError, ValidationError
from core.repo.archive import ArchiveFilter
from services.archive import exports, transfer
from tests.audit.conftest import tamper


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_audit_export_is_reproducible_and_hashed(chain, tmp_path, now):
    selection = exports.AuditSelection(since=now, until=now + timedelta(seconds=6))
    first = exports.export_audit(chain, selection, tmp_path / "a", actor="system:test", now=now + timedelta(days=1))
    second = exports.export_audit(chain, selection, tmp_path / "b", actor="system:test", now=now + timedelta(days=2))
    files_a, files_b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert files_a == files_b
    assert set(files_a) == {"audit-events.csv", "audit-events.json", "audit-events.pdf", "manifest.json",
                            "SHA256SUMS"}
    assert first.items == second.items == 6 and first.manifest_sha256 == second.manifest_sha256
    manifest = json.loads(files_a["manifest.json"])
    for entry in manifest["files"]:
        assert hashlib.sha256(files_a[entry["name"]]).hexdigest() == entry["sha256"]
    assert files_a["audit-events.pdf"].startswith(b"%PDF")
    assert exports.zip_bytes(tmp_path / "a") == exports.zip_bytes(tmp_path / "b")
    # Both exports are themselves audited.
    assert audit.count_events(chain, events=("export-created",)) == 2


def test_exported_segment_can_be_rechecked_by_a_third_party(chain, tmp_path, now):
    exports.export_audit(chain, exports.AuditSelection(since=now + timedelta(seconds=3)), tmp_path, formats=("json",),
                         actor="system:test", now=now)
    data = json.loads((tmp_path / "audit-events.json").read_text(encoding="utf-8"))
    prev = data["segment"]["prev_hash_of_first"]
    for event in data["events"]:
        assert event["prev_hash"] == prev
        assert audit.row_hash(event) == event["hash"]
        prev = event["hash"]
    assert data["segment"]["contiguous"] and data["segment"]["last_hash"] == prev


def test_export_refuses_a_broken_chain_unless_told(chain, db_path, tmp_path, now):
    tamper(db_path, "DELETE FROM audit_log WHERE id = 2")
    with pytest.raises(IntegrityError, match="audit event #3"):
        exports.export_audit(chain, exports.AuditSelection(), tmp_path / "x", actor="system:test", now=now)
    result = exports.export_audit(chain, exports.AuditSelection(), tmp_path / "y", formats=("csv",),
                                  actor="system:test", now=now, allow_broken=True)
    manifest = json.loads((tmp_path / "y" / "manifest.json").read_text(encoding="utf-8"))
    assert not result.verified and manifest["verified"] is False and "#3" in manifest["problem"]


def test_archive_export_is_reproducible(db, published, tmp_path, now):
    filters = ArchiveFilter(until=now + timedelta(days=1))
    exports.export_archive(db, filters, tmp_path / "a", actor="system:test", now=now + timedelta(days=2))
    exports.export_archive(db, filters, tmp_path / "b", actor="system:test", now=now + timedelta(days=3))
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    data = json.loads((tmp_path / "a" / "archive.json").read_text(encoding="utf-8"))
    (message,) = data["messages"]
    assert message["text"] == published[1].text and message["payload"] == '{"data": {"id": "r-100"}}'
    assert hashlib.sha256(message["payload"].encode()).hexdigest() == message["payload_sha256"]
    table = (tmp_path / "a" / "archive.csv").read_text("utf-8-sig")
    assert "Merci, le service propreté passe demain. — Julie" in table


def test_transfer_package_hashes_the_captured_payloads(db, published, tmp_path, now):
    mention, message = published
    until = now + timedelta(days=1)
    result = transfer.transfer_package(db, tmp_path / "t1", since=None, until=until,
                                       parties=transfer.TransferParties(archival_agency="FRAD000"),
                                       actor="system:test", now=now + timedelta(days=2))
    transfer.transfer_package(db, tmp_path / "t2", since=None, until=until, parties=transfer.TransferParties(
        archival_agency="FRAD000"), actor="system:test", now=now + timedelta(days=3))
    assert _files(tmp_path / "t1") == _files(tmp_path / "t2")
    manifest = json.loads((tmp_path / "t1" / "manifest.json").read_text(encoding="utf-8"))
    objects = {o["Uri"]: o for o in manifest["ArchiveTransfer"]["DataObjectPackage"]["BinaryDataObject"]}
    stored_raw = db.execute("SELECT raw FROM mentions WHERE uid = ?", (mention.uid,)).fetchone()[0]
    received = objects[f"content/received/x/{mention.platform_id}.json"]
    assert received["MessageDigest"] == {"algorithm": "SHA-256",
                                         "value": hashlib.sha256(stored_raw.encode()).hexdigest()}
    published_obj = objects["content/published/000001.json"]
    assert published_obj["MessageDigest"]["value"] == message.payload_sha256
    for uri, obj in objects.items():
        assert hashlib.sha256((tmp_path / "t1" / uri).read_bytes()).hexdigest() == obj["MessageDigest"]["value"]
    assert manifest["ArchiveTransfer"]["ArchivalAgency"]["Identifier"] == "FRAD000"
    assert result.items == len(objects)


def test_unknown_format_is_refused(chain, tmp_path, now):
    with pytest.raises(ValidationError, match="formats"):
        exports.export_audit(chain, exports.AuditSelection(), tmp_path, formats=("xlsx",), actor="system:test",
                             now=now)


def test_pdf_without_a_unicode_font_still_renders(monkeypatch, now):
    from services.archive import pdf_report

    monkeypatch.setenv("PARVIS_PDF_FONT", "/nonexistent/font.ttf")
    event = {"id": 1, "at": "2026-11-23T10:00:00.000000+00:00", "actor": "julie@valmont.fr", "role": "cm",
             "event": "note-added", "subject": "x:1", "properties": '{"text":"Cœur déçu — 10 € 😡 日本"}',
             "hash": "ab" * 32}
    data = pdf_report.audit_pdf([event], intro=["Période : test"], created=now, last_hash="ab" * 32)
    assert data.startswith(b"%PDF") and b"Helvetica" in data


def test_transfer_package_holds_the_city_posts_read_on_the_platforms_with_their_edits(db, tmp_path, now):
    """A city post Parvis did not publish (a thread root read on Mastodon) is the city's publication too: the
    transfer holds its record, its edit's payload as stored, and the text before the edit (decision 0305)."""
    from core import repo

    repo.record_city_posts(db, [repo.CityPost(platform="mastodon", platform_id="1101", account="valmont",
                                              text="Travaux rue des Lilas du 3 au 7 mars", permalink="https://m/1101",
                                              published_at=now, source="fetched")], now=now)
    repo.record_city_post_change(db, "mastodon", "1101", "edited", now=now + timedelta(hours=2),
                                 raw={"id": "1101", "content": "<p>Travaux rue des Lilas du 3 au 14 mars</p>"},
                                 old_text="Travaux rue des Lilas du 3 au 7 mars",
                                 new_text="Travaux rue des Lilas du 3 au 14 mars")
    until = now + timedelta(days=1)
    kwargs = {"since": None, "until": until, "parties": transfer.TransferParties(), "actor": "system:test"}
    transfer.transfer_package(db, tmp_path / "t1", now=now + timedelta(days=2), **kwargs)
    # read again later with no change: the closed period's package is the same, byte for byte
    repo.record_city_posts(db, [repo.CityPost(platform="mastodon", platform_id="1101", account="valmont",
                                              text="Travaux rue des Lilas du 3 au 14 mars", permalink="https://m/1101",
                                              published_at=now, source="fetched")], now=now + timedelta(days=3))
    transfer.transfer_package(db, tmp_path / "t2", now=now + timedelta(days=4), **kwargs)
    files = _files(tmp_path / "t1")
    assert files == _files(tmp_path / "t2")
    record = json.loads(files["content/city-posts/mastodon/1101.record.json"])
    assert record["text"] == "Travaux rue des Lilas du 3 au 14 mars" and record["edited_at"]
    (raw,) = db.execute("SELECT raw FROM city_post_revisions WHERE platform_id = '1101'").fetchone()
    assert files["content/city-posts/mastodon/1101.revision-1-edited.json"] == raw.encode("utf-8")
    manifest = json.loads(files["manifest.json"])
    package = manifest["ArchiveTransfer"]["DataObjectPackage"]
    groups = {u["id"]: u for u in package["DescriptiveMetadata"]["ArchiveUnit"]}
    (unit,) = groups["AU-CITY-POSTS"]["ArchiveUnit"]
    assert unit["Content"]["Description"] == "Travaux rue des Lilas du 3 au 14 mars"
    assert len(unit["DataObjectReference"]) == 2
    assert [(r["change"], r["old_text"]) for r in record["revisions"]] == [("edited",
                                                                          "Travaux rue des Lilas du 3 au 7 mars")]
    assert "Travaux rue des Lilas du 3 au 14 mars" in files["metadata/city-posts.csv"].decode("utf-8-sig")
