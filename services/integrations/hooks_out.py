"""Outgoing webhooks for the city's other tools (ticketing, GRC), as the ``webhook`` kind of the outbox (decision
0120; docs/integrations.md).

An administrator registers endpoints (URL + secret, and the events each wants). Events: ``mention.urgent`` (a new
mention flagged urgent), ``mention.status_changed``, ``reply.sent``, ``post.published``. They are found by a scan
the worker runs every few seconds (:func:`scan`): urgent mentions stored since the scan's last position, and the
audit log's ``status-changed`` / ``reply-sent`` / ``post-published`` rows after its cursor (the audit row commits
with the change, so no change is missed and none is invented). Each (endpoint, event) is one outbox row, queued
once.

A delivery is a ``POST`` of the JSON event with ``Content-Type: application/json``, ``X-Parvis-Event`` (the
event's type), ``X-Parvis-Event-Id`` (stable: the same event always has the same id; also in the body as ``id``)
and ``X-Parvis-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the endpoint's secret>``.
A 2xx answer is delivered. A 5xx, 408, 429, a timeout or a lost connection is tried again with backoff until
``PARVIS_WEBHOOK_RETRY_H``: the receiver may have received it, so it must de-duplicate by event id (at least once
on the wire, once per event id at the receiver). Another 4xx is refused: failed, shown in the delivery log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlite_utils import Database

from core import audit, repo
from core.clock import from_iso, to_iso
from core.config import Settings
from core.db import write_transaction
from core.errors import NotFoundError, PermanentFailure, ValidationError
from core.models import Agent
from core.repo import integrations as integrations_repo
from core.repo.integrations import Endpoint, OutRow
from core.settings_integrations import WebhookOutSettings
from services.accounts.permissions import Action, require
from services.integrations.kind import IntegrationKind, NotSent, queue

CHANNEL = "webhook"
EVENTS = ("mention.urgent", "mention.status_changed", "reply.sent", "post.published")
_AUDIT_EVENTS = {"status-changed": "mention.status_changed", "reply-sent": "reply.sent",
                 "post-published": "post.published"}
AUDIT_CURSOR = "webhooks:audit"
URGENT_CURSOR = "webhooks:urgent"
SIGNATURE_HEADER = "X-Parvis-Signature"
TOLERANCE_S = 300  # receivers should refuse a signature older than this (replay)


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Parvis-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: str, body: bytes, header: str, *, now: float | None = None,
                     tolerance_s: int = TOLERANCE_S) -> bool:
    """What a receiver does (and the tests): the header is well-formed, recent, and its HMAC matches."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        ts = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - ts) > tolerance_s:
        return False
    expected = sign(secret, body, ts).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


# ---- endpoints (an administrator's) -------------------------------------------------------------------------------

def _check_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValidationError(f"webhook URL must be http(s): {url!r}", reason="webhook_url_invalid")
    return url


def add_endpoint(db: Database, agent: Agent, url: str, events: Sequence[str], *, now: datetime,
                 secret: str = "") -> tuple[int, str]:
    """Register an endpoint (admin); returns its id and its secret (generated when not given: shown once)."""
    require(agent, Action.CONNECTORS_MANAGE)
    url = _check_url(url)
    chosen = [e for e in events if e]
    unknown = [e for e in chosen if e not in EVENTS]
    if unknown or not chosen:
        raise ValidationError(f"choose events among {', '.join(EVENTS)}", reason="webhook_events_invalid")
    secret = secret or secrets.token_urlsafe(32)
    with write_transaction(db):
        start_cursors(db, now)
        endpoint_id = integrations_repo.add_endpoint(db, url, secret, chosen, agent_id=agent.id, now=now)
        audit.record(db, audit.WebhookEndpointChanged(actor=agent.email, role=str(agent.role),
                                                      subject=f"webhook:{endpoint_id}", endpoint=endpoint_id,
                                                      change="added", url=url, events=",".join(chosen)), at=now)
    return endpoint_id, secret


def set_active(db: Database, agent: Agent, endpoint_id: int, active: bool, *, now: datetime) -> None:
    """Switch an endpoint on or off (admin)."""
    require(agent, Action.CONNECTORS_MANAGE)
    with write_transaction(db):
        endpoint = integrations_repo.get_endpoint(db, endpoint_id)
        integrations_repo.set_endpoint_active(db, endpoint_id, active)
        audit.record(db, audit.WebhookEndpointChanged(actor=agent.email, role=str(agent.role),
                                                      subject=f"webhook:{endpoint_id}", endpoint=endpoint_id,
                                                      change="enabled" if active else "disabled", url=endpoint.url),
                     at=now)


def endpoints(db: Database, viewer: Agent) -> list[Endpoint]:
    """The endpoints (admin), secrets included for the admin's eyes only."""
    require(viewer, Action.CONNECTORS_MANAGE)
    return integrations_repo.endpoints(db)


def delivery_log(db: Database, viewer: Agent, *, limit: int = 50) -> list[OutRow]:
    """The latest deliveries, newest first (Connexions page)."""
    require(viewer, Action.INBOX_READ)
    return integrations_repo.recent(db, CHANNEL, limit=limit)


# ---- events -------------------------------------------------------------------------------------------------------

def _mention_data(db: Database, uid: str) -> dict[str, Any]:
    try:
        item = repo.get_item(db, uid)
    except NotFoundError:
        return {"uid": uid}
    m = item.mention
    return {"uid": uid, "platform": str(m.platform), "account": m.account, "permalink": m.permalink,
            "created_at": m.created_at.isoformat(), "status": str(item.status),
            "risk": sorted({str(f.get("kind")) for f in item.risk_flags if f.get("kind")})}


