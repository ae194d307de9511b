"""Operations commands: ``backup``, ``restore``, ``migrate`` (logic in services/operations/, core/db.py).

Exit codes: 0 done; 1 refused or failed (a backup that fails its checks, a database in use, a database from a
newer Parvis), with one line saying why and what to do; 2 a usage error.
"""

from __future__ import annotations

from pathlib import Path

import click

from console.cli import cli, db_option, load_settings
from core import snapshot
from core.clock import utcnow
from core.db import apply_migrations, backup_dir_for, open_db, open_readonly, pending_migrations, schema_version
from core.errors import BackupError
from services.operations import backups


@cli.command()
@db_option
@click.option("--to", "folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of the backup (default: $PARVIS_BACKUP_DIR, else backups/ beside the database).")
@click.option("--rotate/--no-rotate", default=False, show_default=True,
              help="Then delete the backups the retention policy no longer keeps (7 daily, 4 weekly, 12 monthly).")
def backup(db_path: Path | None, folder: Path | None, rotate: bool) -> None:
    """Back up the database while Parvis runs, check the copy, write its SHA-256 manifest."""
    settings = load_settings(db_path)
    target = folder or backups.backup_dir(settings)
    done = backups.take_backup(settings.db_path, target, now=utcnow())
    head = done.manifest["audit_head"]
    click.echo(f"Backup written: {done.path}")
    click.echo(f"Manifest: {done.manifest_path} (sha256 {done.manifest['sha256']})")
    click.echo(f"Checked: integrity ok, audit chain ok ({done.manifest['checks']['audit_rows']} rows, head "
               f"#{head['id']}), {sum(done.manifest['counts'].values())} rows in {len(done.manifest['counts'])} "
               "tables")
    if rotate:
        removed = backups.rotate(target, backups.RetentionPolicy.from_settings(settings))
        click.echo(f"Rotation: {len([p for p in removed if p.suffix == '.db'])} old backup(s) deleted.")


@cli.command()
@db_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the database even if Parvis seems to be running on it.")
@click.option("--check-only", is_flag=True, help="Only check the backup file; change nothing.")
def restore(db_path: Path | None, file: Path, force: bool, check_only: bool) -> None:
    """Restore a backup: check it first, then replace the database (the replaced file is kept beside it)."""
    settings = load_settings(db_path)
    if check_only:
        check = backups.verify_backup(file)
        if not check.ok:
            problems = "; ".join(check.problems)
            raise BackupError(f"{file} failed its checks: {problems}", reason="backup_rejected", path=file,
                              problems=problems)
        click.echo(f"{file}: ok (schema {check.schema_version}, audit head #{check.audit_head_id}, "
                   f"{'with' if check.manifest else 'without'} manifest)")
        return
    done = backups.restore(file, settings.db_path, now=utcnow(), force=force)
    check = done.verification
    if check.manifest is None:
        click.echo(f"Warning: {file} has no manifest: its SHA-256 could not be compared (checks passed).",
                   err=True)
    click.echo(f"Restored {file} into {done.db_path} (audit head #{check.audit_head_id}, chain verified).")
    if done.replaced is not None:
        click.echo(f"The previous database is kept as {done.replaced}")


@cli.command()
@db_option
@click.option("--dry-run", is_flag=True, help="List the migrations that would run; change nothing.")
def migrate(db_path: Path | None, dry_run: bool) -> None:
    """Upgrade the database schema to this version of Parvis (after a backup, when it holds data)."""
    settings = load_settings(db_path)
    path = settings.db_path
    if not path.is_file():
        raise click.ClickException(f"no database at {path}: check --db or PARVIS_DB (`init` creates one)")
    # Both refuse a database from a newer Parvis; the dry run writes nothing at all (not even the WAL mode).
    db = open_readonly(path, check_schema=True) if dry_run else open_db(path, migrate=False)
    try:
        pending = pending_migrations(db)
        found = snapshot.user_version(db.conn)
        if dry_run:
            click.echo(f"Database {path}: schema {found}; this Parvis knows {schema_version()}.")
            if not pending:
                click.echo("Nothing to do: the schema is current.")
                return
            click.echo(f"{len(pending)} migration(s) would run, in this order:")
            for name in pending:
                click.echo(f"  {name}")
            click.echo(f"A copy of the database would be taken first into {backup_dir_for(path)}/")
            return
        report = apply_migrations(db, path)
    finally:
        db.close()
    if not report.applied:
        click.echo(f"Nothing to do: {path} is at schema {report.to_version}.")
        return
    if report.backup is not None:
        click.echo(f"Backup taken before migrating: {report.backup}")
    click.echo(f"Applied {len(report.applied)} migration(s): {', '.join(report.applied)}; "
               f"schema {report.from_version} -> {report.to_version}.")
