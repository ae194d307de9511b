"""``bench topics``: ARI of the dashboard's topic groups on the labelled set, cross-validated over topics, and the
grouping time of the dashboard's window (see BENCHMARKS.md, decision 0250)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from console.cli import bench, db_option


@bench.command("topics")
@click.option("--folds", default=5, show_default=True, help="Folds of topics (GroupKFold).")
@click.option("--repeats", default=5, show_default=True,
              help="Seeds of the many-topic CV (topics cut in two halves; 0 skips it).")
@click.option("--window", default=2000, show_default=True, help="Messages grouped for the timing.")
@click.option("--no-vectors", is_flag=True, help="TF-IDF alone (what the dashboard does before the worker stored "
                                                  "any vector); skips loading the encoders.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@db_option
def bench_topics(folds: int, repeats: int, window: int, no_vectors: bool, as_json: bool, db_path: Path | None) -> None:
    """ARI of the topic groups (held-out folds of topics, then the whole set) and the grouping time (no database:
    ``--db`` is accepted like every command's, and unused)."""
    from console.bench import topics as bench_mod

    result = bench_mod.run(vectors=not no_vectors, folds=folds, window=window, repeats=repeats)
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            if key not in ("folds", "halves", "fallback"):
                click.echo(f"{key:>18}: {value}")
