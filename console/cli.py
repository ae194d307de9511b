"""``python -m console``: the command-line entry point (click, which ships with Streamlit).

Commands live in ``console/commands/*.py``; each module attaches its commands to the groups defined here
(``cli``, ``bench``, ``eval``, ``train``, ``audit``, ``users``...), and :func:`main` imports them all.
Every command takes ``--db PATH`` (default: ``PARVIS_DB``, else ``<data dir>/parvis.db``).

A command whose run moved the head of the audit chain ends with a signed checkpoint of it, outside the database
(:func:`main`, services/archive/checkpoints.py): the database it uses is noted when it calls :func:`load_settings`.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from console.messages import message_for
from core.clock import utcnow
from core.config import Settings
from core.errors import ParvisError
from core.version import __version__

F = TypeVar("F", bound=Callable[..., Any])


def db_option(func: F) -> F:
    """The ``--db PATH`` option every subcommand accepts."""
    return click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="Database file (default: $PARVIS_DB, else <data dir>/parvis.db).")(func)


def load_settings(db_path: Path | None, *, watch: bool = True) -> Settings:
    """Settings with ``--db`` applied; config errors become a clean CLI error (French, from the catalogue).

    ``watch``: note the head of the database's audit chain now, so that :func:`main` checkpoints it if the command
    moves it (False for commands that only read, such as ``audit verify`` on a read-only copy).
    """
    try:
        settings = Settings.load(db_path=db_path)
    except ParvisError as err:
        raise click.ClickException(message_for(err)) from err
    if watch and settings.db_path not in _WATCHED:
        from services.archive import checkpoints  # here, not at the top: `--help` need not load cryptography

        _WATCHED[settings.db_path] = (settings, checkpoints.current_head(settings.db_path))
    from console import logs

    logs.add_secrets(logs.secrets_of(settings))  # masked in every log line of this command
    return settings


# Databases the running command uses, with the hash of their chain head when it noted them (None: empty or none).
_WATCHED: dict[Path, tuple[Settings, str | None]] = {}


def checkpoint_moved_heads() -> None:
    """Checkpoint each noted database whose head moved; a failure is a warning (the worker will retry hourly)."""
    from services.archive import checkpoints

    watched = list(_WATCHED.values())
    _WATCHED.clear()
    for settings, before in watched:
        try:
            if checkpoints.current_head(settings.db_path) == before:
                continue
            taken = checkpoints.take(settings, now=utcnow(), only_if_moved=True)
        except ParvisError as err:
            logging.getLogger("parvis.cli").debug("checkpoint failed: %s: %s", type(err).__name__, err)
            click.echo(f"Avertissement : {message_for(err)}", err=True)
            continue
        if taken is not None:
            logging.getLogger("parvis.cli").debug("audit checkpoint written: %s", taken.path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="Parvis", message="%(prog)s %(version)s")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def cli(verbose: bool) -> None:
    """Parvis: the community-management console of a municipality."""
    from console import logs

    logs.configure(level=logging.DEBUG if verbose else logging.INFO)


@cli.group()
def bench() -> None:
    """Benchmarks: each prints one JSON object (see BENCHMARKS.md)."""


@cli.group(name="eval")
def eval_group() -> None:
    """Measure model quality on labelled data."""


@cli.group()
def train() -> None:
    """Rebuild the shipped models reproducibly."""


@cli.group()
def audit() -> None:
    """Audit trail: verify the hash chain, checkpoint it, export."""


@cli.group()
def users() -> None:
    """Manage agents (accounts, roles, signatures)."""


def _load_commands() -> None:
    package = importlib.import_module("console.commands")
    for mod in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        importlib.import_module(f"console.commands.{mod.name}")


def _prog_name() -> str:
    """``parvis`` when started by the installed command, else ``python -m console``."""
    return "parvis" if Path(sys.argv[0]).name == "parvis" else "python -m console"


def main(argv: list[str] | None = None) -> int:
    """Run the CLI (``python -m console`` and the installed ``parvis`` command); ParvisError becomes a one-line
    French message (the UI's, :func:`message_for`) and exit code 1; ``-v`` also logs its English developer
    message. Then, whatever the outcome, checkpoint the audit chain of every database whose head the command
    moved (:func:`checkpoint_moved_heads`)."""
    _load_commands()
    _WATCHED.clear()
    try:
        return _run(argv)
    finally:
        checkpoint_moved_heads()


def _run(argv: list[str] | None) -> int:
    try:
        cli.main(args=argv, prog_name=_prog_name(), standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except ParvisError as err:
        logging.getLogger("parvis.cli").debug("%s: %s", type(err).__name__, err)
        click.echo(f"Erreur : {message_for(err)}", err=True)
        return 1
    except SystemExit as err:  # ctx.exit(n) inside commands
        return int(err.code or 0)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
