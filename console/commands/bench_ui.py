"""``bench ui``: click→detail and click→result in the inbox, in Chromium (console/bench/ui.py; issue #17)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from console.cli import bench, db_option


@bench.command("ui")
@click.option("--mentions", default=100_000, show_default=True, help="How many mentions in the database.")
@click.option("--clicks", default=30, show_default=True, help="Timed clicks of each kind (after one warm-up).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@db_option
def bench_ui(mentions: int, clicks: int, as_json: bool, db_path: Path | None) -> None:
    """Build a database of N mentions (or reuse --db when it exists), start the console, and time in Chromium the
    inbox's click→detail and click→result (a tag added)."""
    import logging

    from console.bench import ui

    logging.getLogger("parvis").setLevel(logging.WARNING)
    result = ui.run(mentions, clicks, db_path=db_path)
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            click.echo(f"{key:>24}: {value}")
