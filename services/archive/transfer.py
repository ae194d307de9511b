"""Archival transfer package of the record, for the archives service (SEDA 2.2 oriented; docs/archives.md).

The package holds the captured API payloads exactly as stored — each mention's ``raw`` JSON, each revision's,
each publication's platform answer and later changes — one file each, hashed byte for byte (the payload, not
a rendering), plus descriptive metadata (CSV renderings) and the audit rows of the period (moderation decisions,
approvals, publications), and a ``manifest.json`` whose structure follows SEDA's ArchiveTransfer message:
BinaryDataObject (Uri, MessageDigest SHA-256, Size, FormatIdentification) and ArchiveUnit descriptions.
Reproducible: the same period of the same data gives byte-identical packages.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from core import audit
from core.clock import to_iso
from core.config import Settings
from core.repo import archive as arch
from core.repo.archive import ArchiveFilter
from services.accounts.permissions import Action, require_actor
from services.archive.exports import (
    EPOCH,
    TEXTS_NOTE,
    ExportResult,
    archive_rows,
    csv_bytes,
    json_bytes,
    record_export,
    sha256_bytes,
    verify_before_export,
    with_texts,
    write_package,
)
from services.archive.published import Actor

SEDA_VERSION = "2.2"
SEDA_NAMESPACE = "fr:gouv:culture:archivesdefrance:seda:v2.2"
JSON_FORMAT = {"FormatLitteral": "JSON Data Interchange Format", "MimeType": "application/json",
               "FormatId": "fmt/817"}
CSV_FORMAT = {"FormatLitteral": "Comma Separated Values", "MimeType": "text/csv", "FormatId": "x-fmt/18"}
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferParties:
    """Who transfers to whom (SEDA agencies and agreement), from settings."""

    archival_agency: str = ""
    transferring_agency: str = ""
    originating_agency: str = ""
    archival_agreement: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> TransferParties:
        """``PARVIS_ARCHIVES_AGENCY_ID``, ``PARVIS_TRANSFERRING_AGENCY_ID``, ``PARVIS_ORIGINATING_AGENCY_ID``,
        ``PARVIS_ARCHIVAL_AGREEMENT``."""
        archive = settings.archive
        origin = archive.originating_agency_id
        return cls(archival_agency=archive.archives_agency_id,
                   transferring_agency=archive.transferring_agency_id or origin,
                   originating_agency=origin,
                   archival_agreement=archive.archival_agreement)


def safe_name(text: str) -> str:
    """A file-name-safe form of a platform id (odd characters replaced, a hash added when changed)."""
    cleaned = _SAFE.sub("_", text)[:80]
    if cleaned != text:
        cleaned += "-" + hashlib.sha256(text.encode()).hexdigest()[:8]
    return cleaned


class _Package:
    """Files of the package and their SEDA BinaryDataObject descriptions."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.objects: list[dict[str, Any]] = []

    def add(self, uri: str, data: bytes, fmt: dict[str, str], last_modified: str | None) -> str:
        ident = f"BDO-{len(self.objects) + 1:06d}"
        self.files[uri] = data
        self.objects.append({"id": ident, "DataObjectVersion": "BinaryMaster_1", "Uri": uri,
                             "MessageDigest": {"algorithm": "SHA-256", "value": sha256_bytes(data)},
                             "Size": len(data), "FormatIdentification": fmt,
                             "FileInfo": {"Filename": uri.rsplit("/", 1)[-1], "LastModified": last_modified}})
        return ident


def _unit(ident: str, level: str, title: str, *, description: str = "", dates: dict[str, str | None] | None = None,
          objects: list[str] | None = None, children: list[dict[str, Any]] | None = None,
          extra: dict[str, Any] | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"DescriptionLevel": level, "Title": title}
    if description:
        content["Description"] = description
    content.update({k: v for k, v in (dates or {}).items() if v})
    content.update(extra or {})
    unit: dict[str, Any] = {"id": ident, "Content": content}
    if objects:
        unit["DataObjectReference"] = [{"DataObjectReferenceId": o} for o in objects]
    if children:
        unit["ArchiveUnit"] = children
    return unit


