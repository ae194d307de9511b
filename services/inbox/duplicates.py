"""Near-copies of a message in the open inbox (the same complaint posted by many, copy-paste campaigns).

The inbox detail lists them so that one signed answer can go to the whole group, through the topic groups'
``answer_group`` (services/reports/topics.py): each copy gets its own composed, signed, checked and audited
reply. The comparison is moderation/duplicates.py's (threshold measured on a labelled set, decision 0172).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

from core import repo
from core.models import Agent, InboxItem
from core.repo import InboxQuery
from moderation.duplicates import near_copies_of
from services.accounts.permissions import Action, require

WINDOW = timedelta(days=7)  # campaigns arrive within days; older open items are not compared
SCAN = 1_000  # newest open items compared (one TF-IDF of short texts per opened message)


def near_copies(db: Database, item: InboxItem, *, viewer: Agent, now: datetime) -> list[InboxItem]:
    """Open messages of the last week that are near-copies of ``item`` (``item`` itself left out)."""
    require(viewer, Action.INBOX_READ)
    if not (item.mention.text or "").strip():
        return []
    others = [c for c in repo.list_inbox(db, InboxQuery(order="newest", limit=SCAN, since=now - WINDOW))
              if c.uid != item.uid]
    return [others[i] for i in near_copies_of(item.mention.text or "", [c.mention.text or "" for c in others])]