def _queue_event(db: Database, event_type: str, key: str, data: dict[str, Any], occurred: datetime, *,
                 now: datetime, settings: Settings, endpoints_: Sequence[Endpoint]) -> int:
    queued = 0
    retry = timedelta(hours=settings.area(WebhookOutSettings).retry_hours)
    for ep in endpoints_:
        if event_type not in ep.events or ep.created_at > occurred:
            continue
        dedupe = f"webhook:{ep.id}:{event_type}:{key}"
        event_id = "evt_" + hashlib.sha256(dedupe.encode("utf-8")).hexdigest()[:24]
        body = {"id": event_id, "type": event_type, "occurred_at": occurred.isoformat(), "data": data}
        queued += queue(db, channel=CHANNEL, dedupe=dedupe, topic=event_type, subject=data.get("uid", "") or key,
                        recipient=f"{ep.id} {ep.url}", payload={"endpoint": ep.id, "event": body}, now=now,
                        deadline=retry, mention_uid=data.get("uid") if "text" in data else None) is not None
    return queued


def start_cursors(db: Database, now: datetime) -> None:
    """Start the scans here if they never ran (in the caller's transaction): events before are not sent."""
    if integrations_repo.cursor(db, AUDIT_CURSOR) is None:
        integrations_repo.set_cursor(db, AUDIT_CURSOR, str(integrations_repo.last_audit_id(db)))
    if integrations_repo.cursor(db, URGENT_CURSOR) is None:
        integrations_repo.set_cursor(db, URGENT_CURSOR, to_iso(now))


def _event_data(db: Database, event_type: str, subject: str, props: dict[str, Any]) -> dict[str, Any]:
    if event_type == "mention.status_changed":
        return {**_mention_data(db, subject), "before": props.get("before"), "after": props.get("after")}
    if event_type == "reply.sent":
        return {"in_reply_to": _mention_data(db, subject), "draft_id": props.get("draft_id"),
                "platform": props.get("platform"), "platform_id": props.get("platform_id"),
                "permalink": props.get("permalink")}
    return {"post_id": props.get("post_id"), "account": props.get("account"), "platform": props.get("platform"),
            "platform_id": props.get("platform_id"), "permalink": props.get("permalink")}


def scan(db: Database, settings: Settings, *, now: datetime) -> int:
    """Queue the events that happened since the last scan for every active endpoint; how many deliveries.
    Without an active endpoint nothing is read or written (the worker's idle cost)."""
    active = integrations_repo.endpoints(db, active_only=True)
    if not active:
        return 0
    queued = 0
    with write_transaction(db):
        start_cursors(db, now)
        since_text = integrations_repo.cursor(db, URGENT_CURSOR)
        since = from_iso(since_text) or now
        newest = since
        for uid, ingested in integrations_repo.urgent_since(db, since):
            data = _mention_data(db, uid)
            data["text"] = repo.get_item(db, uid).mention.text
            queued += _queue_event(db, "mention.urgent", uid, data, ingested, now=now, settings=settings,
                                   endpoints_=active)
            newest = max(newest, ingested)
        if newest != since:
            integrations_repo.set_cursor(db, URGENT_CURSOR, to_iso(newest))
        first = last = int(integrations_repo.cursor(db, AUDIT_CURSOR) or 0)
        for row in integrations_repo.audit_after(db, last, list(_AUDIT_EVENTS)):
            event_type = _AUDIT_EVENTS[row["event"]]
            data = _event_data(db, event_type, row["subject"], row["properties"])
            queued += _queue_event(db, event_type, f"audit-{row['id']}", data, from_iso(row["at"]) or now, now=now,
                                   settings=settings, endpoints_=active)
            last = row["id"]
        if last != first:
            integrations_repo.set_cursor(db, AUDIT_CURSOR, str(last))
    return queued


# ---- the kind -----------------------------------------------------------------------------------------------------

class WebhookKind(IntegrationKind):
    """Webhook deliveries as outbox rows."""

    name = "webhook"
    channel = CHANNEL
    what = "l'événement"

    def __init__(self, settings: Settings, *, session: requests.Session | None = None) -> None:
        self.settings = settings
        self.session = session or requests.Session()

    def send(self, row: OutRow) -> Any:
        endpoint = integrations_repo.get_endpoint(self.db, int(row.payload["endpoint"]))
        if not endpoint.active:
            raise PermanentFailure("endpoint switched off", reason="webhook_endpoint_off")
        event = row.payload["event"]
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
        ts = int(self.clock().timestamp())
        headers = {"Content-Type": "application/json", "User-Agent": "Parvis-Webhooks/1",
                   "X-Parvis-Event": str(event["type"]), "X-Parvis-Event-Id": str(event["id"]),
                   SIGNATURE_HEADER: sign(endpoint.secret, body, ts)}
        try:
            resp = self.session.post(endpoint.url, data=body, headers=headers,
                                     timeout=self.settings.area(WebhookOutSettings).timeout_s, allow_redirects=False)
        except requests.RequestException as err:  # timeout, refused, reset: the receiver de-duplicates by id
            raise NotSent(f"delivery failed: {type(err).__name__}", reason="webhook_unreachable") from err
        if 200 <= resp.status_code < 300:
            return f"HTTP {resp.status_code}"
        if resp.status_code >= 500 or resp.status_code in (408, 425, 429):
            raise NotSent(f"HTTP {resp.status_code}", reason="webhook_retry")
        raise PermanentFailure(f"HTTP {resp.status_code}: refused by the receiver", reason="webhook_refused")
