"""Meta webhooks, from the signed body to the inbox: accept (record once), then process (read, store).

**Accept** (the ``/webhooks/meta`` route, console/web/meta_webhook.py): the route has checked the signature; the
raw body is recorded in ``webhook_events`` under the SHA-256 of its bytes, and the route answers 200 at once.
A **replayed** webhook is a body byte-identical to one already accepted (Meta retries a delivery it thinks
failed; anyone who captured a signed body could resend it): its digest is already there, so it is answered 200
(Meta stops retrying) and changes nothing. Digests are kept :data:`REPLAY_WINDOW` (Meta retries for at most
36 hours); a replay after that is read again, and still stores nothing twice (the mentions' unique key).

**Process** (the worker's ``webhooks`` job, :func:`process_pending`): each pending body is parsed
(connectors/graph/webhooks.py) and each change dispatched by ``(object, field)`` through :data:`FIELD_HANDLERS`.
A handler reads what the change points to through the connector (events carry ids) and returns a
:class:`FetchResult` (mentions and state changes), stored through the normal ingest path
(:func:`services.connections.ingest.store_pushed`) in the transaction that marks the event done: an item that
also comes by polling is stored once. A transient connector error leaves the event pending, retried with
back-off; after :data:`MAX_ATTEMPTS` it is ``failed`` (polling still catches the item).

Messenger and Instagram Direct ``messages`` are read by :func:`_private_messages` (issue #20). Adding a field:
write a handler ``(change, context) -> FetchResult | None`` (None: it stored what it had to itself, with
``context.db`` and ``context.now``) and add it to :data:`FIELD_HANDLERS` (or call :func:`register_field` before
the worker starts).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlite_utils import Database

from connectors.base import Connector, FetchResult
from connectors.graph import webhooks as meta
from core.config import Settings
from core.db import write_transaction
from core.errors import ConnectorError, PermanentFailure
from core.models import Platform
from core.repo import realtime as rt
from services.connections.ingest import ScoreFn, store_pushed

log = logging.getLogger(__name__)

SOURCE = "meta"
CHANNEL = "meta-webhooks"
REPLAY_WINDOW = timedelta(days=7)
MAX_ATTEMPTS = 8
BATCH = 50


@dataclass(frozen=True, slots=True)
class WebhookContext:
    """What a field handler may use: the database, the time, the enabled connectors, the scorer."""

    db: Database
    now: datetime
    connectors: Sequence[Connector]
    score: ScoreFn | None = None
    settings: Settings | None = None  # private messages: which channels are switched on

    def connector(self, platform: Platform, owner: str = "") -> Connector | None:
        """The enabled connector of ``platform`` for the account ``owner`` (a Page id, an Instagram account id);
        with no ``owner`` (a saved bare value), the platform's only one; else None."""
        of_platform = [c for c in self.connectors if c.info.platform == platform]
        for c in of_platform:
            if owner and owner in (getattr(c, "page_id", None), getattr(c, "ig_user_id", None)):
                return c
        return of_platform[0] if len(of_platform) == 1 and not owner else None


FieldHandler = Callable[[meta.Change, WebhookContext], "Handled | None"]


class NoConnector(LookupError):
    """A change for an account no enabled connector reads (noted; the event is done)."""


@dataclass(frozen=True, slots=True)
class Handled:
    """A handler's result: what to store, under which connector's name."""

    connector: str
    fetched: FetchResult


def _with(platform: Platform, read: Callable[[Any, Any], FetchResult]) -> FieldHandler:
    """A handler that reads the change's value with ``read(connector, value)`` on the account's connector."""
    def handle(change: meta.Change, ctx: WebhookContext) -> Handled | None:
        connector = ctx.connector(platform, change.owner)
        if connector is None:
            raise NoConnector(f"no enabled {platform} connector for account {change.owner or '?'}")
        return Handled(connector=connector.name, fetched=read(connector, change.value))
    return handle


