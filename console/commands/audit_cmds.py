"""Audit trail commands: ``audit verify|checkpoint|head|export`` and ``bench audit`` (logic in core/audit/,
services/).

Exit codes of ``audit verify``: 0 intact; 3 the chain is broken (a row edited, deleted, inserted or
reordered); 4 the chain does not contain the countersigned head given with ``--head`` (rewritten or
truncated); 7 the chain does not match a signed checkpoint (tail cut, chain rewritten, last rows rehashed), or a
checkpoint is forged, edited or missing; 5 the legal archive does not match its seals; 6 the append-only
triggers were dropped. (1 is any other error, 2 a usage error, as for every command.) ``audit verify`` opens the
database read-only and works on a read-only copy of the evidence.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlite_utils import Database

from console.cli import audit, bench, db_option, load_settings
from core import audit as chain
from core import repo
from core.clock import PARIS, from_iso, utcnow
from core.db import open_db, open_readonly, write_transaction
from core.errors import ValidationError
from services.archive import checkpoints, exports
from services.archive import published as archive_service
from services.archive.audit_trail import head_text
from services.archive.published import Actor

EXIT_CHAIN, EXIT_HEAD, EXIT_ARCHIVE, EXIT_GUARDS, EXIT_CHECKPOINT = 3, 4, 5, 6, 7
_HEX64 = re.compile(r"\b[0-9a-fA-F]{64}\b")


def open_existing(path: Path) -> Database:
    """Open an existing database; a mistyped --db must not silently create an empty one that "verifies"."""
    if not path.exists():
        raise click.ClickException(f"no database at {path}: check --db or PARVIS_DB")
    return open_db(path)


def parse_when(text: str | None, *, end: bool = False) -> datetime | None:
    """``2026-01-31`` (a Paris calendar day; as an end bound the whole day is included) or an ISO date-time."""
    if not text:
        return None
    try:
        if len(text) == 10:
            day = datetime.fromisoformat(text).replace(tzinfo=PARIS)
            return (day + timedelta(days=1) if end else day).astimezone(UTC)
        parsed = from_iso(text)
    except ValueError as err:
        raise click.BadParameter(f"{text!r} is not a date (YYYY-MM-DD) or an ISO date-time") from err
    return parsed


def resolve_actor(actor: str, db: Database) -> Actor:
    """``--actor``: an agent's e-mail (role-checked) or a system name such as ``system:cli``."""
    if "@" in actor:
        agent = repo.agent_by_email(db, actor)
        if agent is None:
            raise click.ClickException(f"no agent with e-mail {actor}")
        return agent
    if not actor.startswith("system:"):
        raise click.BadParameter("give an agent e-mail or a name starting with 'system:'", param_hint="--actor")
    return actor


FC = TypeVar("FC", bound=Callable[..., Any])


def actor_option(func: FC) -> FC:
    """The ``--actor`` option of commands that change or export data."""
    return click.option("--actor", default=chain.SYSTEM_CLI, show_default=True,
                        help="Who acts: an agent e-mail (role-checked) or system:<name>.")(func)


def read_head(value: str) -> tuple[int | None, str]:
    """(id, hash) from a head file written by ``audit head`` (text or JSON) or from a bare 64-hex hash."""
    path = Path(value)
    text = path.read_text(encoding="utf-8") if path.is_file() else value
    head_id: int | None = None
    digest: str | None = None
    try:
        data = json.loads(text)
        if isinstance(data, dict):
            head_id, digest = int(data["id"]), str(data["hash"])
    except (ValueError, KeyError, TypeError):
        for line in text.splitlines():
            key, sep, rest = line.partition(":")
            if sep and key.strip().lower() == "hash":
                digest = rest.strip()
            elif sep and key.strip().lower() == "id" and rest.strip().lstrip("#").isdigit():
                head_id = int(rest.strip().lstrip("#"))
    if digest is None:
        found = _HEX64.search(text)
        digest = found.group(0) if found else None
    if digest is None or not _HEX64.fullmatch(digest):
        raise click.BadParameter(f"no SHA-256 (64 hex digits) in {value!r}", param_hint="--head")
    return head_id, digest.lower()


