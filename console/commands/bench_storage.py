"""``bench storage``: ingest rate and inbox/search latency (see BENCHMARKS.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from console.cli import bench, db_option


@bench.command("storage")
@click.option("--mentions", default=100_000, show_default=True, help="How many mentions to ingest.")
@click.option("--queries", default=200, show_default=True, help="Queries per latency measure.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@db_option
def bench_storage(mentions: int, queries: int, as_json: bool, db_path: Path | None) -> None:
    """Bulk ingest N mentions into a fresh database, then time the inbox and search queries."""
    from console.bench import storage as bench_mod

    result = bench_mod.run(mentions, db_path=db_path, queries=queries)
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            click.echo(f"{key:>24}: {value}")
