"""Residents' words in the integrations' outbox (decision 0180): a forward e-mail, an Open311 service request and
a ``mention.urgent`` webhook event quote the resident's message; the row records which one (``mention_uid``).

:func:`erase_of_authors` (RGPD erasure of a resident) removes that text from every such row, whatever its state,
and cancels the ones not sent yet (``pending`` -> ``cancelled``), so that nothing with the resident's words leaves
afterwards; :func:`erase_finished` (the daily retention run, ``PARVIS_RETENTION_INTEGRATION_DAYS``) removes the
text of every finished message (done, failed, cancelled; « à vérifier » once a person settled it). Both keep the
row and its metadata (channel, recipient, dates, state, message id, via, the event's type and id), skip messages
whose quoted message is under a legal hold, and run inside the caller's write transaction, audited
``integration-texts-erased``; the caller flushes the WAL (core.db.flush_erased). A row whose text was erased is
never sent (:meth:`services.integrations.kind.IntegrationKind.call`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core import audit
from core.repo import integrations as integrations_repo
from core.repo.integrations import OutRow

ERASED_KEY = "erased"  # in an erased payload: why (rgpd | retention)


@dataclass(frozen=True, slots=True, kw_only=True)
class IntegrationErasure:
    """What one erasure did: rows whose text was erased (of which cancelled), rows held back."""

    messages: int
    cancelled: int
    held: int


def scrub(row: OutRow, why: str) -> dict[str, Any]:
    """The payload of ``row`` without any text: what identifies the message stays (an e-mail's subject line, a
    service request's code and reference, a webhook event's id, type, date and mention data but its text)."""
    p = row.payload
    if row.channel == "email":
        kept = {k: v for k, v in p.items() if k.startswith("report_")}
        return {**kept, "subject": p.get("subject", ""), "body": "", ERASED_KEY: why}
    if row.channel == "open311":
        fields = p.get("fields") or {}
        return {"reference": p.get("reference", ""), "fields": {"service_code": fields.get("service_code", "")},
                ERASED_KEY: why}
    event = p.get("event") or {}
    data = event.get("data") or {}
    return {"endpoint": p.get("endpoint"),
            "event": {**{k: event[k] for k in ("id", "type", "occurred_at") if k in event},
                      "data": {k: v for k, v in data.items() if k != "text"}},
            ERASED_KEY: why}


def is_erased(row: OutRow) -> bool:
    """Whether the row's text was erased (it must not be sent)."""
    return row.text_erased_at is not None or bool(row.payload.get(ERASED_KEY))


def _erase(db: Database, rows: Sequence[OutRow], why: str, *, now: datetime, cancel: bool) -> tuple[int, int]:
    erased = cancelled = 0
    for row in rows:
        if cancel and row.state == "pending" and integrations_repo.erase_payload(db, row.id, scrub(row, why),
                                                                                now=now, cancel=True):
            cancelled += 1
        else:
            integrations_repo.erase_payload(db, row.id, scrub(row, why), now=now)
        erased += 1
    return erased, cancelled


def erase_of_authors(db: Database, authors: Sequence[tuple[str, str]], *, actor: str, role: str, request_id: int,
                     now: datetime) -> IntegrationErasure:
    """The RGPD erasure of these (platform, author id) residents' words in integration messages; pending ones
    cancelled. Inside the request's write transaction."""
    if not authors:
        return IntegrationErasure(messages=0, cancelled=0, held=0)
    rows, held = integrations_repo.erasable(db, authors=authors)
    erased, cancelled = _erase(db, rows, "rgpd", now=now, cancel=True)
    if erased:
        audit.record(db, audit.IntegrationTextsErased(actor=actor, role=role, subject=f"rgpd-request:{request_id}",
                                                      messages=erased, cancelled=cancelled, why="rgpd"), at=now)
    return IntegrationErasure(messages=erased, cancelled=cancelled, held=held)


def erase_finished(db: Database, *, cutoff: datetime, now: datetime, actor: str = audit.SYSTEM_WORKER,
                   dry_run: bool = False) -> IntegrationErasure:
    """Retention: erase the text of messages finished before ``cutoff`` (not under a legal hold). Inside the
    run's write transaction; ``dry_run`` only counts."""
    rows, held = integrations_repo.erasable(db, cutoff=cutoff)
    if dry_run:
        return IntegrationErasure(messages=len(rows), cancelled=0, held=held)
    erased, _ = _erase(db, rows, "retention", now=now, cancel=False)
    if erased:
        audit.record(db, audit.IntegrationTextsErased(actor=actor, role="system", subject="retention:integration",
                                                      messages=erased, cutoff=cutoff.isoformat(), why="retention"),
                     at=now)
    return IntegrationErasure(messages=erased, cancelled=0, held=held)
