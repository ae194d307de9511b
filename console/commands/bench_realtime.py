"""``bench realtime``: event on the platform → item in the inbox, by Meta webhook, Mastodon stream and polling
(console/bench/realtime.py; needs the repository checkout, like ``bench sync``)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from console.cli import bench, db_option


@bench.command("realtime")
@click.option("--events", default=50, show_default=True, help="Events sent by webhook, and by the stream.")
@click.option("--poll-events", default=20, show_default=True, help="Events read by polling.")
@click.option("--poll-interval", default=60.0, show_default=True, help="Polling interval (s) for the polling figure.")
@click.option("--no-score", is_flag=True, help="Store without the sentiment scorer of the settings.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@db_option
def bench_realtime(events: int, poll_events: int, poll_interval: float, no_score: bool, as_json: bool,
                   db_path: Path | None) -> None:
    """Latency from an event on the fake platforms to the inbox: webhook, stream, polling; duplicates."""
    from console.bench import realtime
    from console.cli import load_settings
    from services.connections.assembly import score_fn

    for name in ("werkzeug", "services.connections.ingest", "services.connections.webhooks", "parvis.webhooks",
                 "parvis.worker", "services.connections.streaming", "uvicorn.error"):
        logging.getLogger(name).setLevel(logging.WARNING)
    score = None if no_score else score_fn(load_settings(db_path))
    out = realtime.run(events=events, poll_events=poll_events, poll_interval_s=poll_interval, score=score)
    click.echo(json.dumps(out) if as_json else json.dumps(out, indent=2))
