"""``bench publish``: the outbox worker's lateness and exactly-once counts; ``bench idle``: its CPU while idle
(see BENCHMARKS.md)."""

from __future__ import annotations

import json
import resource
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from console import publishing_jobs, worker
from console.cli import bench, db_option
from core.config import Settings
from core.storage import open_db


@bench.command("publish")
@click.option("--posts", default=10_000, show_default=True, help="How many posts to schedule.")
@click.option("--accounts", default=1, show_default=True, help="Demo accounts each post targets.")
@click.option("--tick", "tick_s", default=60, show_default=True,
              help="PARVIS_PUBLISH_TICK_S: the longest the worker sleeps between passes (with --fixed-tick: the "
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
    from services import bench_publishing

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
    result = idle(seconds=seconds)
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            click.echo(f"{key:>18}: {value}")


def idle(*, seconds: float = 60.0, warmup_s: float = 5.0) -> dict[str, Any]:
    """Run the real worker loop with the outbox job and nothing to do; CPU seconds used over ``seconds``."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), db_path=Path(tmp) / "parvis.db", values={"PARVIS_DEMO": "0"})
        open_db(settings.db_path).close()
        saved = list(worker.EXTRA_JOBS)
        worker.EXTRA_JOBS[:] = [job for job in saved if job[0] != publishing_jobs.JOB_NAME]
        publishing_jobs.register_jobs(settings)
        job = next(j for name, _, j in worker.EXTRA_JOBS if name == publishing_jobs.JOB_NAME)
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(settings, []), kwargs={"stop": stop}, daemon=True)
        try:
            thread.start()
            time.sleep(warmup_s)
            passes, checks, job_cpu = job.passes, job.checks, job.cpu_s
            before, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            time.sleep(seconds)
            after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - wall
            passes, checks, job_cpu = job.passes - passes, job.checks - checks, job.cpu_s - job_cpu
        finally:
            stop.set()
            thread.join(timeout=30)
            publishing_jobs.release(settings, datetime.now(UTC))
            worker.EXTRA_JOBS[:] = saved
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"seconds": round(wall, 2), "cpu_s": round(cpu, 3), "cpu_percent": round(100 * cpu / wall, 3),
            "outbox_passes": passes, "outbox_wake_checks": checks, "outbox_cpu_s": round(job_cpu, 3),
            "measure": "whole worker process (heartbeat every 5 s, console sync requests every 2 s, the outbox), "
                       "no connector, nothing due; getrusage after a warm-up"}
