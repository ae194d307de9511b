"""Exports of the audit trail and of the legal archive: CSV, JSON and a readable PDF, with a SHA-256 manifest.

Reproducible: the files hold no export time, rows are in id order and JSON keys sorted, so the same selection
of the same data gives byte-identical files (and the same manifest). Give ``until`` for that: an open-ended
selection grows as Parvis records more (the export itself is audited as ``export-created``).
Every export first verifies the audit chain (and the archive seals) and refuses a broken one unless
``allow_broken`` is set, in which case the manifest says it was broken.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from core import audit, csv_safe
from core.clock import format_paris, to_iso
from core.db import write_transaction
from core.errors import IntegrityError, ValidationError
from core.files import private_dir, write_private
from core.repo import archive as arch
from core.repo.archive import ArchiveFilter
from services.accounts.permissions import Action, require_actor
from services.archive import published as archive_service
from services.archive.published import Actor, actor_identity

FORMATS = ("csv", "json", "pdf")
EXPORT_FORMAT = "parvis-export/1"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditSelection:
    """Which audit rows to export (``since`` inclusive, ``until`` exclusive)."""

    since: datetime | None = None
    until: datetime | None = None
    actors: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    subject: str | None = None

    def describe(self) -> dict[str, Any]:
        """The selection as JSON-ready values (written into the manifest)."""
        return {"since": to_iso(self.since) if self.since else None,
                "until": to_iso(self.until) if self.until else None,
                "actors": list(self.actors), "events": list(self.events), "subject": self.subject}


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportResult:
    """Files written (name -> SHA-256), the manifest's own hash, the row count, whether data verified."""

    out_dir: Path
    files: dict[str, str]
    manifest_sha256: str
    items: int
    verified: bool


def sha256_bytes(data: bytes) -> str:
    """SHA-256 hex of ``data``."""
    return hashlib.sha256(data).hexdigest()


def json_bytes(value: Any) -> bytes:
    """Stable, readable JSON (sorted keys, 2-space indent, UTF-8, final newline)."""
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n").encode("utf-8")


