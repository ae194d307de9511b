"""``bench publish``: the outbox worker's lateness and exactly-once counts; ``bench idle``: its CPU while idle
(see BENCHMARKS.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from console.cli import bench, db_option


@bench.command("publish")
@click.option("--posts", default=10_000, show_default=True, help="How many posts to schedule.")
@click.option("--accounts", default=1, show_default=True, help="Demo accounts each post targets.")
@click.option("--tick", "tick_s", default=60, show_default=True,
              help="The longest the worker sleeps between passes, as PARVIS_PUBLISH_TICK_S (with --fixed-tick: the "
                   "period of the former fixed tick), simulated seconds.")
@click.option("--fixed-tick", is_flag=True, help="Run the former loop (a pass every --tick seconds) for comparison.")
@click.option("--late-share", default=0.0, show_default=True,
              help="Share of the posts approved only 0.2 s before their time, while the worker sleeps.")
@click.option("--window", "window_s", type=float, default=None,
              help="Seconds over which the posts are spread (default: max(600, 2 × posts)).")
@click.option("--fault-rate", default=0.0, show_default=True,
              help="Share of platform calls that fail (half 429, half 503 after the post was created).")
@click.option("--seed", default=7, show_default=True, help="Random seed (jitter, faults).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@db_option
def bench_publish(posts: int, accounts: int, tick_s: int, fixed_tick: bool, late_share: float,
                  window_s: float | None, fault_rate: float, seed: int, as_json: bool, db_path: Path | None) -> None:
    """Schedule N approved posts on local fake accounts and run the worker in simulated time (temporary DB)."""
    from console.bench import publishing as bench_publishing

    result = bench_publishing.run(posts=posts, accounts=accounts, tick_s=tick_s, window_s=window_s,
                                  fault_rate=fault_rate, seed=seed, fixed_tick=fixed_tick, late_share=late_share)
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            click.echo(f"{key:>18}: {value}")


@bench.command("idle")
@click.option("--seconds", default=60.0, show_default=True, help="How long to measure (after a 5 s warm-up).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@db_option
def bench_idle(seconds: float, as_json: bool, db_path: Path | None) -> None:
    """Run the worker with nothing to do (temporary DB, no connector) and report the CPU time it uses."""
    from console.bench import publishing as bench_publishing

    result = bench_publishing.idle(seconds=seconds)
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            click.echo(f"{key:>18}: {value}")
