"""The directors' approval queue and the worker's publishing of scheduled replies that are due."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from connectors.base import Connector
from core import audit, repo
from core.errors import ParvisError
from core.models import Agent, Draft, DraftState, InboxItem, Platform
from services import replies
from services.permissions import Action, require

log = logging.getLogger(__name__)


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


@dataclass(frozen=True, slots=True)
class DueResult:
    """Outcome of one scheduled reply the worker tried to publish."""

    draft_id: int
    ok: bool
    error_code: str = ""


def publish_due(db: Database, connectors: Mapping[Platform, Connector] | Callable[[Draft], Connector | None], *,
                now: datetime) -> list[DueResult]:
    """Send every scheduled reply whose time has come (called by the worker loop).

    ``connectors`` maps a platform to its connector, or is a function choosing the connector for a draft
    (the worker routes demo data to the sandbox that way).
    """
    results = []
    for draft in repo.drafts_due(db, now=now):
        connector = connectors(draft) if callable(connectors) else connectors.get(draft.platform)
        if connector is None:
            results.append(DueResult(draft.id, False, "no_connector"))
            continue
        try:
            replies.send(db, None, draft.id, connector, now=now)
            results.append(DueResult(draft.id, True))
        except ParvisError as err:  # recorded in the audit by send(); the next draft still goes out
            log.warning("scheduled reply %s not sent: %s", draft.id, err)
            results.append(DueResult(draft.id, False, err.code))
    return results
