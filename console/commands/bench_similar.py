"""``bench similar``: precision@3 and p95 latency of similar answers (see BENCHMARKS.md, decisions 0171, 0195)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from console.cli import bench, db_option


@bench.command("similar")
@click.option("--answered", default=100_000, show_default=True, help="Answered conversations for the latency.")
@click.option("--method", type=click.Choice(["hybrid", "fts", "e5"]), default="hybrid", show_default=True,
              help="hybrid: what the inbox uses once the worker stored the vectors (decision 0195); fts: full "
                   "text alone (a message without its vector yet); e5: e5 alone, measured for decision 0171.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@db_option
def bench_similar(answered: int, method: str, as_json: bool, db_path: Path | None) -> None:
    """Labelled-set precision@3 of the three similar answers, and their p95 latency at N answered items."""
    from console.bench import similar as bench_mod

    result = bench_mod.run(answered=answered, method=method)
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            click.echo(f"{key:>26}: {value}")