def checkpoints_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """The ``--checkpoints DIR`` option (default: PARVIS_AUDIT_CHECKPOINT_DIR, else checkpoints/ beside the
    database)."""
    return click.option("--checkpoints", "checkpoint_dir", type=click.Path(file_okay=False, path_type=Path),
                        default=None, help="Checkpoint folder (default: $PARVIS_AUDIT_CHECKPOINT_DIR, else "
                                           "checkpoints/ beside the database).")(func)


@audit.command("verify")
@db_option
@click.option("--head", "head", default=None, help="A countersigned head (file from `audit head`, or its hash).")
@checkpoints_option
@click.option("--public-key", "public_keys", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Trusted public key (PEM, from `audit checkpoint --public-key`); repeatable. Default: "
                   "$PARVIS_AUDIT_PUBLIC_KEY, else the signing key's.")
@click.option("--require-checkpoint", is_flag=True, help="Fail (exit 7) when the folder holds no checkpoint.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def audit_verify(db_path: Path | None, head: str | None, checkpoint_dir: Path | None, public_keys: tuple[Path, ...],
                 require_checkpoint: bool, as_json: bool) -> None:
    """Verify the hash chain against the signed checkpoints, the triggers and the archive seals (exit 0 when
    intact). Read-only: works on a read-only copy of the database."""
    settings = load_settings(db_path, watch=False)
    if not settings.db_path.exists():
        raise click.ClickException(f"no database at {settings.db_path}: check --db or PARVIS_DB")
    anchor = checkpoints.Anchor.from_settings(settings, folder=checkpoint_dir)
    db = open_readonly(settings.db_path)
    try:
        started = time.perf_counter()
        report = chain.verify_chain(db)
        seconds = time.perf_counter() - started
        anchored = checkpoints.check(db, anchor, public_keys=public_keys)
        guards = chain.missing_guards(db)
        archive = archive_service.verify_archive(db)
        head_problem = ""
        if head and report.ok:
            head_id, head_hash = read_head(head)
            where = chain.id_of_hash(db, head_hash)
            if where is None or (head_id is not None and where != head_id):
                stored = chain.stored_hash(db, head_id) if head_id is not None else None
                head_problem = (f"the countersigned head (event #{head_id}, {head_hash[:16]}…) is not in this chain"
                                + (f": event #{head_id} now has hash {stored[:16]}…" if stored else
                                   ": that event no longer exists") + " — the chain was rewritten or truncated")
    finally:
        db.close()
    checkpoint_problems = list(anchored.problems)
    if require_checkpoint and not anchored.checkpoints:
        checkpoint_problems.append(f"no checkpoint in {anchor.folder}")
    code = 0
    if not report.ok:
        code = EXIT_CHAIN
    elif head_problem:
        code = EXIT_HEAD
    elif checkpoint_problems:
        code = EXIT_CHECKPOINT
    elif not archive.ok:
        code = EXIT_ARCHIVE
    elif guards:
        code = EXIT_GUARDS
    latest = anchored.latest
    if as_json:
        click.echo(json.dumps({"ok": code == 0, "exit_code": code, "checked": report.checked,
                               "head_id": report.head_id, "head_hash": report.head_hash,
                               "broken_id": report.broken_id, "reason": report.reason, "head_problem": head_problem,
                               "checkpoint_dir": str(anchor.folder), "checkpoints": anchored.checkpoints,
                               "checkpoint_signatures_checked": anchored.signatures_checked,
                               "latest_checkpoint": None if latest is None else {
                                   "file": latest.name, "head_id": latest.head_id, "head_hash": latest.head_hash,
                                   "count": latest.count, "taken_at": latest.taken_at, "key_id": latest.key_id},
                               "checkpoint_problems": checkpoint_problems,
                               "archive_checked": archive.checked, "archive_problems": archive.problems,
                               "missing_triggers": guards, "verify_s": round(seconds, 3)}))
    elif report.ok:
        click.echo(f"Audit chain intact: {report.checked} event(s) verified in {seconds:.2f} s; head #{report.head_id} "
                   f"{report.head_hash}")
    else:
        click.echo(f"AUDIT CHAIN BROKEN at event #{report.broken_id}: {report.reason}. Events before it "
                   f"({report.checked}) verify.", err=True)
    if head_problem:
        click.echo(f"HEAD MISMATCH: {head_problem}", err=True)
    elif head and report.ok and not as_json:
        click.echo("Countersigned head found in the chain: nothing before it was rewritten.")
    for problem in checkpoint_problems:
        click.echo(f"CHECKPOINT: {problem}", err=True)
    if not anchored.checkpoints and not as_json:
        click.echo(f"WARNING: no checkpoint in {anchor.folder}: a cut tail or a rewrite of the whole chain cannot be "
                   "detected (take one: python -m console audit checkpoint)", err=True)
    elif latest is not None and not checkpoint_problems and not as_json:
        after = (f"; events after #{latest.head_id} are not covered by a checkpoint yet"
                 if report.head_id and report.head_id > latest.head_id else "")
        click.echo(f"Checkpoints hold: {anchored.checkpoints} signed checkpoint(s) (key {latest.key_id}), the latest "
                   f"({latest.name}, event #{latest.head_id}) matches the chain{after}.")
    for problem in archive.problems:
        click.echo(f"ARCHIVE: {problem}", err=True)
    if guards:
        click.echo(f"WARNING: append-only trigger(s) missing: {', '.join(guards)} (dropped outside Parvis)", err=True)
    if code:
        raise SystemExit(code)


