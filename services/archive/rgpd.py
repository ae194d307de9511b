"""Residents' RGPD requests: access (art. 15) and erasure (art. 17), by handle or platform id.

Erasure applies to working data (scores, assignments, internal notes, author profile), to the texts of the
person's private messages and of the city's private answers kept beside the audit chain (issue #20: private
correspondence is not published, so it is not kept as a public record), to the person's words quoted in the
integrations' messages (forward e-mails, Open311 requests, webhook events: erased, and cancelled when not sent yet;
decision 0180), and to the free text
agents wrote about the person's messages in the audit log (notes, escalation and other comments: kept beside the
chain so that they can be erased, core/audit/texts.py); the audit events stay, showing « effacé (RGPD) » in place
of the text. The record — messages received and published, moderation decisions, approvals, the audit log — is a
public archive (Code du patrimoine L.211-1 and L.211-4) kept for archiving in the public interest: RGPD art.
17(3)(d) (and (b), legal obligation). The tool says so in the outcome. Data under a legal hold is not erased
(art. 17(3)(e)).
Every request and its outcome is stored and audited.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from core import audit, repo
from core.clock import to_iso
from core.db import flush_erased, write_transaction
from core.files import private_dir, write_private
from core.repo import archive as arch
from core.repo import author_bans as bans_repo
from core.repo import author_marks as marks_repo
from core.repo import integrations as integrations_repo
from core.repo import retention as ret
from services.accounts.permissions import Action, require_actor
from services.archive.published import Actor, actor_identity
from services.inbox import private
from services.integrations import erasure as integration_erasure

RECORD_KEPT = (
    "The record is kept: the messages this person sent to the city and the city's published answers, "
    "moderation decisions and approvals are public archives (Code du patrimoine L.211-1 and L.211-4), kept "
    "for archiving purposes in the public interest (RGPD art. 17(3)(d)) and to comply with a legal obligation "
    "(art. 17(3)(b)); the audit log is append-only and keeps its events, but the free text agents wrote about "
    "this person's messages (internal notes, comments) is erased from it. A ban of this person from the "
    "city's page, and their mark as an elected or opposition councillor (which protects their speech from "
    "moderation, CGCT L.2121-27-1), are moderation decisions and stay with the record.")
HELD_KEPT = ("Working data under a legal hold was not erased (RGPD art. 17(3)(e), establishment, exercise or "
             "defence of legal claims); it will be erasable once the hold is lifted.")


def _authors(db: Database, query: str, platform: str | None) -> list[tuple[str, str, str]]:
    return ret.find_authors(db, query, platform=platform)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessResult:
    """An answered access request: the file written and what it holds."""

    request_id: int
    authors: list[tuple[str, str, str]]
    path: Path | None
    sha256: str
    items: int


def access_document(db: Database, authors: list[tuple[str, str, str]]) -> dict[str, Any]:
    """Everything Parvis holds about these authors, record and working data, as one JSON-ready document."""
    pairs = [(p, a) for p, a, _ in authors]
    uids = ret.author_mention_uids(db, pairs)
    messages = []
    for uid in uids:
        item = repo.get_item(db, uid)
        m = item.mention
        messages.append({"uid": uid, "platform": str(m.platform), "platform_id": m.platform_id,
                         "private": m.private,
                         "created_at": to_iso(m.created_at), "text": m.text, "permalink": m.permalink,
                         "author_handle": m.author.handle, "conversation_id": m.conversation_id,
                         "revisions": [{**r, "seen_at": to_iso(r["seen_at"])} for r in repo.revisions(db, uid)]})
    replies = [{"id": r.id, "platform_id": r.platform_id, "in_reply_to": r.in_reply_to, "text": r.text,
                "published_at": to_iso(r.published_at), "permalink": r.permalink, "status": r.status}
               for r in arch.messages_replying_to(db, uids)]
    events = [{**e, "at": to_iso(e["at"])} for uid in uids for e in audit.events_for(db, uid)]
    holds = [h for p, a, _ in authors for h in ret.holds_covering(db, p, [a])]
    passed_on = [{"channel": o.channel, "recipient": o.recipient, "subject": o.subject, "state": o.state,
                  "message_id": o.message_id, "mention_uid": o.mention_uid, "created_at": to_iso(o.created_at),
                  "finished_at": to_iso(o.finished_at) if o.finished_at else None,
                  "text_erased_at": to_iso(o.text_erased_at) if o.text_erased_at else None, "payload": o.payload}
                 for o in integrations_repo.quoting_authors(db, pairs)]
    return {
        "identities": [{"platform": p, "author_id": a, "handle": h} for p, a, h in authors],
        "record": {"messages_received": messages, "city_replies": replies, "audit_events": events,
                   "moderation_of_author": _moderation_of(db, pairs),
                   # recipients their words were passed on to (RGPD art. 15 1 c): forward e-mails, Open311
                   # requests, outgoing webhook events, with what was sent unless erased since (decision 0180)
                   "passed_on_to": passed_on},
        "working_data": ret.working_data(db, uids),
        "legal_holds": [{"id": h.id, "scope": h.scope, "reason": h.reason, "set_at": to_iso(h.set_at)}
                        for h in {h.id: h for h in holds}.values()],
        "retention": "Working data expires under the retention policy; the record is a public archive.",
    }


def access_request(db: Database, query: str, *, out_dir: Path | None, actor: Actor, now: datetime,
                   platform: str | None = None) -> AccessResult:
    """Answer an access request: write ``rgpd-access-<id>.json`` in ``out_dir`` (if given); audited."""
    require_actor(actor, Action.RGPD_ANSWER)
    who, role = actor_identity(actor)
    authors = _authors(db, query, platform)
    with write_transaction(db):
        request_id = ret.insert_request(db, kind="access", query=query,
                                        authors=[(p, a) for p, a, _ in authors], requested_by=who, now=now)
        document = {"request": {"id": request_id, "kind": "access", "query": query, "requested_by": who,
                                "answered_at": to_iso(now)}, **access_document(db, authors)}
        data = (json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n").encode()
        digest = hashlib.sha256(data).hexdigest()
        path = None
        if out_dir is not None:
            private_dir(out_dir)
            path = out_dir / f"rgpd-access-{request_id}.json"
            write_private(path, data)
            write_private(out_dir / f"rgpd-access-{request_id}.json.sha256", f"{digest}  {path.name}\n")
        items = len(document["record"]["messages_received"])
        outcome = "answered" if authors else "no data found for this handle or id"
        ret.complete_request(db, request_id, outcome=outcome,
                             details={"file": path.name if path else None, "sha256": digest, "items": items},
                             now=now)
        audit.record(db, audit.RgpdAccess(actor=who, role=role, subject=f"rgpd-request:{request_id}",
                                          request_id=request_id, query=query,
                                          authors=tuple(f"{p}:{a}" for p, a, _ in authors), file_sha256=digest,
                                          items=items), at=now)
    return AccessResult(request_id=request_id, authors=authors, path=path, sha256=digest, items=items)


def _moderation_of(db: Database, pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The author's current ban and councillor mark, per identity (decisions about the person, hence theirs to see)."""
    out = []
    for platform, author_id in pairs:
        ban = bans_repo.ban_of(db, platform, author_id)
        mark = marks_repo.mark_of(db, platform, author_id)
        if ban is None and mark is None:
            continue
        out.append({"platform": platform, "author_id": author_id, "councillor_mark": mark,
                    "ban": None if ban is None else {"banned_at": to_iso(ban.banned_at), "ground": ban.ground,
                                                     "because_of": ban.mention_uid, "through": ban.connector}})
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ErasureResult:
    """An erasure request's outcome: what was erased, what was kept and why."""

    request_id: int
    authors: list[tuple[str, str, str]]
    erased: dict[str, int]
    held: int
    outcome: str
    kept: str


