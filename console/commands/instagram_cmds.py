"""``python -m console instagram-mention``: ingest an Instagram ``mentions`` webhook payload.

Meta pushes @mentions of the account (in other accounts' captions and comments) only by webhook; a city's webhook
relay saves the JSON body it received and runs this command, which reads the mentioned comment or caption through
the Graph API and stores it in the inbox like a sync would. It reads the body as the ``/webhooks/meta`` route's
events are read (services/connections/webhooks.py), so any saved Meta body can be replayed this way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from console.cli import cli, db_option, load_settings
from core.clock import utcnow
from core.db import open_db
from services.connections import assembly, webhooks


@cli.command(name="instagram-mention")
@db_option
@click.option("--payload", "payload_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="JSON body of the webhook ('-' reads standard input).")
@click.option("--connector", "name", default="instagram", show_default=True, help="Instagram connector name.")
def instagram_mention(db_path: Path | None, payload_file: Path, name: str) -> None:
    """Read the @mentions an Instagram 'mentions' webhook payload points to and add them to the inbox."""
    settings = load_settings(db_path)
    try:
        text = click.open_file("-").read() if str(payload_file) == "-" else payload_file.read_text("utf-8")
        payload = json.loads(text)
    except (OSError, ValueError) as err:
        raise click.ClickException(f"cannot read the webhook payload {payload_file}: {err}") from err
    connector = assembly.enabled_connectors(settings, only=(name,))[0]
    reader = getattr(connector, "mentions_from_webhook", None)
    if reader is None:
        raise click.ClickException(f"connector {name!r} does not read Instagram webhook payloads")
    db = open_db(settings.db_path)
    try:  # the same parsing and dispatch as the /webhooks/meta route's events (services/connections/webhooks.py)
        (inserted, updated, _), notes, handled = webhooks.process_payload(
            db, as_envelope(payload), [connector], now=utcnow(), score=assembly.score_fn(settings))
    finally:
        db.close()
    skipped = [reason for one in handled for reason in one.fetched.skipped] + notes
    for reason in skipped:
        click.echo(f"skipped: {reason}", err=True)
    read = sum(len(one.fetched.mentions) for one in handled)
    click.echo(f"{connector.name}: {read} @mention(s) read, new {inserted}, updated {updated}, "
               f"skipped {len(skipped)}")


def as_envelope(payload: Any) -> Any:
    """A bare ``mentions`` value (``{"media_id", "comment_id"}``, what some relays save) wrapped in Meta's
    envelope; anything else as it is."""
    if isinstance(payload, dict) and "media_id" in payload:
        return {"object": "instagram", "entry": [{"id": "", "changes": [{"field": "mentions", "value": payload}]}]}
    return payload