def _private_messages(change: meta.Change, ctx: WebhookContext) -> Handled | None:
    """A Messenger / Instagram Direct ``messages`` event: stored as a private message (services/inbox/private.py)
    when that channel is switched on (``PARVIS_FB_MESSAGES``, ``PARVIS_FB_INSTAGRAM_DIRECT``)."""
    s = ctx.settings
    if s is None or not (s.fb.instagram_direct if change.object == "instagram" else s.fb.messages):
        raise NoConnector(f"private messages of {change.object or '?'} are not switched on")
    from services.inbox.private import ingest_messenger_webhook_change  # the inbox's own store path

    body = {"object": change.object, "entry": [{"id": change.owner, "messaging": [change.value]}]}
    ingest_messenger_webhook_change(s, ctx.db, body, now=ctx.now)
    return None


# (object, field) -> handler. The whole list of what Parvis reads from Meta's webhooks: add a field here.
FIELD_HANDLERS: dict[tuple[str, str], FieldHandler] = {
    ("page", "feed"): _with(Platform.FACEBOOK, lambda c, value: c.from_feed_change(value)),
    ("instagram", "comments"): _with(Platform.INSTAGRAM, lambda c, value: c.from_comments_change(value)),
    ("instagram", "mentions"): _with(Platform.INSTAGRAM, lambda c, value: c.mentions_from_webhook(value)),
    ("page", "messages"): _private_messages,  # Messenger (issue #20)
    ("instagram", "messages"): _private_messages,  # Instagram Direct (issue #20)
}


def register_field(obj: str, field_name: str, handler: FieldHandler, *, replace: bool = False) -> None:
    """Add a handler for ``(obj, field_name)`` (``("page", "messages")``...); refuses to replace one silently."""
    if (obj, field_name) in FIELD_HANDLERS and not replace:
        raise ValueError(f"a webhook handler for {obj}/{field_name} is already registered")
    FIELD_HANDLERS[(obj, field_name)] = handler


@dataclass(frozen=True, slots=True)
class Accepted:
    """What the route does with a signed body: ``accepted`` (recorded) or ``replayed`` (already had it)."""

    outcome: Literal["accepted", "replayed"]
    event_id: int | None = None


def accept(db: Database, body: bytes, *, now: datetime, source: str = SOURCE) -> Accepted:
    """Record a body whose signature was checked; a byte-identical body already recorded changes nothing."""
    digest = meta.body_digest(body)
    with write_transaction(db):
        event_id = rt.record_webhook_event(db, source=source, digest=digest,
                                           body=body.decode("utf-8", errors="replace"), now=now)
        if event_id is not None:
            rt.set_channel_state(db, CHANNEL, kind="webhook", state="receiving", now=now)
            rt.channel_event(db, CHANNEL, now=now)
    if event_id is None:
        log.info("webhook %s: replayed body %s… ignored", source, digest[:12])
        return Accepted("replayed")
    return Accepted("accepted", event_id)


@dataclass
class Outcome:
    """The result of processing one event (for logs and the bench)."""

    event_id: int
    status: str
    inserted: int = 0
    updated: int = 0
    revised: int = 0
    notes: list[str] = field(default_factory=list)


def dispatch(payload: Any, ctx: WebhookContext) -> tuple[list[Handled], list[str]]:
    """Read every change of ``payload`` through its handler (network; nothing stored). Returns what to store and
    notes (changes no handler reads, malformed parts). Raises the connector's transient errors."""
    handled: list[Handled] = []
    notes: list[str] = []
    for one in payload if isinstance(payload, list) else [payload]:
        envelope = meta.parse(one)
        notes.extend(envelope.problems)
        for change in envelope.changes:
            handler = FIELD_HANDLERS.get((change.object, change.field))
            if handler is None:
                notes.append(f"no handler for {change.object or '?'}/{change.field}")
                continue
            try:
                result = handler(change, ctx)
            except (PermanentFailure, NoConnector) as err:
                notes.append(f"{change.object}/{change.field}: {err}")
                continue
            if result is not None:
                handled.append(result)
                notes.extend(result.fetched.notes)
    return handled, notes