def erasure_request(db: Database, query: str, *, actor: Actor, now: datetime,
                    platform: str | None = None) -> ErasureResult:
    """Erase a resident's working data (not under hold); keep the record and say why. Audited."""
    require_actor(actor, Action.RGPD_ANSWER)
    who, role = actor_identity(actor)
    authors = _authors(db, query, platform)
    pairs = [(p, a) for p, a, _ in authors]
    erased: dict[str, int] = {}
    held = 0
    with write_transaction(db):
        request_id = ret.insert_request(db, kind="erasure", query=query, authors=pairs, requested_by=who, now=now)
        if pairs:
            for cls in (*ret.WORKING_CLASSES, *ret.ERASURE_ONLY_CLASSES):
                erased[cls], cls_held = ret.purge_class(db, cls, authors=pairs)
                held += cls_held
            gone = private.erase_private_of(db, pairs, actor=who, role=role, request_id=request_id, now=now)
            erased["private_texts"], held = gone.messages, held + gone.held
            out = integration_erasure.erase_of_authors(db, pairs, actor=who, role=role, request_id=request_id,
                                                       now=now)
            erased["integration_messages"], held = out.messages, held + out.held
            erased["integration_cancelled"] = out.cancelled
            # their posts kept only as thread context inside other residents' mentions (Bluesky, decision 0260)
            erased["thread_context"], context_held = ret.erase_thread_context(db, pairs)
            held += context_held
        kept = RECORD_KEPT + (" " + HELD_KEPT if held else "")
        if not pairs:
            outcome = "no data found for this handle or id"
        elif held:
            outcome = "partly done: working data erased except under legal hold; record kept (art. 17(3)(d))"
        else:
            outcome = "done: working data erased; record kept (art. 17(3)(d))"
        ret.complete_request(db, request_id, outcome=outcome, details={"erased": erased, "held": held, "kept": kept},
                             now=now)
        audit.record(db, audit.RgpdErasure(actor=who, role=role, subject=f"rgpd-request:{request_id}",
                                           request_id=request_id, query=query,
                                           authors=tuple(f"{p}:{a}" for p, a in pairs), erased=erased, kept=kept,
                                           held=held), at=now)
    flush_erased(db)  # leave the erased text in neither the database file nor its WAL
    return ErasureResult(request_id=request_id, authors=authors, erased=erased, held=held, outcome=outcome,
                         kept=kept)


def requests(db: Database, *, limit: int = 100) -> list[dict[str, Any]]:
    """Past RGPD requests with their outcome, newest first."""
    return ret.list_requests(db, limit=limit)
