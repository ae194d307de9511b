"""DML of retention (core/migrations/archive.py m031): legal holds, the purge of working data, RGPD requests.

Working data = scores, assignments, internal notes, author profiles. The record (mention text and payload,
archived messages, the audit log) is never touched here. A mention under an active legal hold (on its
conversation or its author) is skipped by every purge.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core.clock import from_iso, to_iso
from core.errors import NotFoundError, ValidationError

WORKING_CLASSES = ("scores", "assignments", "notes", "author_profiles")
# Agents' free-text comments on a resident's message, kept beside the audit chain (core/audit/texts.py): erased by
# the RGPD erasure of the message's author; the retention policy keeps them with the moderation decisions.
ERASURE_ONLY_CLASSES = ("audit_comments",)
HOLD_SCOPES = ("conversation", "author")

# A mention (alias m) covered by an active legal hold on its conversation or its author.
HELD_SQL = """EXISTS (SELECT 1 FROM legal_holds h WHERE h.lifted_at IS NULL AND h.platform = m.platform AND (
    (h.scope = 'conversation' AND h.key = COALESCE(m.conversation_id, m.platform_id))
    OR (h.scope = 'author' AND h.key = m.author_id)))"""

# A mention (alias m) whose author asked for erasure (art. 17): never used to train a model (decision 0316), whatever
# the record keeps of it.
ERASED_AUTHOR_SQL = """EXISTS (SELECT 1 FROM rgpd_requests r, json_each(r.authors) a WHERE r.kind = 'erasure'
    AND json_extract(a.value, '$[0]') = m.platform AND json_extract(a.value, '$[1]') = m.author_id)"""

# Per class: the table purged, the condition "still holds data of this class", the age column, the action.
_OPEN = "('new', 'assigned', 'waiting', 'escalated')"
_CLASSES: dict[str, dict[str, str]] = {
    "scores": {
        "from": "mentions m", "age": "m.created_at", "key": "m.uid",
        "pending": "(m.sentiment IS NOT NULL OR m.sentiment_confidence IS NOT NULL OR m.risk_score != 0 "
                   "OR m.risk_flags != '[]' OR m.priority != 0 OR m.model_version IS NOT NULL "
                   "OR m.risk_model_version IS NOT NULL)",
        "action": "UPDATE mentions SET sentiment = NULL, sentiment_confidence = NULL, sentiment_source = NULL, "
                  "risk_score = 0, risk_flags = '[]', priority = 0, model_version = NULL, risk_model_version = NULL "
                  "WHERE uid IN ({keys})",
    },
    "assignments": {
        "from": "mentions m", "age": "m.created_at", "key": "m.uid",
        "pending": f"m.assigned_to IS NOT NULL AND m.status NOT IN {_OPEN}",
        "action": "UPDATE mentions SET assigned_to = NULL WHERE uid IN ({keys})",
    },
    "notes": {
        "from": "notes n JOIN mentions m ON m.uid = n.mention_uid", "age": "n.created_at", "key": "n.id",
        "pending": "1",
        "action": "DELETE FROM notes WHERE id IN ({keys})",
    },
    "author_profiles": {
        "from": "mentions m", "age": "m.created_at", "key": "m.uid",
        "pending": "(m.author_name != '' OR m.author_followers IS NOT NULL)",
        "action": "UPDATE mentions SET author_name = '', author_followers = NULL WHERE uid IN ({keys})",
    },
    # A note's own text in audit_texts goes with the note (trigger notes_erase_audit_text, m036).
    "audit_comments": {
        "from": "audit_texts t JOIN mentions m ON m.uid = t.owner", "age": "m.created_at", "key": "t.ref",
        "pending": "t.kind = 'comment'",
        "action": "DELETE FROM audit_texts WHERE ref IN ({keys})",
    },
}


@dataclass(frozen=True, slots=True, kw_only=True)
class LegalHold:
    """A legal hold on a conversation or an author; ``lifted_at`` None while active."""

    id: int
    scope: str
    platform: str
    key: str
    reason: str
    set_by: str
    set_at: datetime
    lifted_by: str | None = None
    lifted_at: datetime | None = None
    lift_reason: str | None = None

    @property
    def active(self) -> bool:
        """True until the hold is lifted."""
        return self.lifted_at is None


_HOLD_COLS = "id, scope, platform, key, reason, set_by, set_at, lifted_by, lifted_at, lift_reason"


def _hold(r: Sequence[Any]) -> LegalHold:
    return LegalHold(id=r[0], scope=r[1], platform=r[2], key=r[3], reason=r[4], set_by=r[5],
                     set_at=from_iso(r[6]), lifted_by=r[7], lifted_at=from_iso(r[8]),  # type: ignore[arg-type]
                     lift_reason=r[9])


def insert_hold(db: Database, *, scope: str, platform: str, key: str, reason: str, set_by: str,
                now: datetime) -> LegalHold:
    """Store a new active hold and return it."""
    if scope not in HOLD_SCOPES:
        raise ValidationError(f"unknown legal-hold scope {scope!r} (expected conversation or author)")
    cur = db.execute("INSERT INTO legal_holds (scope, platform, key, reason, set_by, set_at) VALUES (?, ?, ?, ?, ?, ?)",
                     (scope, platform, key, reason, set_by, to_iso(now)))
    return get_hold(db, int(cur.lastrowid or 0))


def get_hold(db: Database, hold_id: int) -> LegalHold:
    """One hold, or NotFoundError."""
    row = db.execute(f"SELECT {_HOLD_COLS} FROM legal_holds WHERE id = ?", (hold_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no legal hold {hold_id}")
    return _hold(row)


def lift_hold(db: Database, hold_id: int, *, lifted_by: str, reason: str, now: datetime) -> LegalHold:
    """Mark a hold lifted (the row stays, with who lifted it and why)."""
    db.execute("UPDATE legal_holds SET lifted_by = ?, lifted_at = ?, lift_reason = ? WHERE id = ? "
               "AND lifted_at IS NULL", (lifted_by, to_iso(now), reason, hold_id))
    return get_hold(db, hold_id)


def list_holds(db: Database, *, active_only: bool = True) -> list[LegalHold]:
    """Legal holds, newest first."""
    where = "WHERE lifted_at IS NULL" if active_only else ""
    return [_hold(r) for r in db.execute(f"SELECT {_HOLD_COLS} FROM legal_holds {where} ORDER BY id DESC")]


def holds_covering(db: Database, platform: str, author_ids: Sequence[str]) -> list[LegalHold]:
    """Active holds on these authors or on a conversation where they wrote."""
    if not author_ids:
        return []
    marks = ",".join("?" * len(author_ids))
    rows = db.execute(
        f"SELECT {_HOLD_COLS} FROM legal_holds h WHERE h.lifted_at IS NULL AND h.platform = ? AND ("
        f"(h.scope = 'author' AND h.key IN ({marks})) OR (h.scope = 'conversation' AND h.key IN ("
        f"SELECT COALESCE(conversation_id, platform_id) FROM mentions WHERE platform = ? AND author_id IN ({marks}))))"
        " ORDER BY h.id", [platform, *author_ids, platform, *author_ids]).fetchall()
    return [_hold(r) for r in rows]


def purge_class(db: Database, cls: str, *, cutoff: datetime | None = None,
                authors: Sequence[tuple[str, str]] = (), dry_run: bool = False) -> tuple[int, int]:
    """Purge one working-data class older than ``cutoff`` (or of ``authors``); return (purged, held back).

    ``authors`` are (platform, author id) pairs, for an erasure request. ``dry_run`` only counts.
    """
    spec = _CLASSES.get(cls)
    if spec is None:
        known = ", ".join((*WORKING_CLASSES, *ERASURE_ONLY_CLASSES))
        raise ValidationError(f"unknown working-data class {cls!r} (expected one of {known})")
    clauses = [spec["pending"]]
    params: list[Any] = []
    if cutoff is not None:
        clauses.append(f"{spec['age']} < ?")
        params.append(to_iso(cutoff))
    if authors:
        clauses.append("(" + " OR ".join("(m.platform = ? AND m.author_id = ?)" for _ in authors) + ")")
        params += [v for pair in authors for v in pair]
    if cutoff is None and not authors:
        raise ValidationError("a purge needs a cutoff or authors")
    where = " AND ".join(clauses)
    held = int(db.execute(f"SELECT count(*) FROM {spec['from']} WHERE {where} AND {HELD_SQL}", params).fetchone()[0])
    keys = [r[0] for r in db.execute(f"SELECT {spec['key']} FROM {spec['from']} WHERE {where} AND NOT {HELD_SQL}",
                                     params)]
    if not dry_run:
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            db.execute(spec["action"].format(keys=",".join("?" * len(chunk))), chunk)
    return len(keys), held


def purge_presence(db: Database, *, cutoff: datetime, dry_run: bool = False) -> int:
    """Forget who had which mention open before ``cutoff`` (part of the assignments class)."""
    n = int(db.execute("SELECT count(*) FROM presence WHERE seen_at < ?", (to_iso(cutoff),)).fetchone()[0])
    if not dry_run and n:
        db.execute("DELETE FROM presence WHERE seen_at < ?", (to_iso(cutoff),))
    return n


def insert_run(db: Database, *, at: datetime, actor: str, policy: dict[str, Any], counts: dict[str, int],
               held: dict[str, int]) -> int:
    """Log a retention run; return its id."""
    cur = db.execute("INSERT INTO retention_runs (at, actor, policy, counts, held) VALUES (?, ?, ?, ?, ?)",
                     (to_iso(at), actor, json.dumps(policy, sort_keys=True), json.dumps(counts, sort_keys=True),
                      json.dumps(held, sort_keys=True)))
    return int(cur.lastrowid or 0)


def last_runs(db: Database, limit: int = 20) -> list[dict[str, Any]]:
    """The latest retention runs, newest first."""
    return [{"id": r[0], "at": from_iso(r[1]), "actor": r[2], "policy": json.loads(r[3]),
             "counts": json.loads(r[4]), "held": json.loads(r[5])}
            for r in db.execute("SELECT id, at, actor, policy, counts, held FROM retention_runs ORDER BY id DESC "
                                "LIMIT ?", (limit,))]


# ---- residents (RGPD) -------------------------------------------------------------------------------

def find_authors(db: Database, query: str, *, platform: str | None = None) -> list[tuple[str, str, str]]:
    """(platform, author id, handle) of authors whose handle or platform id is ``query`` (``@`` optional)."""
    text = query.strip()
    if not text:
        raise ValidationError("give a handle (e.g. @camille) or a platform id (e.g. x:12345)",
                              reason="author_query_empty")
    handle = text.removeprefix("@")
    prefixed_platform, sep, prefixed_id = text.partition(":")
    clauses = ["author_handle = ? COLLATE NOCASE", "author_id = ?"]
    params: list[Any] = [handle, text]
    if sep and prefixed_id:
        clauses.append("(platform = ? AND author_id = ?)")
        params += [prefixed_platform, prefixed_id]
    where = "(" + " OR ".join(clauses) + ")"
    if platform:
        where += " AND platform = ?"
        params.append(platform)
    rows = db.execute(f"SELECT platform, author_id, MAX(author_handle) FROM mentions WHERE {where} "
                      "GROUP BY platform, author_id ORDER BY platform, author_id", params).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def author_mention_uids(db: Database, authors: Sequence[tuple[str, str]]) -> list[str]:
    """Uids of every mention written by these (platform, author id) pairs, oldest first."""
    if not authors:
        return []
    where = " OR ".join("(platform = ? AND author_id = ?)" for _ in authors)
    params = [v for pair in authors for v in pair]
    return [r[0] for r in db.execute(f"SELECT uid FROM mentions WHERE {where} ORDER BY created_at, uid", params)]


def working_data(db: Database, uids: Sequence[str]) -> list[dict[str, Any]]:
    """Scores, assignment, tags and notes stored about these mentions (for an access request)."""
    out: list[dict[str, Any]] = []
    for uid in uids:
        row = db.execute("SELECT sentiment, sentiment_confidence, risk_score, risk_flags, priority, model_version, "
                         "assigned_to, status, author_name, author_followers, risk_model_version "
                         "FROM mentions WHERE uid = ?",
                         (uid,)).fetchone()
        if row is None:
            continue
        notes = [{"id": n[0], "text": n[1], "created_at": n[2]} for n in db.execute(
            "SELECT id, text, created_at FROM notes WHERE mention_uid = ? ORDER BY id", (uid,))]
        tags = [t[0] for t in db.execute("SELECT tag FROM mention_tags WHERE mention_uid = ? ORDER BY tag", (uid,))]
        out.append({"uid": uid, "sentiment": row[0], "sentiment_confidence": row[1], "risk_score": row[2],
                    "risk_flags": json.loads(row[3] or "[]"), "priority": row[4], "model_version": row[5],
                    "risk_model_version": row[10],
                    "assigned_to": row[6], "status": row[7], "author_name": row[8], "author_followers": row[9],
                    "notes": notes, "tags": tags})
    return out


def erase_thread_context(db: Database, authors: Sequence[tuple[str, str]]) -> tuple[int, int]:
    """RGPD erasure of these (platform, author id) residents' posts that Parvis keeps only as thread context inside
    other mentions (Bluesky ``raw["context"]``, decision 0260), in the mentions and their revisions: each such entry
    becomes ``{uri, state: "erased"}`` (the thread keeps its shape). Returns (entries erased, mentions held back
    under a legal hold, left untouched)."""
    dids = sorted({a for p, a in authors if p == "bluesky" and a})
    if not dids:
        return 0, 0
    like = " OR ".join("x.raw LIKE ?" for _ in dids)
    params = [f"%{json.dumps(d)[1:-1]}%" for d in dids]
    erased = held = 0
    sources = (("mentions x JOIN mentions m ON m.uid = x.uid", "mentions", "uid"),
               ("mention_revisions x JOIN mentions m ON m.uid = x.mention_uid", "mention_revisions", "id"))
    for source, table, key in sources:
        rows = db.execute(f"SELECT x.{key}, x.raw, {HELD_SQL} FROM {source} WHERE m.platform = 'bluesky' "
                          f"AND ({like})", params).fetchall()
        for row_key, raw_text, is_held in rows:
            raw = json.loads(raw_text or "{}")
            context = raw.get("context") if isinstance(raw, dict) else None
            if not isinstance(context, list):
                continue
            hits = [i for i, e in enumerate(context) if isinstance(e, dict) and e.get("author_did") in dids
                    and e.get("state") != "erased"]
            if not hits:
                continue
            if is_held:
                held += table == "mentions"
                continue
            for i in hits:
                context[i] = {"uri": context[i].get("uri", ""), "state": "erased"}
            db.execute(f"UPDATE {table} SET raw = ? WHERE {key} = ?",
                       (json.dumps(raw, ensure_ascii=False), row_key))
            erased += len(hits) if table == "mentions" else 0
    return erased, held


def insert_request(db: Database, *, kind: str, query: str, authors: Sequence[tuple[str, str]], requested_by: str,
                   now: datetime) -> int:
    """Record an RGPD request as received; return its id."""
    cur = db.execute("INSERT INTO rgpd_requests (kind, query, authors, requested_by, requested_at) "
                     "VALUES (?, ?, ?, ?, ?)",
                     (kind, query, json.dumps([list(a) for a in authors]), requested_by, to_iso(now)))
    return int(cur.lastrowid or 0)


def complete_request(db: Database, request_id: int, *, outcome: str, details: dict[str, Any],
                     now: datetime) -> None:
    """Store the outcome of an RGPD request."""
    db.execute("UPDATE rgpd_requests SET outcome = ?, details = ?, completed_at = ? WHERE id = ?",
               (outcome, json.dumps(details, sort_keys=True, ensure_ascii=False), to_iso(now), request_id))


def list_requests(db: Database, *, limit: int = 100) -> list[dict[str, Any]]:
    """RGPD requests, newest first, with their outcome."""
    return [{"id": r[0], "kind": r[1], "query": r[2], "authors": json.loads(r[3]), "requested_by": r[4],
             "requested_at": from_iso(r[5]), "outcome": r[6], "details": json.loads(r[7]),
             "completed_at": from_iso(r[8])}
            for r in db.execute("SELECT id, kind, query, authors, requested_by, requested_at, outcome, details, "
                                "completed_at FROM rgpd_requests ORDER BY id DESC LIMIT ?", (limit,))]