def csv_bytes(header: list[str], rows: list[list[Any]]) -> bytes:
    """CSV (RFC 4180, CRLF) in UTF-8 with a BOM so spreadsheet software reads accents right; text cells that a
    spreadsheet would run as a formula are prefixed with ``'`` (:mod:`core.csv_safe`)."""
    buf = io.StringIO()
    writer = csv_safe.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def zip_bytes(folder: Path) -> bytes:
    """A reproducible ZIP of an export folder (fixed timestamps, sorted names), e.g. for a download button."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive_zip:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive_zip.writestr(info, path.read_bytes())
    return buf.getvalue()


def write_package(out_dir: Path, files: dict[str, bytes], manifest: dict[str, Any]) -> tuple[dict[str, str], str]:
    """Write ``files``, a ``manifest.json`` listing their SHA-256 and sizes, and ``SHA256SUMS``.

    Residents' data: every file is written ``0600`` and the folders created here ``0700`` (core/files.py).
    """
    private_dir(out_dir)
    hashes: dict[str, str] = {}
    listing = []
    for name in sorted(files):
        path = out_dir / name
        private_dir(path.parent)
        write_private(path, files[name])
        hashes[name] = sha256_bytes(files[name])
        listing.append({"name": name, "sha256": hashes[name], "bytes": len(files[name])})
    manifest_data = json_bytes({**manifest, "format": EXPORT_FORMAT, "hash_algorithm": "SHA-256", "files": listing})
    write_private(out_dir / "manifest.json", manifest_data)
    manifest_hash = sha256_bytes(manifest_data)
    sums = "".join(f"{hashes[n]}  {n}\n" for n in sorted(hashes)) + f"{manifest_hash}  manifest.json\n"
    write_private(out_dir / "SHA256SUMS", sums)
    return hashes, manifest_hash


def _check_formats(formats: tuple[str, ...]) -> tuple[str, ...]:
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ValidationError(f"export formats must be among {', '.join(FORMATS)} (got {', '.join(formats) or 'none'})",
                              reason="export_formats", formats=list(FORMATS))
    return tuple(sorted(set(formats)))


def verify_before_export(db: Database, allow_broken: bool) -> tuple[bool, str]:
    """Verify the audit chain and the archive seals; raise IntegrityError unless ``allow_broken``."""
    chain = audit.verify_chain(db)
    archive = archive_service.verify_archive(db)
    text_problems = audit.verify_texts(db)
    if chain.ok and archive.ok and not text_problems:
        return True, ""
    reason = (f"audit event #{chain.broken_id}: {chain.reason}" if not chain.ok
              else archive.problems[0] if not archive.ok else text_problems[0])
    if not allow_broken:
        raise IntegrityError(f"integrity check failed ({reason}): run `python -m console audit verify`; "
                             "export refused (use --allow-broken to export anyway, flagged in the manifest)",
                             reason="export_integrity_broken", problem=reason)
    return False, reason


def record_export(db: Database, *, kind: str, selection: dict[str, Any], hashes: dict[str, str],
                  manifest_hash: str, items: int, actor: Actor, now: datetime) -> None:
    """Audit an export (``export-created``) with its selection and file hashes."""
    who, role = actor_identity(actor)
    with write_transaction(db):
        audit.record(db, audit.ExportCreated(actor=who, role=role, subject=f"export:{kind}", kind=kind,
                                             selection=selection, files=hashes, manifest_sha256=manifest_hash,
                                             items=items), at=now)


def _period_lines(since: datetime | None, until: datetime | None) -> str:
    start = format_paris(since, "%d/%m/%Y %H:%M") if since else "le début"
    end = format_paris(until, "%d/%m/%Y %H:%M") if until else "la date de l'export"
    return f"Période : de {start} à {end} (heure de Paris, fin exclue)"


def export_audit(db: Database, selection: AuditSelection, out_dir: Path, *, formats: tuple[str, ...] = FORMATS,
                 actor: Actor, now: datetime, allow_broken: bool = False) -> ExportResult:
    """Export audit rows as stored (CSV/JSON/PDF) with a manifest; the rows' hashes let anyone re-check them."""
    require_actor(actor, Action.AUDIT_EXPORT)
    formats = _check_formats(formats)
    verified, problem = verify_before_export(db, allow_broken)
    rows = audit.select_events(db, since=selection.since, until=selection.until, actors=selection.actors,
                               events=selection.events, subject=selection.subject)
    segment: dict[str, Any] = {"count": len(rows)}
    if rows:
        segment.update(first_id=rows[0]["id"], last_id=rows[-1]["id"], last_hash=rows[-1]["hash"],
                       prev_hash_of_first=audit.previous_hash(db, rows[0]["id"]),
                       contiguous=rows[-1]["id"] - rows[0]["id"] + 1 == len(rows))
    texts = audit.texts_by_row(db, rows)
    files: dict[str, bytes] = {}
    if "csv" in formats:
        files["audit-events.csv"] = csv_bytes([*audit.AUDIT_COLUMNS, "texts"],
                                              [[*(r[c] for c in audit.AUDIT_COLUMNS), texts_cell(r, texts)]
                                               for r in rows])
    if "json" in formats:
        files["audit-events.json"] = json_bytes({"selection": selection.describe(), "segment": segment,
                                                 "canonical_form": CANONICAL_NOTE, "texts_note": TEXTS_NOTE,
                                                 "events": with_texts(rows, texts)})
    if "pdf" in formats:
        created = selection.until or (datetime.fromisoformat(rows[-1]["at"]) if rows else EPOCH)
        intro = [_period_lines(selection.since, selection.until), f"Événements : {len(rows)}",
                 "Chaîne d'empreintes vérifiée : " + ("oui" if verified else f"NON ({problem})")]
        if selection.actors or selection.events or selection.subject:
            intro.append(f"Filtres : {json.dumps(selection.describe(), ensure_ascii=False)}")
        from services.archive import pdf_report  # lazy: fpdf2 is only needed for PDF exports

        readable = [{**r, "properties": audit.readable_properties(r, texts)} for r in rows]
        files["audit-events.pdf"] = pdf_report.audit_pdf(readable, intro=intro, created=created,
                                                         last_hash=segment.get("last_hash", audit.GENESIS))
    manifest = {"kind": "audit", "selection": selection.describe(), "segment": segment, "verified": verified,
                "problem": problem}
    hashes, manifest_hash = write_package(out_dir, files, manifest)
    record_export(db, kind="audit", selection=selection.describe(), hashes=hashes, manifest_hash=manifest_hash,
                   items=len(rows), actor=actor, now=now)
    return ExportResult(out_dir=out_dir, files=hashes, manifest_sha256=manifest_hash, items=len(rows),
                        verified=verified)


TEXTS_NOTE = ("Free text of residents and agents (notes, comments, edited messages) is kept beside the chain: "
              "properties hold {\"text_ref\": SHA-256 of salt + text}; `texts` gives each such field's text, or "
              "\"effacé (RGPD)\" once erased (docs/audit.md).")


def texts_cell(row: dict[str, Any], texts: dict[int, dict[str, str]]) -> str:
    """The ``texts`` CSV cell of an audit row: its erasable texts as JSON (or ERASED), empty when it has none."""
    found = texts.get(int(row["id"]))
    return json.dumps(found, ensure_ascii=False, sort_keys=True) if found else ""


