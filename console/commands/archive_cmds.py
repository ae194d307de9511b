"""Legal archive, retention and RGPD commands: ``archive …``, ``retention …``, ``rgpd …``.

The worker's daily retention purge is console/jobs/housekeeping.py (listed in ``console.worker.jobs``).
"""

from __future__ import annotations

from pathlib import Path

import click

from console.cli import cli, db_option, load_settings
from console.commands.audit_cmds import (
    actor_option,
    formats_or_all,
    open_existing,
    parse_when,
    print_export,
    resolve_actor,
)
from core.clock import format_paris, utcnow
from core.repo.archive import STATUSES, ArchiveFilter
from services.archive import exports, retention, rgpd, transfer
from services.archive import published as archive_service
from services.inbox import private


@cli.group()
def archive() -> None:
    """Legal archive of published messages: search, history, exports, transfer to the archives."""


@archive.command("export")
@db_option
@click.option("--from", "since", default=None, help="Published from (YYYY-MM-DD Paris day, or ISO date-time).")
@click.option("--to", "until", default=None, help="Published until (a day is included).")
@click.option("--agent", default=None, help="Author or approver e-mail.")
@click.option("--platform", "platforms", multiple=True, help="Repeatable.")
@click.option("--account", default=None)
@click.option("--status", type=click.Choice(STATUSES), default=None)
@click.option("--keyword", default="", help="Words in the message or in the mention it answered.")
@click.option("--format", "formats", multiple=True, type=click.Choice(exports.FORMATS), help="Repeatable; default all.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--allow-broken", is_flag=True, help="Export even if integrity checks fail (flagged).")
@actor_option
def archive_export(db_path: Path | None, since: str | None, until: str | None, agent: str | None,
                   platforms: tuple[str, ...], account: str | None, status: str | None, keyword: str,
                   formats: tuple[str, ...], out: Path, allow_broken: bool, actor: str) -> None:
    """Export archived messages with their history as CSV/JSON/PDF and a SHA-256 manifest."""
    settings = load_settings(db_path)
    db = open_existing(settings.db_path)
    try:
        filters = ArchiveFilter(since=parse_when(since), until=parse_when(until, end=True), agent=agent,
                                platforms=platforms, account=account, status=status, keyword=keyword, limit=None)
        result = exports.export_archive(db, filters, out, formats=formats_or_all(formats),
                                        actor=resolve_actor(actor, db), now=utcnow(), allow_broken=allow_broken)
    finally:
        db.close()
    print_export(result)


@archive.command("transfer")
@db_option
@click.option("--from", "since", default=None, help="Start of the period (YYYY-MM-DD or ISO date-time).")
@click.option("--to", "until", default=None, help="End of the period (a day is included).")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--allow-broken", is_flag=True, help="Build the package even if integrity checks fail (flagged).")
@actor_option
def archive_transfer(db_path: Path | None, since: str | None, until: str | None, out: Path, allow_broken: bool,
                     actor: str) -> None:
    """Build the archival transfer package (payloads + SHA-256 manifest, SEDA-oriented) for a period."""
    settings = load_settings(db_path)
    db = open_existing(settings.db_path)
    try:
        result = transfer.transfer_package(db, out, since=parse_when(since), until=parse_when(until, end=True),
                                           parties=transfer.TransferParties.from_settings(settings),
                                           actor=resolve_actor(actor, db), now=utcnow(), allow_broken=allow_broken)
    finally:
        db.close()
    click.echo(f"{result.items} object(s) in {out}; manifest.json SHA-256 {result.manifest_sha256}"
               + ("" if result.verified else " — WARNING: integrity check FAILED, see manifest.json"))


@archive.command("show")
@db_option
@click.argument("message_id", type=int)
def archive_show(db_path: Path | None, message_id: int) -> None:
    """A published message's whole history: as sent, what it answered, its workflow, later changes."""
    settings = load_settings(db_path)
    db = open_existing(settings.db_path)
    try:
        h = archive_service.history(db, message_id)
    finally:
        db.close()
    m = h.message
    click.echo(f"#{m.id} {m.kind} on {m.platform} {m.account} — {m.platform_id} — {m.status}")
    click.echo(f"published {format_paris(m.published_at)} by {m.author}" + (f", approved by {m.approver}"
                                                                             if m.approver else ""))
    if m.charter_version is not None:
        click.echo(f"charter v{m.charter_version}: {list(m.charter_result)}")
    if h.answered is not None:
        click.echo(f"in reply to @{h.answered.mention.author.handle}: {h.answered.mention.text}")
    click.echo(f"text: {m.text}")
    for c in h.changes:
        click.echo(f"{format_paris(c.seen_at)} {c.change} ({c.actor})" + (f": {c.text}" if c.text else ""))
    for e in h.events:
        click.echo(f"#{e['id']} {format_paris(e['at'])} {e['event']} by {e['actor']} {e['properties']}")
    click.echo(f"seal {m.record_sha256}")


@cli.group(name="retention")
def retention_group() -> None:
    """Retention of working data (scores, assignments, notes, author profiles) and legal holds."""