def _received_units(db: Database, pkg: _Package, since: datetime | None,
                    until: datetime | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    received = arch.received_messages(db, since=since, until=until)
    units = []
    for i, m in enumerate(received, 1):
        base = f"content/received/{safe_name(m['platform'])}/{safe_name(m['platform_id'])}"
        refs = [pkg.add(f"{base}.json", m["raw"].encode("utf-8"), JSON_FORMAT, m["ingested_at"])]
        for n, rev in enumerate(arch.revision_payloads(db, m["uid"]), 1):
            refs.append(pkg.add(f"{base}.revision-{n}-{rev['change']}.json", rev["raw"].encode("utf-8"),
                                JSON_FORMAT, rev["seen_at"]))
        units.append(_unit(f"AU-R{i:06d}", "Item", f"Message reçu de @{m['author_handle']} ({m['platform']})",
                           description=m["text"], objects=refs,
                           dates={"CreatedDate": m["created_at"], "ReceivedDate": m["ingested_at"]},
                           extra={"OriginatingSystemId": m["uid"], "Writer": [{"Identifier": m["author_id"],
                                                                                "FullName": m["author_handle"]}]}))
    return received, units


def _published_units(db: Database, pkg: _Package,
                     filters: ArchiveFilter) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    published = archive_rows(db, filters)
    units = []
    for i, m in enumerate(published, 1):
        base = f"content/published/{m['id']:06d}"
        refs = [pkg.add(f"{base}.json", m["payload"].encode("utf-8"), JSON_FORMAT, m["published_at"])]
        for cid, payload in arch.change_payloads(db, m["id"]):
            refs.append(pkg.add(f"{base}.change-{cid}.json", payload.encode("utf-8"), JSON_FORMAT, None))
        approver = [{"Identifier": m["approver"], "FullName": m["approver_name"] or ""}] if m["approver"] else []
        units.append(_unit(f"AU-P{i:06d}", "Item", f"Message publié #{m['id']} ({m['platform']} {m['account']})",
                           description=m["text"], objects=refs, dates={"SentDate": m["published_at"]},
                           extra={"OriginatingSystemId": m["platform_id"], "Status": m["status"],
                                  "Writer": [{"Identifier": m["author"], "FullName": m["author_name"]}],
                                  "Approver": approver, "RelatedObjectReference": m["in_reply_to"],
                                  "RecordSha256": m["record_sha256"]}))
    return published, units


def _city_post_units(db: Database, pkg: _Package, since: datetime | None,
                     until: datetime | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The city's posts read on the platforms (thread roots, mostly published outside Parvis): no payload was kept, so
    their record is the stored row with the texts before and after each change seen (a JSON rendering), followed by
    each change's payload as stored."""
    posts = arch.city_posts_read(db, since=since, until=until)
    units = []
    for i, p in enumerate(posts, 1):
        base = f"content/city-posts/{safe_name(p['platform'])}/{safe_name(p['platform_id'])}"
        revisions = arch.city_post_revision_payloads(db, p["platform"], p["platform_id"])
        record = {**p, "revisions": [{k: rev[k] for k in ("seen_at", "change", "old_text", "new_text")}
                                     for rev in revisions]}
        refs = [pkg.add(f"{base}.record.json", json_bytes(record), JSON_FORMAT,
                        p["deleted_at"] or p["edited_at"] or p["published_at"])]
        for n, rev in enumerate(revisions, 1):
            refs.append(pkg.add(f"{base}.revision-{n}-{rev['change']}.json", rev["raw"].encode("utf-8"),
                                JSON_FORMAT, rev["seen_at"]))
        units.append(_unit(f"AU-C{i:06d}", "Item", f"Publication de la collectivité ({p['platform']} {p['account']})",
                           description=p["text"], objects=refs,
                           dates={"SentDate": p["published_at"]},
                           extra={"OriginatingSystemId": p["platform_id"], "Source": p["source"],
                                  "EditedSeenDate": p["edited_at"], "DeletedSeenDate": p["deleted_at"]}))
    return posts, units


def transfer_package(db: Database, out_dir: Path, *, since: datetime | None, until: datetime | None,
                     parties: TransferParties, actor: Actor, now: datetime,
                     allow_broken: bool = False) -> ExportResult:
    """Write the transfer package of the record for [since, until) into ``out_dir``; audited."""
    require_actor(actor, Action.AUDIT_EXPORT)
    verified, problem = verify_before_export(db, allow_broken)
    pkg = _Package()
    received, received_units = _received_units(db, pkg, since, until)
    published, published_units = _published_units(db, pkg, ArchiveFilter(since=since, until=until, limit=None))
    city_posts, city_post_units = _city_post_units(db, pkg, since, until)
    events = audit.select_events(db, since=since, until=until)
    period = {"StartDate": to_iso(since) if since else None, "EndDate": to_iso(until) if until else None}
    meta = {
        "metadata/received.csv": csv_bytes(["uid", "created_at", "author_handle", "text", "status", "permalink"],
                                           [[m["uid"], m["created_at"], m["author_handle"], m["text"], m["status"],
                                             m["permalink"]] for m in received]),
        "metadata/published.csv": csv_bytes(["id", "published_at", "platform_id", "author", "approver", "text",
                                             "status", "record_sha256"],
                                            [[m["id"], m["published_at"], m["platform_id"], m["author"],
                                              m["approver"], m["text"], m["status"], m["record_sha256"]]
                                             for m in published]),
        "metadata/city-posts.csv": csv_bytes(["platform", "platform_id", "published_at", "account", "text",
                                              "edited_at", "deleted_at", "permalink"],
                                             [[p["platform"], p["platform_id"], p["published_at"], p["account"],
                                               p["text"], p["edited_at"], p["deleted_at"], p["permalink"]]
                                              for p in city_posts]),
        "metadata/audit-events.json": json_bytes({"events": with_texts(events, audit.texts_by_row(db, events)),
                                                  "texts_note": TEXTS_NOTE,
                                                  "prev_hash_of_first": audit.previous_hash(
                                                      db, events[0]["id"]) if events else audit.GENESIS}),
    }
    refs = {name: pkg.add(name, data, JSON_FORMAT if name.endswith(".json") else CSV_FORMAT, None)
            for name, data in meta.items()}
    units = [
        _unit("AU-RECEIVED", "RecordGrp", "Messages reçus", dates=period, children=received_units,
              objects=[refs["metadata/received.csv"]]),
        _unit("AU-PUBLISHED", "RecordGrp", "Messages publiés par la collectivité", dates=period,
              children=published_units, objects=[refs["metadata/published.csv"]]),
        _unit("AU-CITY-POSTS", "RecordGrp", "Publications de la collectivité lues sur les plateformes", dates=period,
              children=city_post_units, objects=[refs["metadata/city-posts.csv"]],
              description="Publications auxquelles des habitants ont répondu, publiées hors de Parvis : texte "
                          "actuel, modifications et suppressions constatées (textes antérieurs conservés)."),
        _unit("AU-DECISIONS", "File", "Journal d'audit : décisions de modération, validations, publications",
              dates=period, objects=[refs["metadata/audit-events.json"]],
              description="Extrait chaîné du journal d'audit (SHA-256) ; voir docs/audit.md pour la vérification."),
    ]
    date = to_iso(until) if until else (max([o["FileInfo"]["LastModified"] or "" for o in pkg.objects] or [""])
                                         or to_iso(EPOCH))
    identifier = sha256_bytes(b"".join(sorted(o["MessageDigest"]["value"].encode() for o in pkg.objects))
                              + repr(period).encode())[:32]
    manifest = {
        "kind": "transfer", "verified": verified, "problem": problem, "seda_version": SEDA_VERSION,
        "seda_namespace": SEDA_NAMESPACE,
        "ArchiveTransfer": {
            "Comment": "Parvis : messages reçus et publiés, décisions et validations (archives publiques, "
                       "Code du patrimoine L.211-1 et L.211-4)",
            "Date": date, "MessageIdentifier": f"PARVIS-{identifier}",
            "ArchivalAgreement": parties.archival_agreement,
            "ArchivalAgency": {"Identifier": parties.archival_agency},
            "TransferringAgency": {"Identifier": parties.transferring_agency},
            "DataObjectPackage": {
                "BinaryDataObject": pkg.objects,
                "DescriptiveMetadata": {"ArchiveUnit": units},
                "ManagementMetadata": {"OriginatingAgencyIdentifier": parties.originating_agency,
                                       "SubmissionAgencyIdentifier": parties.transferring_agency,
                                       "AppraisalRule": {"FinalAction": "Keep"}},
            },
        },
    }
    hashes, manifest_hash = write_package(out_dir, pkg.files, manifest)
    selection = {"since": period["StartDate"], "until": period["EndDate"]}
    record_export(db, kind="transfer", selection=selection, hashes={"manifest.json": manifest_hash},
                   manifest_hash=manifest_hash, items=len(pkg.objects), actor=actor, now=now)
    return ExportResult(out_dir=out_dir, files=hashes, manifest_sha256=manifest_hash, items=len(pkg.objects),
                        verified=verified)