def with_texts(rows: list[dict[str, Any]], texts: dict[int, dict[str, str]]) -> list[dict[str, Any]]:
    """Stored audit rows with a ``texts`` entry where they reference erasable text (the hash is unchanged)."""
    return [{**r, "texts": texts[int(r["id"])]} if int(r["id"]) in texts else r for r in rows]


CANONICAL_NOTE = ("hash = SHA-256 of the UTF-8 JSON object {actor, at, event, id, prev_hash, properties, role, "
                  "subject} with keys sorted, no spaces, non-ASCII kept; prev_hash = hash of the previous row "
                  "(64 zeros for the first row).")
ARCHIVE_CSV = ["id", "published_at", "platform", "account", "platform_id", "permalink", "kind", "author",
               "author_name", "approver", "approver_name", "charter_version", "charter_result", "in_reply_to",
               "in_reply_to_author", "in_reply_to_text", "text", "status", "changes", "payload_sha256",
               "record_sha256"]


def archive_rows(db: Database, filters: ArchiveFilter) -> list[dict[str, Any]]:
    """Archived messages matching ``filters`` (oldest first, no paging) as JSON-ready dicts with history."""
    query = ArchiveFilter(**{**{f: getattr(filters, f) for f in filters.__dataclass_fields__},
                             "limit": None, "offset": 0, "newest_first": False})
    out = []
    for m in arch.search_messages(db, query):
        row = {f: getattr(m, f) for f in m.__dataclass_fields__}
        row["published_at"], row["archived_at"] = to_iso(m.published_at), to_iso(m.archived_at)
        row["charter_result"] = list(m.charter_result)
        row["payload"] = arch.message_payload(db, m.id)
        row["changes"] = [{"id": c.id, "seen_at": to_iso(c.seen_at), "change": c.change, "text": c.text,
                           "actor": c.actor, "payload_sha256": c.payload_sha256, "record_sha256": c.record_sha256}
                          for c in arch.changes_for(db, m.id)]
        out.append(row)
    return out


def describe_filter(filters: ArchiveFilter) -> dict[str, Any]:
    """An archive filter as JSON-ready values (paging left out)."""
    return {"since": to_iso(filters.since) if filters.since else None,
            "until": to_iso(filters.until) if filters.until else None, "agent": filters.agent,
            "platforms": list(filters.platforms), "account": filters.account, "status": filters.status,
            "keyword": filters.keyword}


def export_archive(db: Database, filters: ArchiveFilter, out_dir: Path, *, formats: tuple[str, ...] = FORMATS,
                   actor: Actor, now: datetime, allow_broken: bool = False) -> ExportResult:
    """Export archived messages with their history (CSV/JSON/PDF) and a manifest of SHA-256 hashes."""
    require_actor(actor, Action.AUDIT_EXPORT)
    formats = _check_formats(formats)
    verified, problem = verify_before_export(db, allow_broken)
    rows = archive_rows(db, filters)
    files: dict[str, bytes] = {}
    if "csv" in formats:
        def cells(r: dict[str, Any]) -> list[Any]:
            snap = r["in_reply_to_snapshot"] or {}
            extra = {"in_reply_to_author": snap.get("author_handle"), "in_reply_to_text": snap.get("text"),
                     "charter_result": json.dumps(r["charter_result"], ensure_ascii=False, sort_keys=True),
                     "changes": json.dumps(r["changes"], ensure_ascii=False, sort_keys=True)}
            return [extra[c] if c in extra else r[c] for c in ARCHIVE_CSV]
        files["archive.csv"] = csv_bytes(ARCHIVE_CSV, [cells(r) for r in rows])
    if "json" in formats:
        files["archive.json"] = json_bytes({"selection": describe_filter(filters), "messages": rows})
    if "pdf" in formats:
        created = filters.until or (datetime.fromisoformat(rows[-1]["published_at"]) if rows else EPOCH)
        intro = [_period_lines(filters.since, filters.until), f"Messages : {len(rows)}",
                 "Archive et chaîne d'audit vérifiées : " + ("oui" if verified else f"NON ({problem})")]
        from services.archive import pdf_report  # lazy: fpdf2 is only needed for PDF exports

        files["archive.pdf"] = pdf_report.archive_pdf(rows, intro=intro, created=created)
    manifest = {"kind": "archive", "selection": describe_filter(filters), "verified": verified, "problem": problem,
                "messages": [{"id": r["id"], "record_sha256": r["record_sha256"],
                              "payload_sha256": r["payload_sha256"]} for r in rows]}
    hashes, manifest_hash = write_package(out_dir, files, manifest)
    record_export(db, kind="archive", selection=describe_filter(filters), hashes=hashes,
                   manifest_hash=manifest_hash, items=len(rows), actor=actor, now=now)
    return ExportResult(out_dir=out_dir, files=hashes, manifest_sha256=manifest_hash, items=len(rows),
                        verified=verified)
