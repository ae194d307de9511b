"""``python -m console settings``: every declared setting with this installation's value, or the README table."""

from __future__ import annotations

from pathlib import Path

import click

from console.cli import cli, db_option, load_settings
from core import settings_schema as schema
from core.errors import ConfigError
from core.settings_schema import markdown_table

START, END = "<!-- settings:start -->", "<!-- settings:end -->"


def with_table(text: str, table: str) -> str:
    """``text`` (the README) with what lies between the settings markers replaced by ``table``."""
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise click.ClickException(f"the markers {START} and {END} are not both in the file")
    return f"{head}{START}\n{table}{END}{tail}"


def table_in(text: str) -> str:
    """The table between the settings markers of ``text`` (empty when the markers are missing)."""
    _, _, rest = text.partition(START)
    return rest.partition(END)[0].lstrip("\n")


@cli.command(name="settings")
@click.option("--markdown", is_flag=True, help="Print the Markdown table of every setting (the README's).")
@click.option("--write", "target", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Rewrite the table between the settings markers of this file (README.md).")
@db_option
def settings_cmd(markdown: bool, target: Path | None, db_path: Path | None) -> None:
    """Each setting with its value here (secrets masked), unreadable values and unknown keys; or the table."""
    if target is not None:
        target.write_text(with_table(target.read_text(encoding="utf-8"), markdown_table()), encoding="utf-8")
        click.echo(f"{target}: settings table rewritten")
        return
    if markdown:
        click.echo(markdown_table(), nl=False)
        return
    settings = load_settings(db_path)
    click.echo(f"data directory: {settings.data_dir}\ndatabase: {settings.db_path}")
    for cls in schema.AREAS:
        try:
            values = settings.area(cls)
        except ConfigError as err:
            click.echo(f"[{cls.AREA}] unreadable: {err}")
            continue
        click.echo(f"[{cls.AREA}]")
        for name, spec in cls.declared():
            value = getattr(values, name)
            shown = ("***" if value else "(unset)") if spec.secret else (
                str(value) if isinstance(value, Path) else repr(value))
            origin = "" if settings.values.get(spec.key) not in (None, "") else "  (default)"
            click.echo(f"  {spec.key} = {shown}{origin}")
    for key in sorted(k for k in settings.values if any(d.matches(k) for d in schema.DYNAMIC)):
        click.echo(f"  {key} = {settings.values[key]!r}")
    for line in settings.unknown_key_warnings():
        click.echo(f"warning: {line}", err=True)
