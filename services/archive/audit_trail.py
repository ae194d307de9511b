"""Use cases of the Audit page: integrity status, the countersignable head, event search, downloadable exports.

Reading is ``audit.read`` (legal staff, directors, admins); the exports are ``audit.export`` (legal staff) and
RGPD answers ``rgpd.answer`` (legal staff), per the role matrix (services/accounts/permissions.py).
Exports reuse :mod:`services.archive.exports` (each one verified first and audited as ``export-created``) and hand
back bytes for a download button: a reproducible ZIP of the package (data files, ``manifest.json``,
``SHA256SUMS``) and the PDF report on its own.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from core import audit
from core.clock import PARIS, from_iso, to_iso
from core.db import write_transaction
from core.errors import ValidationError
from core.repo.archive import ArchiveFilter
from services.archive import exports, rgpd
from services.archive import published as archive_service
from services.archive.published import Actor, actor_identity, require_audit_reader


@dataclass(frozen=True, slots=True, kw_only=True)
class Integrity:
    """The state of the record: the audit chain, the archive seals, the append-only triggers, the head."""

    chain: audit.ChainReport
    archive_problems: list[str]
    missing_guards: list[str]
    head: dict[str, Any] | None

    @property
    def ok(self) -> bool:
        """True when the chain verifies, the archive matches its seals and the triggers are in place."""
        return self.chain.ok and not self.archive_problems and not self.missing_guards


def integrity(db: Database, *, actor: Actor) -> Integrity:
    """Verify the whole chain and the archive seals (what ``audit verify`` does), with the current head."""
    require_audit_reader(actor)
    problems = archive_service.verify_archive(db).problems + audit.verify_texts(db)  # seals, erasable texts
    return Integrity(chain=audit.verify_chain(db), archive_problems=problems,
                     missing_guards=audit.missing_guards(db), head=audit.chain_head(db))


def head(db: Database, *, actor: Actor) -> dict[str, Any] | None:
    """The last event of the chain (id, at, event, hash), or None when the log is empty."""
    require_audit_reader(actor)
    return audit.chain_head(db)


def head_text(head_row: dict[str, object], db_file: Path, printed_at: datetime) -> str:
    """The head as a short text to print, sign and file (or e-mail to the archivist)."""
    digest = str(head_row["hash"])
    grouped = " ".join(digest[i:i + 8] for i in range(0, 64, 8))
    at = from_iso(str(head_row["at"]))
    assert at is not None
    return (f"Parvis — tête de la chaîne d'audit / audit chain head\n"
            f"database: {db_file}\n"
            f"id: {head_row['id']}\n"
            f"time: {to_iso(at)} ({at.astimezone(PARIS):%d/%m/%Y %H:%M:%S} Paris)\n"
            f"event: {head_row['event']}\n"
            f"hash: {digest}\n"
            f"hash (groupé pour lecture): {grouped}\n"
            f"printed: {to_iso(printed_at)}\n"
            f"Vérifier / verify: python -m console audit verify --head <this file or the hash>\n"
            f"Signature et date du contre-signataire / countersigned by:\n\n")


def export_head(db: Database, *, actor: Actor, now: datetime, db_file: Path) -> tuple[dict[str, Any], str]:
    """Record ``audit-head-exported`` and return the head and its text to countersign (as ``audit head``)."""
    require_audit_reader(actor)
    current = audit.chain_head(db)
    if current is None:
        raise ValidationError("the audit log is empty: nothing to countersign yet", reason="audit_log_empty")
    who, role = actor_identity(actor)
    with write_transaction(db):
        audit.record(db, audit.AuditHeadExported(actor=who, role=role, subject="audit-head",
                                                 head_id=int(current["id"]), head_hash=str(current["hash"])), at=now)
    return current, head_text(current, db_file, now)


def event_names() -> list[str]:
    """Every audit event name Parvis can record (for the event filter)."""
    return [cls.name for cls in audit.event_classes()]


def search_events(db: Database, selection: exports.AuditSelection, *, actor: Actor, limit: int = 100,
                  offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """One page of audit rows (newest first) matching ``selection`` and the total count.

    Each row also has ``details``: its properties with the erasable texts shown (« effacé (RGPD) » once erased).
    """
    require_audit_reader(actor)
    args: dict[str, Any] = {"since": selection.since, "until": selection.until, "actors": selection.actors,
            "events": selection.events, "subject": selection.subject}
    rows = audit.select_events(db, **args, limit=limit, offset=offset, newest_first=True)
    texts = audit.texts_by_row(db, rows)
    return ([{**r, "details": audit.readable_properties(r, texts)} for r in rows], audit.count_events(db, **args))


@dataclass(frozen=True, slots=True, kw_only=True)
class Download:
    """An export ready to download: the ZIP package, the PDF alone, and what the manifest says."""

    name: str
    zip_bytes: bytes
    pdf_name: str | None
    pdf_bytes: bytes | None
    result: exports.ExportResult


def _download(name: str, pdf_name: str, run: Callable[[Path], exports.ExportResult]) -> Download:
    with tempfile.TemporaryDirectory(prefix="parvis-export-") as tmp:
        out = Path(tmp) / name
        result = run(out)
        pdf = out / pdf_name
        return Download(name=name, zip_bytes=exports.zip_bytes(out),
                        pdf_name=pdf_name if pdf.exists() else None,
                        pdf_bytes=pdf.read_bytes() if pdf.exists() else None, result=result)


def archive_download(db: Database, filters: ArchiveFilter, *, actor: Actor, now: datetime,
                     allow_broken: bool = False) -> Download:
    """Export the archive selection (CSV, JSON, PDF, manifest) as bytes; verified first and audited."""
    return _download(f"parvis-archive-{now:%Y%m%d-%H%M%S}", "archive.pdf",
                     lambda out: exports.export_archive(db, filters, out, actor=actor, now=now,
                                                        allow_broken=allow_broken))


def audit_download(db: Database, selection: exports.AuditSelection, *, actor: Actor, now: datetime,
                   allow_broken: bool = False) -> Download:
    """Export the audit-event selection (CSV, JSON, PDF, manifest) as bytes; verified first and audited."""
    return _download(f"parvis-audit-{now:%Y%m%d-%H%M%S}", "audit-events.pdf",
                     lambda out: exports.export_audit(db, selection, out, actor=actor, now=now,
                                                      allow_broken=allow_broken))


def access_download(db: Database, query: str, *, actor: Actor, now: datetime,
                    platform: str | None = None) -> tuple[rgpd.AccessResult, bytes]:
    """Answer an RGPD access request and return the JSON document's bytes (its SHA-256 is in the result)."""
    with tempfile.TemporaryDirectory(prefix="parvis-rgpd-") as tmp:
        result = rgpd.access_request(db, query, out_dir=Path(tmp), actor=actor, now=now, platform=platform)
        assert result.path is not None
        return result, result.path.read_bytes()