@retention_group.command("purge")
@db_option
@click.option("--dry-run", is_flag=True, help="Only count what would be purged.")
def retention_purge(db_path: Path | None, dry_run: bool) -> None:
    """Purge expired working data now (the worker does it daily); legal holds are respected."""
    settings = load_settings(db_path)
    policy = retention.RetentionPolicy.from_settings(settings)
    db = open_existing(settings.db_path)
    try:
        report = retention.purge(db, policy, now=utcnow(), actor="system:cli", dry_run=dry_run)
        erased = None if dry_run else private.purge_private_texts(db, settings, now=utcnow(), actor="system:cli")
    finally:
        db.close()
    verb = "would purge" if dry_run else "purged"
    for cls, cutoff in report.cutoffs.items():
        click.echo(f"{cls}: {verb} {report.counts.get(cls, 0)} (older than {format_paris(cutoff, '%d/%m/%Y')}; "
                   f"{report.held.get(cls, 0)} held back by legal hold) — {retention.ACTIONS[cls]}")
    if "presence" in report.counts:
        click.echo(f"presence: {verb} {report.counts['presence']}")
    kept = [c for c, m in policy.months.items() if m == 0] + \
        ([retention.INTEGRATION_CLASS] if policy.integration_days == 0 else [])
    if kept:
        click.echo(f"kept forever by policy: {', '.join(kept)}")
    if report.run_id:
        click.echo(f"retention run #{report.run_id} recorded in the audit log")
    if erased is not None and erased.cutoff is not None:
        click.echo(f"private messages: erased {erased.messages} text(s) older than "
                   f"{format_paris(erased.cutoff, '%d/%m/%Y')} ({erased.held} held back by legal hold)")


@retention_group.command("hold")
@db_option
@click.option("--mention", "uid", default=None, help="A mention uid: hold its conversation or author (--scope).")
@click.option("--scope", type=click.Choice(["conversation", "author"]), default="conversation", show_default=True)
@click.option("--platform", default=None, help="With --key: the platform.")
@click.option("--key", default=None, help="With --platform: the conversation id or author id.")
@click.option("--reason", required=True, help="Why (e.g. the case or court reference).")
@actor_option
def retention_hold(db_path: Path | None, uid: str | None, scope: str, platform: str | None, key: str | None,
                   reason: str, actor: str) -> None:
    """Put a legal hold on a conversation or an author (excluded from purges until lifted)."""
    settings = load_settings(db_path)
    db = open_existing(settings.db_path)
    try:
        who = resolve_actor(actor, db)
        if uid:
            hold = retention.hold_mention(db, uid, scope=scope, reason=reason, actor=who, now=utcnow())
        elif platform and key:
            hold = retention.set_hold(db, scope=scope, platform=platform, key=key, reason=reason, actor=who,
                                      now=utcnow())
        else:
            raise click.UsageError("give --mention UID, or --platform and --key")
    finally:
        db.close()
    click.echo(f"legal hold #{hold.id} on {hold.scope} {hold.platform}:{hold.key} ({hold.reason})")


@retention_group.command("lift")
@db_option
@click.argument("hold_id", type=int)
@click.option("--reason", required=True)
@actor_option
def retention_lift(db_path: Path | None, hold_id: int, reason: str, actor: str) -> None:
    """Lift a legal hold (audited); the next purge removes the expired data it protected."""
    settings = load_settings(db_path)
    db = open_existing(settings.db_path)
    try:
        hold = retention.lift_hold(db, hold_id, reason=reason, actor=resolve_actor(actor, db), now=utcnow())
    finally:
        db.close()
    click.echo(f"legal hold #{hold.id} lifted")


@retention_group.command("holds")
@db_option
@click.option("--all", "show_all", is_flag=True, help="Include lifted holds.")
def retention_holds(db_path: Path | None, show_all: bool) -> None:
    """List legal holds."""
    settings = load_settings(db_path)
    db = open_existing(settings.db_path)
    try:
        for h in retention.holds(db, active_only=not show_all):
            state = "active" if h.active else f"lifted {format_paris(h.lifted_at)} by {h.lifted_by}"
            click.echo(f"#{h.id} {h.scope} {h.platform}:{h.key} — {h.reason} — set {format_paris(h.set_at)} by "
                       f"{h.set_by} — {state}")
    finally:
        db.close()


@cli.group(name="rgpd")
def rgpd_group() -> None:
    """Residents' RGPD requests: access export and erasure, by handle or platform id."""


@rgpd_group.command("access")
@db_option
@click.argument("handle")
@click.option("--platform", default=None, help="Only on this platform.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True)
@actor_option
def rgpd_access(db_path: Path | None, handle: str, platform: str | None, out: Path, actor: str) -> None:
    """Export everything Parvis holds about a resident (RGPD art. 15); audited."""
    settings = load_settings(db_path)
    db = open_existing(settings.db_path)
    try:
        result = rgpd.access_request(db, handle, out_dir=out, actor=resolve_actor(actor, db), now=utcnow(),
                                     platform=platform)
    finally:
        db.close()
    if not result.authors:
        click.echo(f"request #{result.request_id}: no data found for {handle!r} (recorded)")
    click.echo(f"request #{result.request_id}: {result.items} message(s); {result.sha256}  {result.path}")


@rgpd_group.command("erase")
@db_option
@click.argument("handle")
@click.option("--platform", default=None, help="Only on this platform.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@actor_option
def rgpd_erase(db_path: Path | None, handle: str, platform: str | None, yes: bool, actor: str) -> None:
    """Erase a resident's working data (RGPD art. 17); the record is kept, and the outcome says why."""
    if not yes:
        click.confirm(f"Effacer les données de travail de {handle} (scores, assignations, notes, profil) ?",
                      abort=True)
    settings = load_settings(db_path)
    db = open_existing(settings.db_path)
    try:
        result = rgpd.erasure_request(db, handle, actor=resolve_actor(actor, db), now=utcnow(), platform=platform)
    finally:
        db.close()
    click.echo(f"request #{result.request_id}: {result.outcome}")
    for cls, n in result.erased.items():
        click.echo(f"  {cls}: {n} erased")
    if result.held:
        click.echo(f"  {result.held} item(s) under legal hold not erased")
    click.echo(result.kept)