def store(ctx: WebhookContext, handled: Sequence[Handled]) -> tuple[int, int, int]:
    """Store what the handlers read through the ingest path (one call per connector); (inserted, updated,
    revised). Call it inside the transaction that records the event's end."""
    inserted = updated = revised = 0
    platforms = {c.name: str(c.info.platform) for c in ctx.connectors}
    for one in handled:
        res = store_pushed(ctx.db, one.connector, one.fetched, now=ctx.now, score=ctx.score,
                           platform=platforms.get(one.connector, ""))
        inserted, updated, revised = inserted + res.inserted, updated + res.updated, revised + res.revised
    return inserted, updated, revised


def process_event(ctx: WebhookContext, event: rt.WebhookEvent) -> Outcome:
    """Read and store what one recorded event points to; the event is marked done in the same transaction."""
    db, now = ctx.db, ctx.now
    try:
        payload = json.loads(event.body or "")
    except ValueError:
        with write_transaction(db):
            rt.finish_webhook_event(db, event.id, now=now, outcome="not JSON: nothing read")
        return Outcome(event.id, "malformed")
    try:
        handled, notes = dispatch(payload, ctx)
    except Exception as err:  # noqa: BLE001 - a connector error (or a bug): the event waits, it is not lost
        if not isinstance(err, ConnectorError):
            log.exception("webhook event %d: unexpected error while reading it", event.id)
        code = getattr(err, "code", type(err).__name__)
        attempts = event.attempts + 1
        retry_at = now + retry_delay(attempts) if attempts < MAX_ATTEMPTS else None
        with write_transaction(db):
            rt.retry_webhook_event(db, event.id, now=now, outcome=f"{code}: {err}", retry_at=retry_at)
        log.warning("webhook event %d: %s (%s); %s", event.id, err, code,
                    f"retry at {retry_at.isoformat()}" if retry_at else "given up: polling will catch up")
        return Outcome(event.id, "retry" if retry_at else "failed", notes=[str(err)])
    with write_transaction(db):
        inserted, updated, revised = store(ctx, handled)
        summary = f"new {inserted}, updated {updated}, changes {revised}" + (f"; {'; '.join(notes)}" if notes else "")
        rt.finish_webhook_event(db, event.id, now=now, outcome=summary)
    for note in notes:
        log.info("webhook event %d: %s", event.id, note)
    return Outcome(event.id, "done", inserted, updated, revised, notes)


def process_pending(db: Database, connectors: Sequence[Connector], *, now: datetime, score: ScoreFn | None = None,
                    limit: int = BATCH, settings: Settings | None = None) -> list[Outcome]:
    """Process the pending events that are due, oldest first (the worker's ``webhooks`` job)."""
    ctx = WebhookContext(db=db, now=now, connectors=connectors, score=score, settings=settings)
    return [process_event(ctx, event) for event in rt.pending_webhook_events(db, now=now, limit=limit)]


def process_payload(db: Database, payload: Any, connectors: Sequence[Connector], *, now: datetime,
                    score: ScoreFn | None = None) -> tuple[tuple[int, int, int], list[str], list[Handled]]:
    """Read and store a saved webhook body now, without the events table (``python -m console
    instagram-mention``): ((inserted, updated, revised), notes, what was read)."""
    ctx = WebhookContext(db=db, now=now, connectors=connectors, score=score)
    handled, notes = dispatch(payload, ctx)
    with write_transaction(db):
        counts = store(ctx, handled)
    return counts, notes, handled


def purge(db: Database, *, now: datetime) -> int:
    """Forget processed events (and their digests) older than :data:`REPLAY_WINDOW`."""
    with write_transaction(db):
        return rt.purge_webhook_events(db, older_than=now - REPLAY_WINDOW)


def retry_delay(attempts: int) -> timedelta:
    """Back-off before the next try of an event that failed ``attempts`` times: 30 s, 1 min, 2 min... ≤ 1 h."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))
