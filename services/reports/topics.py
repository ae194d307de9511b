"""Topics of the dashboard: similar messages grouped ("42 messages about the closed swimming pool"), and one
saved reply sent to a whole group, each reply still composed, signed, checked and audited by the reply code.

Grouping runs on the newest ``limit`` messages of the selection (see moderation/topics.py); the page caches the
result. The messages' sentence vectors that the worker stored (decision 0195) are read and fused with the text
(decision 0250); a message without one yet is compared by its words alone. Examples shown outside the inbox have
personal data removed (services/archive/redact.py).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from core import repo
from core.clock import from_iso
from core.errors import NotFoundError, ParvisError
from core.models import InboxItem, Status
from core.repo import stats as stats_repo
from moderation.topics import group_topics
from services.archive.redact import redact
from services.inbox import similar_vectors
from services.reports.dashboard import DashboardConfig, DashboardFilters, scope_for

MAX_MESSAGES = 5000
MAX_FIT = 2000  # pairwise distances are n x n: 2000 messages = 32 MB; the rest join the nearest group
_DONE = {Status.ANSWERED, Status.CLOSED}


CAMPAIGN_MIN_COPIES = 5
CAMPAIGN_WINDOW = timedelta(hours=72)


@dataclass(frozen=True, slots=True, kw_only=True)
class Topic:
    """A group of similar messages in the selection."""

    id: str
    label: str
    terms: tuple[str, ...]
    uids: tuple[str, ...]  # closest to the group's centre first
    open_uids: tuple[str, ...]  # not answered or closed yet
    examples: tuple[str, ...]  # personal data removed
    channels: dict[str, int]
    first_at: datetime
    last_at: datetime
    duplicates: int
    cohesion: float

    @property
    def count(self) -> int:
        """How many messages the topic holds."""
        return len(self.uids)

    @property
    def campaign(self) -> bool:
        """Whether the group looks like a copy-paste campaign: at least :data:`CAMPAIGN_MIN_COPIES` near-copies
        making half of it, all within :data:`CAMPAIGN_WINDOW`. A subject residents raise again and again over
        weeks (a car park always full) has near-copies too, but is no campaign (issue #17 point 12)."""
        return (self.duplicates >= max(CAMPAIGN_MIN_COPIES, self.count / 2)
                and self.last_at - self.first_at <= CAMPAIGN_WINDOW)


def topics_for(db: Database, filters: DashboardFilters, config: DashboardConfig, *, now: datetime,
               limit: int = MAX_MESSAGES, min_size: int = 3, top: int = 20,
               messages: Sequence[dict[str, Any]] | None = None) -> list[Topic]:
    """The ``top`` largest topics among the newest ``limit`` messages of the selection (hidden/deleted left out)."""
    if messages is None:
        scope = scope_for(filters, config, now=now)
        messages = [m for m in stats_repo.window_texts(db, scope, limit=limit)
                    if not m["hidden"] and not m["deleted_at"]]
    groups = group_topics([m["text"] for m in messages], min_size=min_size, max_fit=MAX_FIT, top=top,
                          vectors=stored_vectors(db, messages[:MAX_FIT]))
    out = []
    for g in groups:
        rows = [messages[i] for i in g.members]
        created = [at for m in rows if (at := from_iso(m["created_at"])) is not None]
        out.append(Topic(
            id=hashlib.sha1(rows[0]["uid"].encode()).hexdigest()[:12], label=g.label, terms=g.terms,
            uids=tuple(m["uid"] for m in rows),
            open_uids=tuple(m["uid"] for m in rows if m["status"] not in _DONE),
            examples=_examples(rows), channels=dict(Counter(m["platform"] for m in rows)),
            first_at=min(created), last_at=max(created), duplicates=g.duplicates,
            cohesion=g.cohesion))
    return out


def stored_vectors(db: Database, messages: Sequence[dict[str, Any]]) -> list[Any | None] | None:
    """The worker's stored vector of each message (None where it has none yet), or None when none has one."""
    blobs = repo.mention_vectors_of(db, [m["uid"] for m in messages], model=similar_vectors.MODEL)
    if not blobs:
        return None
    return [similar_vectors.from_bytes(b) if (b := blobs.get(m["uid"])) is not None else None for m in messages]


def _examples(rows: Sequence[dict[str, Any]], wanted: int = 3, scan: int = 30) -> tuple[str, ...]:
    """Up to ``wanted`` distinct member texts, closest to the centre first, with personal data removed."""
    names = [n for m in rows[:200] for n in (m["author_name"], m["author_handle"])]
    seen: set[str] = set()
    examples: list[str] = []
    for m in rows[:scan]:
        if m["text"].lower() in seen:
            continue
        seen.add(m["text"].lower())
        examples.append(redact(m["text"], names=names))
        if len(examples) == wanted:
            break
    return tuple(examples)


def topics_table(topics: Sequence[Topic]) -> list[dict[str, Any]]:
    """One row per topic, for the CSV download."""
    return [{"topic": t.label, "messages": t.count, "open": len(t.open_uids), "near_copies": t.duplicates,
             "terms": ", ".join(t.terms), "example": t.examples[0] if t.examples else "",
             "first_at": t.first_at, "last_at": t.last_at} for t in topics]


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupReply:
    """What answering a group did, per mention."""

    sent: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]  # (uid, reason): already_answered | hidden | deleted | not_found
    failed: tuple[tuple[str, str, str], ...]  # (uid, error code, English message for logs)
    errors: tuple[ParvisError, ...] = ()  # the errors of ``failed``, in order (for the French text)


def answer_group(db: Database, uids: Sequence[str], reply_fn: Callable[[InboxItem], object], *,
                 include_answered: bool = False) -> GroupReply:
    """Send one saved reply to every mention of a group through ``reply_fn`` (one signed, audited reply each).

    ``reply_fn`` is the editorial reply service bound to the acting agent and the saved reply (it composes the
    text for that mention, checks the charter, sends or submits for approval, and records the audit events).
    A failure on one mention is recorded and the others still go out.
    """
    sent: list[str] = []
    skipped: list[tuple[str, str]] = []
    failed: list[tuple[str, str, str]] = []
    errors: list[ParvisError] = []
    for uid in dict.fromkeys(uids):
        try:
            item = repo.get_item(db, uid)
        except NotFoundError:
            skipped.append((uid, "not_found"))
            continue
        if item.deleted_at is not None:
            skipped.append((uid, "deleted"))
        elif item.hidden:
            skipped.append((uid, "hidden"))
        elif item.status in _DONE and not include_answered:
            skipped.append((uid, "already_answered"))
        else:
            try:
                reply_fn(item)
            except ParvisError as err:
                failed.append((uid, err.code, str(err)))
                errors.append(err)
            else:
                sent.append(uid)
    return GroupReply(sent=tuple(sent), skipped=tuple(skipped), failed=tuple(failed), errors=tuple(errors))