@audit.command("checkpoint")
@db_option
@checkpoints_option
@click.option("--public-key", "public_key", is_flag=True,
              help="Print the public key (PEM) that verifies the checkpoints, for a third party; takes no checkpoint.")
@click.option("--json", "as_json", is_flag=True, help="Print the checkpoint as JSON.")
def audit_checkpoint(db_path: Path | None, checkpoint_dir: Path | None, public_key: bool, as_json: bool) -> None:
    """Sign the head of the audit chain into a new checkpoint file outside the database (the worker takes one
    every hour, and every command that writes audit events one at its end)."""
    settings = load_settings(db_path, watch=False)
    if public_key:
        click.echo(checkpoints.Anchor.from_settings(settings, folder=checkpoint_dir).public_pem(), nl=False)
        return
    taken = checkpoints.take(settings, now=utcnow(), folder=checkpoint_dir)
    assert taken is not None and taken.path is not None
    if as_json:
        click.echo(json.dumps({"file": str(taken.path), **taken.payload(), "signature": taken.signature}))
    else:
        click.echo(f"Checkpoint written: {taken.path}\nevent #{taken.head_id}, {taken.count} event(s), hash "
                   f"{taken.head_hash}\nsigned {taken.taken_at} with key {taken.key_id}")


@audit.command("head")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the head as JSON.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the head to this file (to print, e-mail and countersign).")
def audit_head(db_path: Path | None, as_json: bool, out: Path | None) -> None:
    """Print the chain head (id, hash, time) to be countersigned outside Parvis."""
    settings = load_settings(db_path)
    db = open_existing(settings.db_path)
    now = utcnow()
    try:
        head = chain.chain_head(db)
        if head is None:
            raise click.ClickException("the audit log is empty: nothing to countersign yet")
        with write_transaction(db):
            chain.record(db, chain.AuditHeadExported(actor=chain.SYSTEM_CLI, role="system", subject="audit-head",
                                                     head_id=int(head["id"]), head_hash=str(head["hash"])), at=now)
    finally:
        db.close()
    text = json.dumps(head) if as_json else head_text(head, settings.db_path, now)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    click.echo(text)


def formats_or_all(values: tuple[str, ...]) -> tuple[str, ...]:
    """The --format values, or every format when none is given."""
    return tuple(values) or exports.FORMATS


