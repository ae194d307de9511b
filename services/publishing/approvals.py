"""The directors' approval queue and the worker's publishing of scheduled replies that are due."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from connectors.base import Connector
from core import audit, repo
from core.clock import Clock
from core.models import Agent, Draft, DraftState, InboxItem, Platform
from services.accounts.permissions import Action, require
from services.outbox.engine import worker_identity
from services.publishing.content import DEFAULT_POLICY, PublishPolicy
from services.publishing.reply_outbox import DueResult, ReplyWorker

__all__ = ["ApprovalItem", "DueResult", "baseline", "diff_lines", "publish_due", "queue"]
_PROCESS_WORKER = worker_identity()  # one lease holder's name per process when the caller gives none


@dataclass(frozen=True, slots=True)
class ApprovalItem:
    """What a director needs to decide: the reply, the mention it answers (with its risk), the author, the
    charter findings, why approval is needed, and the diff against the last approved text if any."""

    draft: Draft
    item: InboxItem | None
    author: Agent
    diff: list[str]


def diff_lines(before: str | None, after: str) -> list[str]:
    """Line diff ``before`` -> ``after`` (unified format without headers); empty when nothing was approved."""
    if before is None or before == after:
        return []
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=1)
            if not line.startswith(("---", "+++"))]


def queue(db: Database, director: Agent, *, limit: int = 100) -> list[ApprovalItem]:
    """Replies waiting for approval, oldest first (the director's own ones are listed: someone else approves)."""
    require(director, Action.REPLY_APPROVE)
    out = []
    for draft in repo.drafts_in_state(db, [DraftState.SUBMITTED], limit=limit):
        item = repo.get_item(db, draft.mention_uid) if draft.mention_uid else None
        out.append(ApprovalItem(draft, item, repo.get_agent(db, draft.author_id),
                                diff_lines(draft.approved_text, draft.signed_text)))
    return out


def baseline(db: Database, draft: Draft) -> tuple[str, str | None]:
    """What a director compares the reply with: ``("approved", text)`` once approved before, else
    ``("submitted", text)`` for the last differing submission (after changes were requested), else ``("", None)``."""
    if draft.approved_text is not None:
        return "approved", draft.approved_text
    subject = draft.mention_uid or f"draft:{draft.id}"
    texts = [str(e["properties"].get("text", "")) for e in audit.events_for(db, subject)
             if e["event"] == "reply-submitted" and e["properties"].get("draft_id") == draft.id]
    for text in reversed(texts):
        if text != draft.signed_text:
            return "submitted", text
    return "", None


def publish_due(db: Database, connectors: Mapping[Platform, Connector] | Callable[[Draft], Connector | None], *,
                now: datetime, worker_id: str | None = None, policy: PublishPolicy = DEFAULT_POLICY,
                clock: Clock | None = None) -> list[DueResult]:
    """Send every scheduled reply whose time has come, exactly once (called by the worker loop each tick).

    ``connectors`` maps a platform to its connector, or is a function choosing the connector for a draft
    (the worker routes demo data to the sandbox that way). The worker must hold the ``publisher`` lease
    (shared with the posts; ``worker_id`` names the holder, default: this process); interrupted or uncertain
    sends are looked for on the platform before anything else (:mod:`services.publishing.reply_outbox`).
    """
    worker = ReplyWorker(db, connectors, clock=clock or (lambda: now), policy=policy,
                         worker_id=worker_id or _PROCESS_WORKER)
    return worker.tick().results
