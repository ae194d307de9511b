"""Foundation commands: init, demo, import, sync, worker."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import click

from console.cli import cli, db_option, load_settings
from core.clock import utcnow
from core.db import open_db
from core.files import private_dir
from services.connections import assembly
from services.connections import demo as demo_service
from services.connections.importer import import_file, interrupted_imports
from services.connections.ingest import sync_connector


@cli.command()
@db_option
def init(db_path: Path | None) -> None:
    """Create the data directory and the database (or migrate an existing one)."""
    settings = load_settings(db_path)
    private_dir(settings.db_path.parent)
    db = open_db(settings.db_path)
    db.close()
    click.echo(f"Database ready: {settings.db_path}")


@cli.command()
@db_option
@click.option("--days", default=30, show_default=True, help="Days of demo history to generate.")
def demo(db_path: Path | None, days: int) -> None:
    """Load the built-in demo city (agents + mentions); safe to run again."""
    settings = load_settings(db_path)
    private_dir(settings.db_path.parent)
    db = open_db(settings.db_path)
    try:
        report = demo_service.load_demo(db, settings, now=utcnow(), days=days)
    finally:
        db.close()
    click.echo(f"Demo ready in {settings.db_path}: {report.agents} agent(s), {report.inserted} new mention(s) "
               f"({report.total} in total).")


@cli.command(name="import")
@db_option
@click.argument("file", type=click.Path(exists=False, dir_okay=False, path_type=Path))
@click.option("--bulk", is_flag=True,
              help="Load the whole file as one bulk load: much faster for a large history (indexes rebuilt "
                   "once), all or nothing; the console stays readable but other writes (worker, agents) wait "
                   "until it ends.")
def import_cmd(db_path: Path | None, file: Path, bulk: bool) -> None:
    """Import mentions from a JSONL or CSV export (bad lines are reported and skipped).

    Earlier imports that were interrupted (started, never finished) are listed first.
    """
    settings = load_settings(db_path)
    db = open_db(settings.db_path)
    try:
        for past in interrupted_imports(db):
            click.echo(f"Warning: the import of {past.file} started at {past.at} by {past.actor} (audit event "
                       f"#{past.event_id}) never finished: the batches stored before it stopped are kept; "
                       "import the file again to complete it (nothing is duplicated).", err=True)
        try:
            report = import_file(db, file, now=utcnow(), score=assembly.score_fn(settings), bulk=bulk)
        except KeyboardInterrupt:
            stopped = [p for p in interrupted_imports(db) if p.file == str(file)]
            if bulk or not stopped:
                kept = "nothing was imported (the interrupted batch was rolled back)"
            else:
                kept = (f"the batches committed so far are kept, recorded in the audit log as import-started "
                        f"#{stopped[-1].event_id} without an end")
            click.echo(f"Interrupted: {kept}; import the file again to complete it.", err=True)
            raise SystemExit(130) from None
    finally:
        db.close()
    for line, reason in report.errors:
        click.echo(f"{file}:{line}: skipped: {reason}", err=True)
    click.echo(f"Imported {report.inserted} new and {report.updated} known mention(s) from {file}; "
               f"{len(report.errors)} line(s) skipped.")


@cli.command()
@db_option
@click.option("--connector", "names", multiple=True, help="Only this connector (repeatable).")
def sync(db_path: Path | None, names: tuple[str, ...]) -> None:
    """Run one sync pass of the enabled connectors by hand."""
    settings = load_settings(db_path)
    connectors = assembly.enabled_connectors(settings, only=names)
    db = open_db(settings.db_path)
    failed = False
    try:
        for connector in connectors:
            res = sync_connector(db, connector, now=utcnow(), score=assembly.score_fn(settings))
            if res.error_code:
                failed = True
                click.echo(f"{res.connector}: {res.status}: {res.error}", err=True)
            else:
                click.echo(f"{res.connector}: fetched {res.fetched}, new {res.inserted}, updated {res.updated}, "
                           f"revised {res.revised}, skipped {res.skipped} ({res.seconds:.2f} s)")
    finally:
        db.close()
    if failed:
        raise SystemExit(1)


@cli.command()
@db_option
@click.option("--once", is_flag=True, help="Run every job once and exit (for cron or checks).")
def worker(db_path: Path | None, once: bool) -> None:
    """Run the background worker: sync connectors, publish due posts, housekeeping (Ctrl-C / SIGTERM stops)."""
    from console import worker as worker_mod

    settings = load_settings(db_path)
    private_dir(settings.db_path.parent)
    open_db(settings.db_path).close()
    stop = threading.Event()
    worker_mod.install_signal_handlers(stop)
    if once:
        stop.set()
    from console.jobs import publishing as publishing_jobs
    from core.clock import utcnow as _now

    try:  # every job is listed in console.worker.jobs
        worker_mod.run(settings, assembly.enabled_connectors(settings), stop=stop, score=assembly.score_fn(settings))
    finally:
        publishing_jobs.release(settings, _now())
    from console.jobs import rescoring as rescoring_jobs

    if rescoring_jobs.pass_in_progress():  # stopped while encoders load: leave now, not in their native code
        import logging
        import os

        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


@cli.command()
@db_option
@click.option("--port", default=8501, show_default=True, help="Port of the web console.")
@click.option("--address", default="127.0.0.1", show_default=True,
              help="Address to listen on (anything but loopback needs sign-in: refused in open mode).")
@click.option("--no-worker", is_flag=True, help="Start only the web console.")
def up(db_path: Path | None, port: int, address: str, no_worker: bool) -> None:
    """Start the web console (with /healthz, /readyz, /metrics on the same port) and its worker; Ctrl-C or
    SIGTERM stops both."""
    import os
    import signal
    import subprocess

    from console import server  # Streamlit is loaded here only, never by the other commands
    from core.config import running_from_checkout
    from core.settings_schema import PathSettings
    from services.accounts import open_mode

    settings = load_settings(db_path)
    private_dir(settings.db_path.parent)
    db = open_db(settings.db_path)  # create or migrate it here, once, before the worker and the console start
    try:  # open mode (no sign-in) never listens beyond this machine
        open_mode.check_listen_address(open_mode.auth_mode(db, settings), address)
    finally:
        db.close()
    # The console (this process) and the worker use the same database and data directory, whatever --db said.
    os.environ.update(settings.child_env())
    os.environ[PathSettings.key("data_dir")] = str(settings.data_dir)
    env = dict(os.environ)
    if running_from_checkout():  # `python -m console` from another folder than the checkout's root
        root = str(Path(server.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    worker_proc = None
    if not no_worker:
        worker_proc = subprocess.Popen([sys.executable, "-m", "console", "worker"], env=env)

    def stopped(_signum: int, _frame: object) -> None:
        # uvicorn shuts down gracefully on SIGTERM, then raises it again with this handler restored:
        # leave through `finally` (stop the worker) with exit code 0 instead of dying on the spot.
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stopped)
    try:
        server.serve(settings, address=address, port=port)
    except KeyboardInterrupt:
        pass
    finally:
        if worker_proc is not None:
            worker_proc.terminate()
            try:
                worker_proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker_proc.kill()
