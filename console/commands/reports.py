"""Dashboard and reports commands: ``report``, ``faq``, ``bench dashboard`` (issue #9)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import click

from console.cli import bench, cli, db_option, load_settings
from core.clock import PARIS, utcnow
from core.db import open_db
from core.files import write_private


def _days(start: datetime | None, end: datetime | None) -> tuple[date, date]:
    today = utcnow().astimezone(PARIS).date()
    last = end.date() if end else today - timedelta(days=1)
    first = start.date() if start else last - timedelta(days=6)
    if last < first:
        raise click.BadParameter("--to is before --from")
    return first, last


_FROM = click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None,
                     help="First day (Paris), YYYY-MM-DD (default: 7 days before --to).")
_TO = click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None,
                   help="Last day included (Paris), YYYY-MM-DD (default: yesterday).")


@cli.command()
@_FROM
@_TO
@click.option("--format", "fmt", type=click.Choice(["pdf", "html", "csv"]), default="pdf", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Output file (default: rapport-FROM-TO.FORMAT in the current directory).")
@click.option("--channel", "platforms", multiple=True, help="Only this channel (x, facebook...); repeatable.")
@click.option("--account", "accounts", multiple=True, help="Only this account; repeatable.")
@click.option("--tag", "tags", multiple=True, help="Only mentions with this tag; repeatable (any of them).")
@click.option("--service", default=None, help="Only this municipal service (see PARVIS_DASHBOARD_SERVICES).")
@db_option
def report(start: datetime | None, end: datetime | None, fmt: str, out: Path | None, platforms: tuple[str, ...],
           accounts: tuple[str, ...], tags: tuple[str, ...], service: str | None, db_path: Path | None) -> None:
    """Write the activity report (volumes, response times, sentiment, topics, moderation, posts) for a period."""
    from services.reports import dashboard
    from services.reports import weekly as reports

    settings = load_settings(db_path)
    first, last = _days(start, end)
    since, until = dashboard.period(first, last)
    db = open_db(settings.db_path)
    try:
        config = dashboard.DashboardConfig.from_settings(settings)
        filters = dashboard.DashboardFilters(platforms=platforms, accounts=accounts, tags=tags, service=service)
        built = reports.build_report(db, since=since, until=until, config=config, now=utcnow(), filters=filters)
        data = reports.render(built, fmt)
    finally:
        db.close()
    out = out or Path(f"rapport-{first.isoformat()}-{last.isoformat()}.{fmt}")
    write_private(out, data)  # the report quotes residents (topic examples): 0600
    click.echo(f"{out} ({len(data):,} bytes): {built.dashboard.totals['mentions']} mentions, {first} to {last}")


@cli.command()
@_FROM
@_TO
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Output file (default: print to standard output).")
@click.option("--max", "max_entries", default=15, show_default=True, help="Most questions to keep.")
@db_option
def faq(start: datetime | None, end: datetime | None, fmt: str, out: Path | None, max_entries: int,
        db_path: Path | None) -> None:
    """Export « Questions fréquentes »: frequent questions and the team's answers, personal data removed."""
    from services.reports import dashboard
    from services.reports.faq import build_faq, faq_html, faq_markdown

    settings = load_settings(db_path)
    first, last = _days(start, end)
    since, until = dashboard.period(first, last)
    db = open_db(settings.db_path)
    try:
        entries = build_faq(db, since=since, until=until, config=dashboard.DashboardConfig.from_settings(settings),
                            now=utcnow(), max_entries=max_entries)
    finally:
        db.close()
    text = faq_html(entries) if fmt == "html" else faq_markdown(entries)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"{out}: {len(entries)} questions")


@bench.command("dashboard")
@click.option("--mentions", default=100_000, show_default=True, help="How many mentions to generate.")
@click.option("--days", default=365, show_default=True, help="Days of history they are spread over.")
@click.option("--queries", default=20, show_default=True, help="Page loads per filter variant.")
@click.option("--no-topics", is_flag=True, help="Do not time the topic grouping.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@db_option
def bench_dashboard(mentions: int, days: int, queries: int, no_topics: bool, as_json: bool,
                    db_path: Path | None) -> None:
    """Generate N mentions in a fresh database, then time the dashboard page over a 30-day window (p95_ms)."""
    from console.bench import dashboard as bench_mod

    result = bench_mod.run(mentions, days=days, queries=queries, db_path=db_path, topics=not no_topics)
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            click.echo(f"{key:>18}: {value}")
