"""Import mentions from a JSONL or CSV export (a city's history, or test data).

Each line/row holds the normalised fields (see docs/import-format.md). A bad line is reported with its line
number and skipped; the good lines are stored (idempotently: importing the same file twice duplicates nothing).
A UTF-8 byte-order mark at the start of the file is accepted (spreadsheets write one).

Half-done imports are visible: the last batch commits together with the ``mentions-imported`` event, so a file
that fits in one batch is stored with its record or not at all; a longer one records ``import-started`` in the
transaction of its first batch, so an import interrupted after that leaves ``import-started`` without a
``mentions-imported`` that names it (:func:`interrupted_imports`, printed by ``python -m console import``).

A CSV field up to :data:`CSV_FIELD_LIMIT` is read (Python's default of 128 KiB crashed the import); a field over
:data:`MAX_FIELD` (or a text over :data:`MAX_TEXT`) rejects its line, the rest of the file is imported. A line the
CSV reader cannot parse at all (a field over ``CSV_FIELD_LIMIT``, a NUL byte) is reported and ends the reading:
the lines before it are imported, that line and the following ones are not.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from core import audit, repo
from core.clock import from_iso
from core.db import write_transaction
from core.errors import ValidationError
from core.models import Author, Mention, Platform
from services.connections.ingest import ScoreFn, store_mentions

REQUIRED = ("platform", "platform_id", "text", "author_id", "created_at")
MAX_TEXT = 100_000
MAX_FIELD = 128 * 1024  # characters, for every field but ``text`` (MAX_TEXT) and ``raw`` (a payload, any size)
CSV_FIELD_LIMIT = 16 * 1024 * 1024  # beyond this the CSV reader stops: not a mention export
BATCH = 2_000


@dataclass(frozen=True, slots=True)
class ImportReport:
    """Outcome of an import: counts and ``(line number, reason)`` for each rejected line."""

    file: str
    inserted: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    started_id: int | None = None  # the ``import-started`` event of an import longer than one batch


def mention_from_record(rec: Mapping[str, Any]) -> Mention:
    """Build a Mention from one normalised record; ValidationError says what is wrong."""
    missing = [k for k in REQUIRED if not str(rec.get(k) or "").strip()]
    if missing:
        raise ValidationError(f"missing field(s): {', '.join(missing)}", reason="import_missing_fields",
                              fields=missing)
    too_large = [k for k, v in rec.items() if k not in ("text", "raw") and isinstance(v, str) and len(v) > MAX_FIELD]
    if too_large:
        raise ValidationError(f"field(s) longer than {MAX_FIELD} characters: {', '.join(map(str, too_large))}",
                              reason="import_field_too_large", fields=[str(k) for k in too_large], max=MAX_FIELD)
    try:
        platform = Platform(str(rec["platform"]).strip().lower())
    except ValueError as err:
        raise ValidationError(f"unknown platform {rec['platform']!r}", reason="import_platform_unknown",
                              value=str(rec["platform"])) from err
    try:
        created = from_iso(str(rec["created_at"]).strip())
    except ValueError as err:
        raise ValidationError(f"created_at {rec['created_at']!r} is not an ISO-8601 date", reason="import_bad_date",
                              value=str(rec["created_at"])) from err
    text = str(rec["text"])
    if len(text) > MAX_TEXT:
        raise ValidationError(f"text longer than {MAX_TEXT} characters", reason="import_text_too_long", max=MAX_TEXT)
    followers = rec.get("author_followers")
    try:
        followers_n = int(followers) if followers not in (None, "") else None
    except (TypeError, ValueError) as err:
        raise ValidationError(f"author_followers {followers!r} is not a number", reason="import_bad_followers",
                              value=str(followers)) from err
    media = rec.get("media") or []
    if isinstance(media, str):
        media = [m for m in media.split("|") if m]
    raw = rec.get("raw") or {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError as err:
            raise ValidationError(f"raw is not JSON: {err}", reason="import_raw_not_json") from err

    def opt(key: str) -> str | None:
        value = rec.get(key)
        return str(value) if value not in (None, "") else None

    assert created is not None
    return Mention(
        platform=platform, platform_id=str(rec["platform_id"]).strip(), text=text,
        author=Author(platform_id=str(rec["author_id"]).strip(),
                      handle=str(rec.get("author_handle") or rec["author_id"]).strip(),
                      display_name=str(rec.get("author_name") or ""), followers=followers_n),
        created_at=created, account=str(rec.get("account") or ""), conversation_id=opt("conversation_id"),
        in_reply_to=opt("in_reply_to"), lang=opt("lang"), permalink=opt("permalink"),
        media=tuple(str(m) for m in media), kind=str(rec.get("kind") or "mention"),
        raw=raw if isinstance(raw, dict) else {"value": raw})


def _csv_records(fh: Any) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    previous = csv.field_size_limit(CSV_FIELD_LIMIT)  # process-wide: set back when the file is read
    try:
        reader = csv.DictReader(fh)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as err:  # the reader cannot resynchronise after this: stop here, say so
                reason = (f"unreadable CSV ({err}; fields are read up to {CSV_FIELD_LIMIT // 2**20} MiB): this line "
                          "and the following ones were not imported")
                yield reader.line_num, None, reason
                return
            yield reader.line_num, dict(row), ""
    finally:
        csv.field_size_limit(previous)


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """Yield (line number, record or None, error) for a .jsonl/.json-lines or .csv file (a BOM is skipped)."""
    suffix = path.suffix.lower()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        if suffix == ".csv":
            yield from _csv_records(fh)
            return
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as err:
                yield n, None, f"not valid JSON ({err.msg})"
                continue
            if not isinstance(rec, dict):
                yield n, None, "not a JSON object"
                continue
            yield n, rec, ""


def import_file(db: Database, path: Path, *, actor: str = audit.SYSTEM_CLI, now: datetime,
                score: ScoreFn | None = None, bulk: bool = False) -> ImportReport:
    """Import ``path`` (JSONL or CSV); bad lines are reported and skipped, good ones stored in batches.

    Batches are committed one by one; with ``bulk`` the whole file is one bulk load instead
    (:func:`core.repo.bulk_load`: much faster for a large history, all or nothing, other writers wait).
    """
    if not path.is_file():
        raise ValidationError(f"{path} does not exist or is not a file", reason="import_no_file", path=str(path))
    if path.suffix.lower() not in (".jsonl", ".ndjson", ".json", ".csv"):
        raise ValidationError(f"{path}: use a .jsonl or .csv file", reason="import_file_type", path=str(path))
    errors: list[tuple[int, str]] = []
    inserted = updated = 0
    batch: list[Mention] = []
    load: repo.BulkLoad | None = None
    digest = _sha256(path)
    subject = f"file:{path.name}"
    started_id: int | None = None

    def finished() -> None:  # in the transaction of the last batch (or of the bulk load): stored with its record
        audit.record(db, audit.MentionsImported(actor=actor, subject=subject, file=str(path), sha256=digest,
                                                inserted=inserted, updated=updated,
                                                rejected_lines=tuple(n for n, _ in errors), started_id=started_id),
                     at=now)

    def flush(last: bool) -> None:
        nonlocal inserted, updated, started_id
        with write_transaction(db):
            if batch:
                if not last and started_id is None and load is None:  # more batches to come: say it started
                    started_id = int(audit.record(db, audit.ImportStarted(
                        actor=actor, subject=subject, file=str(path), sha256=digest), at=now)["id"])
                res = store_mentions(db, batch, now=now, score=score, into=load)
                inserted += len(res.inserted)
                updated += len(res.updated)
                batch.clear()
            if last:
                finished()

    try:
        with contextlib.ExitStack() as stack:
            if bulk:
                load = stack.enter_context(repo.bulk_load(db, expected=_count_lines(path)))
            _read(path, batch, errors, flush)
    except UnicodeDecodeError as err:
        raise ValidationError(f"{path} is not UTF-8 text ({err.reason} at byte {err.start})",
                              reason="import_not_utf8", path=str(path), byte=err.start) from err
    return ImportReport(file=str(path), inserted=inserted, updated=updated, errors=errors, started_id=started_id)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class InterruptedImport:
    """An ``import-started`` with no ``mentions-imported`` naming it: the batches before the stop are stored."""

    event_id: int
    at: str
    actor: str
    file: str
    sha256: str


def interrupted_imports(db: Database) -> list[InterruptedImport]:
    """Imports recorded as started and never recorded as finished, oldest first."""
    finished = {json.loads(r["properties"]).get("started_id")
                for r in audit.select_events(db, events=(audit.MentionsImported.name,))}
    out = []
    for row in audit.select_events(db, events=(audit.ImportStarted.name,)):
        if row["id"] not in finished:
            props = json.loads(row["properties"])
            out.append(InterruptedImport(event_id=int(row["id"]), at=str(row["at"]), actor=str(row["actor"]),
                                         file=str(props.get("file", "")), sha256=str(props.get("sha256", ""))))
    return out


def _count_lines(path: Path) -> int:
    """Lines in ``path`` (about the number of records: what a bulk load needs to choose its plan)."""
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


def _read(path: Path, batch: list[Mention], errors: list[tuple[int, str]], flush: Callable[[bool], None]) -> None:
    """Parse ``path`` into ``batch``, calling ``flush(False)`` every BATCH mentions and ``flush(True)`` at the end
    (the last batch, possibly empty, with the import's audit event)."""
    for line_no, rec, err in _records(path):
        if rec is None:
            errors.append((line_no, err))
            continue
        try:
            batch.append(mention_from_record(rec))
        except ValidationError as verr:
            errors.append((line_no, str(verr)))
            continue
        if len(batch) >= BATCH:
            flush(False)
    flush(True)
