"""The demo connector: an offline sandbox city that keeps producing mentions and records what Parvis "sends".

``fetch`` generates the stream up to ``clock()`` (simulated time: inject a clock to move faster);
``reply``/``publish``/``hide``/``unhide``/``delete``/``ban``/``unban`` append to ``<state_dir>/demo-outbox.jsonl``
(in memory when ``state_dir`` is None) and answer with fake ids and permalinks. Residents sometimes answer the
city's replies in a later fetch, so threads continue.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from connectors.base import Capability, ConnectorInfo, FetchResult, Health
from connectors.demo import lookups
from connectors.demo.data import texts
from connectors.demo.errors import check_text
from connectors.demo.generator import DEFAULT_SEED, followups, generate
from connectors.demo.normalize import BASE_URL, fb_permalink, x_permalink
from connectors.demo.outbox import FILENAME, Outbox
from connectors.demo.private import private_conversations
from core.clock import Clock, from_iso, to_iso, utcnow
from core.errors import PermanentFailure
from core.models import Author, Mention, Platform, Published

log = logging.getLogger(__name__)


class DemoConnector:
    """Sandbox connector for the fictional "Ville de Valmont" (X and Facebook shapes, ``account="demo"``)."""

    info: ClassVar[ConnectorInfo] = ConnectorInfo(platform=Platform.DEMO, name="Démo (Ville de Valmont)",
                                                  capabilities=frozenset(Capability))
    name = "demo"

    def __init__(self, state_dir: Path | None = None, *, clock: Clock = utcnow, history_days: int = 30,
                 seed: int = DEFAULT_SEED, private: bool = False) -> None:
        self.name = "demo"
        self.private = private  # also the private conversations of connectors/demo/private.py (issue #20)
        self.clock = clock
        self.history_days = history_days
        self.seed = seed
        self._outbox = Outbox(Path(state_dir) / FILENAME if state_dir is not None else None)

    # ---- reading -------------------------------------------------------------------------------------------
    def fetch(self, cursor: str | None = None) -> FetchResult:
        """Mentions created since ``cursor`` up to now (at most ``history_days`` back; None: all of them).

        The new cursor is now; residents' answers to the city's recorded replies come along.
        """
        now = self.clock()
        oldest = now - timedelta(days=self.history_days)
        skipped: list[str] = []
        try:
            start = from_iso(cursor) if cursor else None
        except ValueError:
            skipped.append(f"unreadable cursor {cursor!r}: fetched the last {self.history_days} days again")
            start = None
        if start is not None and start >= now:
            return FetchResult(mentions=[], cursor=to_iso(start))
        start = oldest if start is None else max(start, oldest)
        mentions = generate(start, now, seed=self.seed)
        if self.private:
            mentions += private_conversations(start, now)
        replies = [r for r in self._outbox.read() if r.get("kind") == "reply"]
        mentions = sorted([*mentions, *followups(replies, start, now, seed=self.seed)] if replies else mentions,
                          key=lambda m: (m.created_at, m.platform_id))
        return FetchResult(mentions=mentions, cursor=to_iso(now), skipped=skipped)

    def health(self) -> Health:
        """Always healthy: the sandbox needs no credentials."""
        city = texts().city
        where = str(self._outbox.path) if self._outbox.path else "in memory"
        return Health(ok=True, account=f"@{city['x_handle']} · {city['page_name']} (démo)",
                      detail=f"sandbox, outbox {where}")

    def outbox(self) -> list[dict[str, Any]]:
        """Everything "sent" so far, oldest first."""
        return self._outbox.read()

    # ---- writing -------------------------------------------------------------------------------------------
    def reply(self, mention: Mention, text: str) -> Published:
        """Record a reply to ``mention`` in the outbox; returns ``demo-reply-<n>`` and its permalink."""
        platform = str(mention.platform)
        check_text(text, platform)
        now = to_iso(self.clock())
        handle = texts().city["x_handle"]
        conv = mention.conversation_id or mention.platform_id

        def build(n: int) -> dict[str, Any]:
            pid = f"demo-reply-{n}"
            link = x_permalink(handle, pid) if platform == "x" else fb_permalink(conv, pid) \
                if platform == "facebook" else f"{BASE_URL}/{platform}/{handle}/replies/{pid}"
            a = mention.author
            return {"n": n, "kind": "reply", "at": now, "platform": platform, "platform_id": pid, "permalink": link,
                    "text": text, "in_reply_to": mention.platform_id, "mention_uid": mention.uid,
                    "conversation_id": conv, "account": mention.account,
                    "author": {"id": a.platform_id, "handle": a.handle, "name": a.display_name,
                               "followers": a.followers}}

        rec = self._outbox.append(build)
        log.info("demo reply %s to %s", rec["platform_id"], mention.uid)
        return Published(platform_id=rec["platform_id"], permalink=rec["permalink"])

    def send_private(self, mention: Mention, text: str, *, tag: str | None = None) -> Published:
        """Record a private answer (Messenger, Mastodon direct, Bluesky chat) in the outbox, never a public reply;
        returns ``demo-private-<n>`` (no permalink: nothing public)."""
        now = to_iso(self.clock())

        def build(n: int) -> dict[str, Any]:
            return {"n": n, "kind": "private_reply", "at": now, "platform": str(mention.platform),
                    "platform_id": f"demo-private-{n}", "text": text, "tag": tag, "mention_uid": mention.uid,
                    "conversation_id": mention.conversation_id, "recipient": mention.author.platform_id}

        rec = self._outbox.append(build)
        log.info("demo private answer %s to %s", rec["platform_id"], mention.uid)
        return Published(platform_id=rec["platform_id"])

    def publish(self, text: str, *, scheduled_at: datetime | None = None,
                media: Sequence[dict[str, Any]] = ()) -> Published:
        """Record a post (natively scheduled when ``scheduled_at`` is given); returns ``demo-post-<n>``."""
        check_text(text, "x" if len(text) <= 280 else "facebook")
        if scheduled_at is not None and scheduled_at.tzinfo is None:
            raise PermanentFailure("scheduled_at must be timezone-aware")
        now = to_iso(self.clock())
        handle = texts().city["x_handle"]

        def build(n: int) -> dict[str, Any]:
            pid = f"demo-post-{n}"
            return {"n": n, "kind": "publish", "at": now, "platform": "demo", "platform_id": pid,
                    "permalink": f"{BASE_URL}/demo/{handle}/posts/{pid}", "text": text,
                    "scheduled_at": to_iso(scheduled_at) if scheduled_at else None, "media": list(media)}

        rec = self._outbox.append(build)
        return Published(platform_id=rec["platform_id"], permalink=rec["permalink"])

    # ---- optional lookups used by the publishing worker (connectors/demo/lookups.py) ----------------------
    def find_published(self, text: str, since: datetime) -> Published | None:
        """Our post with exactly ``text`` (spaces normalised) visible since ``since``, or None if absent."""
        return lookups.find_published(self._outbox.read(), text, since, self.clock())

    def find_reply(self, mention: Mention, text: str, since: datetime) -> Published | None:
        """Our reply to ``mention`` with exactly ``text`` (spaces normalised) made since ``since``, or None."""
        return lookups.find_reply(self._outbox.read(), mention, text, since)

    def published_status(self, platform_id: str) -> Published | None:
        """The post ``platform_id`` once it is public (its native time passed), else None."""
        return lookups.published_status(self._outbox.read(), platform_id, self.clock())

    def act_applied(self, action: str, mention: Mention) -> bool:
        """Whether moderation ``action`` is in effect on the sandbox now (the outbox's lookup, decision 0051)."""
        return lookups.act_applied(self._outbox.read(), action, mention)

    def _moderate(self, kind: str, target: str, mention: Mention | None = None) -> None:
        now = to_iso(self.clock())
        extra = {"mention_uid": mention.uid, "platform": str(mention.platform)} if mention is not None else {}
        self._outbox.append(lambda n: {"n": n, "kind": kind, "at": now, "target": target, **extra})

    def hide(self, mention: Mention) -> None:
        """Record that ``mention`` is hidden from the public."""
        self._moderate("hide", mention.platform_id, mention)

    def unhide(self, mention: Mention) -> None:
        """Record that ``mention`` is visible again."""
        self._moderate("unhide", mention.platform_id, mention)

    def delete(self, platform_id: str) -> None:
        """Record the deletion of one of our posts or replies."""
        self._moderate("delete", platform_id)

    def ban(self, author: Author) -> None:
        """Record that ``author`` is banned from the sandbox page."""
        self._moderate("ban", author.platform_id)

    def unban(self, author: Author) -> None:
        """Record that the ban of ``author`` is lifted."""
        self._moderate("unban", author.platform_id)