@audit.command("export")
@db_option
@click.option("--from", "since", default=None, help="Start (YYYY-MM-DD, Paris day, or ISO date-time).")
@click.option("--to", "until", default=None, help="End, included when a day (give it for reproducible exports).")
@click.option("--format", "formats", multiple=True, type=click.Choice(exports.FORMATS), help="Repeatable; default all.")
@click.option("--event", "events", multiple=True, help="Only these event names (repeatable).")
@click.option("--by", "actors", multiple=True, help="Only events by this actor (repeatable).")
@click.option("--subject", default=None, help="Only events about this object (e.g. a mention uid).")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--allow-broken", is_flag=True, help="Export even if the chain is broken (flagged in the manifest).")
@actor_option
def audit_export(db_path: Path | None, since: str | None, until: str | None, formats: tuple[str, ...],
                 events: tuple[str, ...], actors: tuple[str, ...], subject: str | None, out: Path,
                 allow_broken: bool, actor: str) -> None:
    """Export audit events as CSV/JSON/PDF with a manifest of SHA-256 hashes."""
    settings = load_settings(db_path)
    db = open_existing(settings.db_path)
    try:
        selection = exports.AuditSelection(since=parse_when(since), until=parse_when(until, end=True),
                                           actors=actors, events=events, subject=subject)
        result = exports.export_audit(db, selection, out, formats=formats_or_all(formats),
                                      actor=resolve_actor(actor, db), now=utcnow(), allow_broken=allow_broken)
    finally:
        db.close()
    print_export(result)


def print_export(result: exports.ExportResult) -> None:
    """Print the files of an export with their SHA-256 (sha256sum format)."""
    for name, digest in sorted(result.files.items()):
        click.echo(f"{digest}  {result.out_dir / name}")
    click.echo(f"{result.manifest_sha256}  {result.out_dir / 'manifest.json'}")
    click.echo(f"{result.items} item(s) exported to {result.out_dir}"
               + ("" if result.verified else " — WARNING: integrity check FAILED, see manifest.json"))


@bench.command("audit")
@db_option
@click.option("--events", "count", default=100_000, show_default=True, help="Events to append.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def bench_audit(db_path: Path | None, count: int, as_json: bool) -> None:
    """Append N audit events (one transaction each, as in production), then verify the whole chain."""
    if count < 1:
        raise ValidationError("--events must be at least 1", reason="bench_events_min")
    with tempfile.TemporaryDirectory(prefix="parvis-bench-") as tmp:
        path = db_path or Path(tmp) / "bench.db"
        db = open_db(path)
        try:
            result = _run_bench(db, count)
        finally:
            db.close()
        result["db_mb"] = round(sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6, 1)
    click.echo(json.dumps(result) if as_json else "\n".join(f"{k}: {v}" for k, v in result.items()))


def _run_bench(db: Database, count: int) -> dict[str, object]:
    now = utcnow()
    tail = max(1, count // 10)
    cpu_start = time.process_time()
    start = time.perf_counter()
    tail_start = start
    for i in range(count):
        if i == count - tail:
            tail_start = time.perf_counter()
        if i % 3 == 2:
            event: chain.AuditEvent = chain.NoteAdded(
                actor="julie@valmont.fr", role="community_manager", subject=f"x:{1_000_000 + i % 50_000}",
                note_id=i, text="Rappeler l'usager après le passage de la voirie (rue des Lilas, n° 12).")
        else:
            event = chain.StatusChanged(actor="karim@valmont.fr", role="community_manager",
                                        subject=f"facebook:{2_000_000 + i % 50_000}", before="new", after="assigned")
        with write_transaction(db):
            chain.record(db, event, at=now + timedelta(microseconds=i))
    end = time.perf_counter()
    cpu_end = time.process_time()
    report = chain.verify_chain(db)
    verify_s = time.perf_counter() - end
    verify_cpu_s = time.process_time() - cpu_end
    # CPU seconds next to wall seconds: on a shared machine the wall time mostly measures the other tenants.
    return {"events": count, "append_s": round(end - start, 2), "append_per_s": round(count / (end - start)),
            "append_per_s_last_10pct": round(tail / (end - tail_start)),
            "append_cpu_s": round(cpu_end - cpu_start, 2), "verify_s": round(verify_s, 2),
            "verify_cpu_s": round(verify_cpu_s, 2),
            "verify_per_s": round(report.checked / verify_s) if verify_s else None, "ok": report.ok,
            "transaction_per_event": True, "load_avg_1m": round(os.getloadavg()[0], 2)}
