"""Finding what the demo sandbox "sent", for the outbox's reconciliation (services/publishing/reconcile.py,
services/publishing/reply_sending.py, services/moderation/acts.py): ``find_published``, ``find_reply``,
``published_status`` and ``act_applied``.

Everything is read from the outbox records (connectors/demo/outbox.py), oldest first; the newest match wins. A
deleted post or reply (a later ``delete`` record) is not found; a natively scheduled post is visible only once its
time has come. Texts are compared with their spacing normalised.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from core.clock import from_iso
from core.models import Mention, Published

Records = Sequence[dict[str, Any]]


def _same(text: str, other: Any) -> bool:
    return " ".join(str(other or "").split()) == " ".join(text.split())


def _deleted(records: Records) -> set[Any]:
    return {r.get("target") for r in records if r.get("kind") == "delete"}


def visible_posts(records: Records, now: datetime) -> list[dict[str, Any]]:
    """Posts on the sandbox timeline at ``now``: not deleted, natively scheduled ones only once their time came."""
    deleted = _deleted(records)
    out = []
    for rec in records:
        if rec.get("kind") != "publish" or rec.get("platform_id") in deleted:
            continue
        visible = from_iso(rec.get("scheduled_at")) or from_iso(rec.get("at"))
        if visible is not None and visible <= now:
            out.append({**rec, "visible_at": visible})
    return out


def find_published(records: Records, text: str, since: datetime, now: datetime) -> Published | None:
    """Our post with exactly ``text`` (spaces normalised) visible since ``since``, or None if absent."""
    for rec in reversed(visible_posts(records, now)):
        if rec["visible_at"] >= since and _same(text, rec.get("text", "")):
            return Published(platform_id=rec["platform_id"], permalink=rec.get("permalink"))
    return None


def find_reply(records: Records, mention: Mention, text: str, since: datetime) -> Published | None:
    """Our reply to ``mention`` with exactly ``text`` (spaces normalised) made since ``since``, or None."""
    deleted = _deleted(records)
    for rec in reversed(records):
        at = from_iso(rec.get("at"))
        if (rec.get("kind") == "reply" and rec.get("in_reply_to") == mention.platform_id and at is not None
                and at >= since and rec.get("platform_id") not in deleted and _same(text, rec.get("text", ""))):
            return Published(platform_id=rec["platform_id"], permalink=rec.get("permalink"))
    return None


def published_status(records: Records, platform_id: str, now: datetime) -> Published | None:
    """The post ``platform_id`` once it is public (its native time passed), else None."""
    for rec in visible_posts(records, now):
        if rec["platform_id"] == platform_id:
            return Published(platform_id=platform_id, permalink=rec.get("permalink"))
    return None


def act_applied(records: Records, action: str, mention: Mention) -> bool:
    """Whether moderation ``action`` is in effect on the sandbox: ``delete`` once deleted; ``hide``/``unhide`` and
    ``ban``/``unban`` by the latest of the pair on that message (author), a message never hidden being visible and
    an author never banned free."""
    if action == "delete":
        return any(r.get("kind") == "delete" and r.get("target") == mention.platform_id for r in records)
    pair, target = ((("hide", "unhide"), mention.platform_id) if action in ("hide", "unhide")
                    else (("ban", "unban"), mention.author.platform_id))
    last = next((r.get("kind") for r in reversed(records)
                 if r.get("kind") in pair and r.get("target") == target), None)
    return last == action if last is not None else action in ("unhide", "unban")
