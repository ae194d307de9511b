"""DML for the integrations (migration m120_integrations; decision 0120): the integrations' outbox rows (e-mails,
Open311 requests, webhook deliveries), per-person notice preferences, webhook endpoints, Open311 requests, the
tag -> service code mapping and the cached service list. Nothing here opens a transaction."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core.clock import from_iso, to_iso
from core.errors import NotFoundError
from core.repo.retention import HELD_SQL

_COLS = ("id, channel, dedupe, message_id, topic, subject, recipient, payload, state, claim_token, claimed_by, "
         "claimed_at, attempts, needs_check, not_before, deadline_at, error_code, error, result, via, created_by, "
         "created_at, updated_at, finished_at, mention_uid, text_erased_at")
_UPDATABLE = {"state", "needs_check", "not_before", "error_code", "error", "result", "via", "finished_at",
              "claim_token", "claimed_by", "claimed_at", "attempts"}


@dataclass(frozen=True, slots=True, kw_only=True)
class OutRow:
    """One message of the integrations' outbox and where its protocol stands."""

    id: int
    channel: str
    dedupe: str
    message_id: str
    topic: str
    subject: str
    recipient: str
    payload: dict[str, Any]
    state: str
    claim_token: str | None
    claimed_by: str | None
    claimed_at: datetime | None
    attempts: int
    needs_check: bool
    not_before: datetime | None
    deadline_at: datetime
    error_code: str
    error: str
    result: str
    via: str
    created_by: int | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    mention_uid: str | None = None  # the resident's message it quotes (m180), for the RGPD erasure
    text_erased_at: datetime | None = None  # its payload text was erased (RGPD erasure or retention)


def _row(r: Sequence[Any]) -> OutRow:
    deadline, created, updated = from_iso(r[15]), from_iso(r[21]), from_iso(r[22])
    assert deadline is not None and created is not None and updated is not None
    return OutRow(id=r[0], channel=r[1], dedupe=r[2], message_id=r[3], topic=r[4], subject=r[5], recipient=r[6],
                  payload=json.loads(r[7] or "{}"), state=r[8], claim_token=r[9], claimed_by=r[10],
                  claimed_at=from_iso(r[11]), attempts=r[12], needs_check=bool(r[13]), not_before=from_iso(r[14]),
                  deadline_at=deadline, error_code=r[16], error=r[17], result=r[18], via=r[19], created_by=r[20],
                  created_at=created, updated_at=updated, finished_at=from_iso(r[23]), mention_uid=r[24],
                  text_erased_at=from_iso(r[25]))


def enqueue(db: Database, *, channel: str, dedupe: str, message_id: str, topic: str, subject: str, recipient: str,
            payload: dict[str, Any], now: datetime, deadline: datetime, created_by: int | None = None,
            mention_uid: str | None = None) -> int | None:
    """Write a pending message; None when one with the same ``dedupe`` exists already (nothing written).
    ``mention_uid``: the resident's message whose words the payload carries (found by the RGPD erasure)."""
    try:
        cur = db.execute(
            "INSERT INTO integration_outbox (channel, dedupe, message_id, topic, subject, recipient, payload, "
            "deadline_at, created_by, created_at, updated_at, mention_uid) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (channel, dedupe, message_id, topic, subject, recipient, json.dumps(payload, ensure_ascii=False),
             to_iso(deadline), created_by, to_iso(now), to_iso(now), mention_uid or None))
    except sqlite3.IntegrityError:
        return None
    return int(cur.lastrowid or 0)


def get(db: Database, row_id: int) -> OutRow:
    """One row, or NotFoundError."""
    row = db.execute(f"SELECT {_COLS} FROM integration_outbox WHERE id = ?", (row_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no integration message {row_id}", reason="integration_message_unknown")
    return _row(row)


def by_dedupe(db: Database, dedupe: str) -> OutRow | None:
    """The row with this dedupe key, if any."""
    row = db.execute(f"SELECT {_COLS} FROM integration_outbox WHERE dedupe = ?", (dedupe,)).fetchone()
    return _row(row) if row else None


def in_state(db: Database, channel: str, states: Sequence[str]) -> list[OutRow]:
    """Rows of ``channel`` in one of ``states``, oldest first."""
    marks = ", ".join("?" for _ in states)
    rows = db.execute(f"SELECT {_COLS} FROM integration_outbox WHERE channel = ? AND state IN ({marks}) ORDER BY id",
                      (channel, *states)).fetchall()
    return [_row(r) for r in rows]


def due(db: Database, channel: str, now: datetime, limit: int) -> list[int]:
    """Pending rows of ``channel`` whose time has come, oldest first."""
    rows = db.execute("SELECT id FROM integration_outbox WHERE channel = ? AND state = 'pending' AND "
                      "(not_before IS NULL OR not_before <= ?) ORDER BY id LIMIT ?",
                      (channel, to_iso(now), limit)).fetchall()
    return [r[0] for r in rows]


def next_waiting(db: Database, channel: str) -> datetime | None:
    """When the earliest pending row of ``channel`` is due (its creation time when it has no retry time)."""
    row = db.execute("SELECT MIN(COALESCE(not_before, created_at)) FROM integration_outbox WHERE channel = ? AND "
                     "state = 'pending'", (channel,)).fetchone()
    return from_iso(row[0]) if row and row[0] else None


def recent(db: Database, channel: str, *, limit: int = 50, subject: str | None = None) -> list[OutRow]:
    """The latest rows of ``channel`` (a delivery log), newest first."""
    if subject is None:
        rows = db.execute(f"SELECT {_COLS} FROM integration_outbox WHERE channel = ? ORDER BY id DESC LIMIT ?",
                          (channel, limit)).fetchall()
    else:
        rows = db.execute(f"SELECT {_COLS} FROM integration_outbox WHERE channel = ? AND subject = ? "
                          "ORDER BY id DESC LIMIT ?", (channel, subject, limit)).fetchall()
    return [_row(r) for r in rows]


def update(db: Database, row_id: int, *, now: datetime, expect_token: str | None = None,
           expect_state: str | None = None, **changes: Any) -> bool:
    """Conditional update (the claim token and / or the state must still be these); False when nothing matched."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    sets, params = ["updated_at = ?"], [to_iso(now)]
    for key, value in changes.items():
        sets.append(f"{key} = ?")
        if isinstance(value, datetime):
            value = to_iso(value)
        elif isinstance(value, bool):
            value = int(value)
        params.append(value)
    where: list[str] = ["id = ?"]
    wparams: list[Any] = [row_id]
    if expect_token is not None:
        where.append("claim_token = ?")
        wparams.append(expect_token)
    if expect_state is not None:
        where.append("state = ?")
        wparams.append(expect_state)
    cur = db.execute(f"UPDATE integration_outbox SET {', '.join(sets)} WHERE {' AND '.join(where)}",
                     (*params, *wparams))
    return cur.rowcount == 1


def claim(db: Database, row_id: int, *, token: str, by: str, now: datetime) -> bool:
    """Claim a due pending row (attempts + 1); False when it is no longer pending."""
    cur = db.execute("UPDATE integration_outbox SET state = 'sending', claim_token = ?, claimed_by = ?, "
                     "claimed_at = ?, attempts = attempts + 1, updated_at = ? WHERE id = ? AND state = 'pending'",
                     (token, by, to_iso(now), to_iso(now), row_id))
    return cur.rowcount == 1


# ---- erasure of residents' words (m180; decision 0180) ---------------------------------------------------------

FINISHED_STATES = ("done", "failed", "cancelled")  # to_verify is not finished: a person settles it first
_O_COLS = ", ".join("o." + c.strip() for c in _COLS.split(","))


def erasable(db: Database, *, authors: Sequence[tuple[str, str]] = (), cutoff: datetime | None = None
             ) -> tuple[list[OutRow], int]:
    """Rows whose payload text is still there: quoting a message of ``authors`` (platform, author id; any state),
    and / or finished before ``cutoff``. Returns (rows not under a legal hold, how many are held back): a row is
    held when the message it quotes is (its conversation or its author, core/repo/retention.py)."""
    clauses = ["o.text_erased_at IS NULL"]
    params: list[Any] = []
    if authors:
        clauses.append("(" + " OR ".join("(m.platform = ? AND m.author_id = ?)" for _ in authors) + ")")
        params += [v for pair in authors for v in pair]
    if cutoff is not None:
        clauses.append(f"o.state IN ({', '.join('?' for _ in FINISHED_STATES)}) "
                       "AND COALESCE(o.finished_at, o.updated_at) < ?")
        params += [*FINISHED_STATES, to_iso(cutoff)]
    if not authors and cutoff is None:
        raise ValueError("an erasure needs authors or a cutoff")
    base = ("FROM integration_outbox o LEFT JOIN mentions m ON m.uid = o.mention_uid WHERE "
            + " AND ".join(clauses))
    rows = db.execute(f"SELECT {_O_COLS} {base} AND NOT {HELD_SQL} ORDER BY o.id", params).fetchall()
    held = int(db.execute(f"SELECT count(*) {base} AND {HELD_SQL}", params).fetchone()[0])
    return [_row(r) for r in rows], held


def quoting_authors(db: Database, authors: Sequence[tuple[str, str]]) -> list[OutRow]:
    """Every integration message (any state, erased or not) that quotes a message of these (platform, author id)
    residents: to whom their words were passed on, for an RGPD access request."""
    if not authors:
        return []
    where = " OR ".join("(m.platform = ? AND m.author_id = ?)" for _ in authors)
    rows = db.execute(f"SELECT {_O_COLS} FROM integration_outbox o JOIN mentions m ON m.uid = o.mention_uid "
                      f"WHERE {where} ORDER BY o.id", [v for pair in authors for v in pair]).fetchall()
    return [_row(r) for r in rows]


def erase_payload(db: Database, row_id: int, payload: dict[str, Any], *, now: datetime, cancel: bool = False
                  ) -> bool:
    """Replace a row's payload by ``payload`` (its text removed) and mark it erased; with ``cancel``, a row still
    ``pending`` is cancelled too (False, and nothing written, when it is no longer pending)."""
    text = json.dumps(payload, ensure_ascii=False)
    if cancel:
        cur = db.execute("UPDATE integration_outbox SET payload = ?, text_erased_at = ?, updated_at = ?, "
                         "state = 'cancelled', finished_at = ?, claim_token = NULL, not_before = NULL, "
                         "needs_check = 0 WHERE id = ? AND state = 'pending'",
                         (text, to_iso(now), to_iso(now), to_iso(now), row_id))
    else:
        cur = db.execute("UPDATE integration_outbox SET payload = ?, text_erased_at = ?, updated_at = ? "
                         "WHERE id = ?", (text, to_iso(now), to_iso(now), row_id))
    return cur.rowcount == 1


# ---- notice preferences -------------------------------------------------------------------------------------

def notice_preferences(db: Database, agent_id: int) -> dict[str, bool]:
    """The notices ``agent_id`` chose (absent: the default applies)."""
    rows = db.execute("SELECT notice, enabled FROM notice_preferences WHERE agent_id = ?", (agent_id,)).fetchall()
    return {r[0]: bool(r[1]) for r in rows}


def set_notice_preference(db: Database, agent_id: int, notice: str, enabled: bool, *, now: datetime) -> None:
    """Store one choice."""
    db.execute("INSERT INTO notice_preferences (agent_id, notice, enabled, updated_at) VALUES (?, ?, ?, ?) "
               "ON CONFLICT (agent_id, notice) DO UPDATE SET enabled = excluded.enabled, "
               "updated_at = excluded.updated_at", (agent_id, notice, int(enabled), to_iso(now)))


# ---- webhook endpoints ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """An outgoing webhook endpoint."""

    id: int
    url: str
    secret: str
    events: tuple[str, ...]
    active: bool
    created_at: datetime


def _endpoint(r: Sequence[Any]) -> Endpoint:
    created = from_iso(r[5])
    assert created is not None
    return Endpoint(id=r[0], url=r[1], secret=r[2], events=tuple(e for e in r[3].split(",") if e),
                    active=bool(r[4]), created_at=created)


def add_endpoint(db: Database, url: str, secret: str, events: Sequence[str], *, agent_id: int | None,
                 now: datetime) -> int:
    """Store an endpoint; its id."""
    cur = db.execute("INSERT INTO webhook_endpoints (url, secret, events, created_by, created_at) VALUES "
                     "(?, ?, ?, ?, ?)", (url, secret, ",".join(events), agent_id, to_iso(now)))
    return int(cur.lastrowid or 0)


def endpoints(db: Database, *, active_only: bool = False) -> list[Endpoint]:
    """The endpoints, oldest first."""
    rows = db.execute("SELECT id, url, secret, events, active, created_at FROM webhook_endpoints"
                      + (" WHERE active = 1" if active_only else "") + " ORDER BY id").fetchall()
    return [_endpoint(r) for r in rows]


def get_endpoint(db: Database, endpoint_id: int) -> Endpoint:
    """One endpoint, or NotFoundError."""
    row = db.execute("SELECT id, url, secret, events, active, created_at FROM webhook_endpoints WHERE id = ?",
                     (endpoint_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no webhook endpoint {endpoint_id}", reason="webhook_endpoint_unknown")
    return _endpoint(row)


def set_endpoint_active(db: Database, endpoint_id: int, active: bool) -> None:
    """Switch an endpoint on or off."""
    db.execute("UPDATE webhook_endpoints SET active = ? WHERE id = ?", (int(active), endpoint_id))


# ---- Open311 ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceRequest:
    """A service request sent (or being sent) to the back office for a mention."""

    id: int
    mention_uid: str
    outbox_id: int
    service_code: str
    service_request_id: str
    token: str
    status: str
    remote_status: str
    status_notes: str
    created_at: datetime
    updated_at: datetime
    polled_at: datetime | None


_SR_COLS = ("id, mention_uid, outbox_id, service_code, service_request_id, token, status, remote_status, "
            "status_notes, created_at, updated_at, polled_at")
_SR_UPDATABLE = {"service_request_id", "token", "status", "remote_status", "status_notes", "polled_at"}


def _sr(r: Sequence[Any]) -> ServiceRequest:
    created, updated = from_iso(r[9]), from_iso(r[10])
    assert created is not None and updated is not None
    return ServiceRequest(id=r[0], mention_uid=r[1], outbox_id=r[2], service_code=r[3], service_request_id=r[4],
                          token=r[5], status=r[6], remote_status=r[7], status_notes=r[8], created_at=created,
                          updated_at=updated, polled_at=from_iso(r[11]))


def add_service_request(db: Database, uid: str, outbox_id: int, service_code: str, *, agent_id: int | None,
                        now: datetime) -> int:
    """Store a service request waiting to be sent; its id."""
    cur = db.execute("INSERT INTO open311_requests (mention_uid, outbox_id, service_code, created_by, created_at, "
                     "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                     (uid, outbox_id, service_code, agent_id, to_iso(now), to_iso(now)))
    return int(cur.lastrowid or 0)


def service_request_by_outbox(db: Database, outbox_id: int) -> ServiceRequest:
    """The request an outbox row sends."""
    row = db.execute(f"SELECT {_SR_COLS} FROM open311_requests WHERE outbox_id = ?", (outbox_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no service request for message {outbox_id}", reason="service_request_unknown")
    return _sr(row)


def service_requests_for(db: Database, uid: str) -> list[ServiceRequest]:
    """Requests made for ``uid``, oldest first."""
    rows = db.execute(f"SELECT {_SR_COLS} FROM open311_requests WHERE mention_uid = ? ORDER BY id",
                      (uid,)).fetchall()
    return [_sr(r) for r in rows]


def open_service_requests(db: Database) -> list[ServiceRequest]:
    """Requests sent and not resolved yet (to poll), least recently polled first."""
    rows = db.execute(f"SELECT {_SR_COLS} FROM open311_requests WHERE status IN ('sent', 'in_progress') "
                      "ORDER BY COALESCE(polled_at, '') , id").fetchall()
    return [_sr(r) for r in rows]


def update_service_request(db: Database, sr_id: int, *, now: datetime, **changes: Any) -> None:
    """Change a request's fields."""
    unknown = set(changes) - _SR_UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    sets, params = ["updated_at = ?"], [to_iso(now)]
    for key, value in changes.items():
        sets.append(f"{key} = ?")
        params.append(to_iso(value) if isinstance(value, datetime) else value)
    db.execute(f"UPDATE open311_requests SET {', '.join(sets)} WHERE id = ?", (*params, sr_id))


def service_map(db: Database) -> dict[str, str]:
    """Parvis tag -> GeoReport service code."""
    return {r[0]: r[1] for r in db.execute("SELECT tag, service_code FROM open311_service_map ORDER BY tag")}


def set_service_map(db: Database, tag: str, service_code: str | None, *, agent_id: int | None,
                    now: datetime) -> None:
    """Map ``tag`` to ``service_code`` (None or empty: unmap)."""
    if not service_code:
        db.execute("DELETE FROM open311_service_map WHERE tag = ?", (tag,))
        return
    db.execute("INSERT INTO open311_service_map (tag, service_code, updated_by, updated_at) VALUES (?, ?, ?, ?) "
               "ON CONFLICT (tag) DO UPDATE SET service_code = excluded.service_code, "
               "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
               (tag, service_code, agent_id, to_iso(now)))


def cached_services(db: Database) -> tuple[str, datetime] | None:
    """The cached ``services.json`` body and when it was fetched."""
    row = db.execute("SELECT body, fetched_at FROM open311_services_cache WHERE id = 1").fetchone()
    if row is None:
        return None
    fetched = from_iso(row[1])
    assert fetched is not None
    return row[0], fetched


def cache_services(db: Database, body: str, *, now: datetime) -> None:
    """Keep the latest ``services.json`` body."""
    db.execute("INSERT INTO open311_services_cache (id, body, fetched_at) VALUES (1, ?, ?) ON CONFLICT (id) DO "
               "UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at", (body, to_iso(now)))


# ---- what notices are about (reads over other areas' tables, for the notice scan) -----------------------------

def awaiting_approval(db: Database) -> list[tuple[str, int, str]]:
    """What waits for a director: ``(what, id, label)`` for submitted replies and posts and pending moderation
    confirmations."""
    out: list[tuple[str, int, str]] = []
    out += [("reply", r[0], r[1] or "") for r in
            db.execute("SELECT id, mention_uid FROM drafts WHERE state = 'submitted' ORDER BY id").fetchall()]
    out += [("post", r[0], "") for r in
            db.execute("SELECT id FROM posts WHERE state = 'submitted' ORDER BY id").fetchall()]
    out += [("moderation", r[0], r[1]) for r in
            db.execute("SELECT id, action FROM moderation_requests WHERE state = 'pending' ORDER BY id").fetchall()]
    return out


def unanswered_open(db: Database, since: datetime, until: datetime, *,
                    limit: int = 1000) -> list[tuple[str, datetime, int | None]]:
    """Open mentions created in [since, until] and never answered, newest first: ``(uid, created_at,
    assigned_to)``."""
    rows = db.execute("SELECT uid, created_at, assigned_to FROM mentions WHERE status IN ('new', 'assigned', "
                      "'waiting', 'escalated') AND first_response_at IS NULL AND created_at >= ? AND created_at <= ? "
                      "ORDER BY created_at DESC LIMIT ?", (to_iso(since), to_iso(until), limit)).fetchall()
    out = []
    for uid, created, assigned in rows:
        at = from_iso(created)
        if at is not None:
            out.append((uid, at, assigned))
    return out


def cursor(db: Database, name: str) -> str | None:
    """A scan's saved position."""
    row = db.execute("SELECT value FROM integration_cursors WHERE name = ?", (name,)).fetchone()
    return row[0] if row else None


def set_cursor(db: Database, name: str, value: str) -> None:
    """Save a scan's position."""
    db.execute("INSERT INTO integration_cursors (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET "
               "value = excluded.value", (name, value))


def last_audit_id(db: Database) -> int:
    """The newest audit row's id (0 when empty)."""
    return int(db.execute("SELECT COALESCE(MAX(id), 0) FROM audit_log").fetchone()[0])


def audit_after(db: Database, after_id: int, names: Sequence[str], *, limit: int = 500) -> list[dict[str, Any]]:
    """Audit rows named ``names`` after ``after_id``, oldest first (properties decoded, erasable texts left out)."""
    marks = ", ".join("?" for _ in names)
    rows = db.execute(f"SELECT id, at, event, subject, properties FROM audit_log WHERE id > ? AND event IN "
                      f"({marks}) ORDER BY id LIMIT ?", (after_id, *names, limit)).fetchall()
    return [{"id": r[0], "at": r[1], "event": r[2], "subject": r[3], "properties": json.loads(r[4] or "{}")}
            for r in rows]


def urgent_since(db: Database, since: datetime, *, limit: int = 500) -> list[tuple[str, datetime]]:
    """Mentions stored since ``since`` with an ``urgent`` risk flag: ``(uid, ingested_at)``, oldest first."""
    rows = db.execute("SELECT uid, ingested_at FROM mentions WHERE ingested_at >= ? AND risk_flags != '[]' AND "
                      "EXISTS (SELECT 1 FROM json_each(mentions.risk_flags) WHERE json_extract(value, '$.kind') = "
                      "'urgent') ORDER BY ingested_at LIMIT ?", (to_iso(since), limit)).fetchall()
    out = []
    for uid, at in rows:
        when = from_iso(at)
        if when is not None:
            out.append((uid, when))
    return out
