"""Shared rules of the publishing outbox: what exactly is sent per account, the content fingerprint that
approval pins, the post's state derived from its targets, the publish-time charter gate, and the policy
(grace period, retry deadline, backoff with jitter, lease) read from the settings.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from core import repo
from core.config import Settings
from core.models import DraftState, Platform, Post, PostTarget, TargetState
from core.repo import posts as posts_repo
from editorial.charter import Media
from editorial.engine import CharterResult, CheckContext, CompiledCharter

T = TargetState
# Post states in which the worker may publish its pending targets (approval given, content unchanged since).
RELEASED = frozenset({DraftState.SCHEDULED, DraftState.PUBLISHING, DraftState.SENT, DraftState.FAILED,
                      DraftState.TO_VERIFY})


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishPolicy:
    """Timing rules of the publishing worker (``PARVIS_PUBLISH_*`` settings; docs/publishing.md)."""

    tick_s: int = 60  # PARVIS_PUBLISH_TICK_S: the longest the worker sleeps between outbox passes
    grace: timedelta = timedelta(minutes=15)  # PARVIS_PUBLISH_GRACE_MIN: later than this, hold for a person
    retry_window: timedelta = timedelta(minutes=60)  # PARVIS_PUBLISH_RETRY_DEADLINE_MIN, counted from due_at
    backoff_base_s: float = 5.0  # first retry after 2.5-5 s, then doubling, with full jitter
    backoff_max_s: float = 300.0
    lease_ttl: timedelta = timedelta(seconds=60)  # PARVIS_PUBLISH_LEASE_S
    stale_after: timedelta = timedelta(seconds=90)  # PARVIS_PUBLISH_STALE_S: a claim older than this is orphaned
    native_lead: timedelta = timedelta(minutes=60)  # PARVIS_PUBLISH_NATIVE_LEAD_MIN: hand-off this long ahead
    native_min_lead: timedelta = timedelta(minutes=10)  # Facebook refuses scheduled times closer than 10 min
    verify_after: timedelta = timedelta(minutes=2)  # native posts are looked for this long after their time
    verify_window: timedelta = timedelta(minutes=30)  # ...and left "à vérifier" if not seen by then
    batch: int = 200

    @classmethod
    def from_settings(cls, settings: Settings) -> PublishPolicy:
        """The policy with every ``PARVIS_PUBLISH_*`` override applied."""
        p = settings.publish
        return cls(tick_s=max(1, p.tick_s), grace=timedelta(minutes=p.grace_min),
                   retry_window=timedelta(minutes=p.retry_deadline_min), lease_ttl=timedelta(seconds=p.lease_s),
                   stale_after=timedelta(seconds=p.stale_s), native_lead=timedelta(minutes=p.native_lead_min))

    def backoff(self, attempts: int, rng: random.Random | None = None) -> timedelta:
        """Delay before retry number ``attempts`` (1, 2, ...): exponential, capped, with jitter in [d/2, d]."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * (2 ** max(0, attempts - 1)))
        draw = (rng or random).uniform(ceiling / 2, ceiling)
        return timedelta(seconds=draw)

    def deadline(self, target: PostTarget, post: Post) -> datetime:
        """When retries of ``target`` stop: ``retry_window`` after it was due."""
        return (target.due_at or post.scheduled_at) + self.retry_window


DEFAULT_POLICY = PublishPolicy()


def text_for(post: Post, account: str, platform: Platform) -> str:
    """The exact text published on ``account``: its own variant, else its platform's, else the shared text."""
    return (post.variants.get(account) or post.variants.get(str(platform)) or post.text).strip()


def content_hash(*, text: str, variants: Mapping[str, str], media: Sequence[Mapping[str, Any]],
                 accounts: Sequence[str], native_schedule: bool) -> str:
    """Fingerprint of everything that would be published; approval pins it, any edit changes it."""
    payload = {"text": text, "variants": dict(sorted(variants.items())), "media": [dict(m) for m in media],
               "accounts": sorted(accounts), "native": bool(native_schedule)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def hash_of(post: Post) -> str:
    """:func:`content_hash` of a stored post, recomputed from its current content."""
    return content_hash(text=post.text, variants=post.variants, media=post.media, accounts=post.accounts,
                        native_schedule=post.native_schedule)


def aggregate(targets: Sequence[PostTarget]) -> DraftState:
    """The post's state seen from its targets once it is released (cancelled targets ignored)."""
    states = {t.state for t in targets if t.state is not T.CANCELLED}
    if not states:
        return DraftState.CANCELLED
    if T.PUBLISHING in states:
        return DraftState.PUBLISHING
    if T.TO_VERIFY in states:
        return DraftState.TO_VERIFY
    if states & {T.PENDING, T.HANDED_OFF}:
        return DraftState.SCHEDULED
    if T.FAILED in states:
        return DraftState.FAILED
    return DraftState.SENT


def refresh_state(db: Database, post_id: int, *, now: datetime) -> DraftState:
    """Recompute and store a released post's state from its targets (call in the same transaction)."""
    post = posts_repo.get_post(db, post_id)
    if post.state not in RELEASED:
        return post.state
    state = aggregate(post.targets)
    if state is not post.state:
        posts_repo.update_post(db, post_id, state=state, now=now)
    return state


_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
         ".webp": "image/webp"}


def media_of(items: Sequence[Mapping[str, Any]]) -> tuple[Media, ...]:
    """Stored attachments as charter Media (size and type from the stored file, whose name ends with its type)."""
    out = []
    for m in items:
        path = Path(str(m.get("path") or ""))
        try:
            size = path.stat().st_size if m.get("path") else 0
        except OSError:
            size = 0
        out.append(Media(kind=str(m.get("kind", "image")), name=str(m.get("name", "")), alt=str(m.get("alt", "")),
                         size=size, mime=_MIME.get(path.suffix.lower(), "")))
    return tuple(out)


# (db, text, platform, media, now) -> the charter's verdict; the default is the charter in force.
CharterCheck = Callable[[Database, str, Platform, Sequence[Mapping[str, Any]], datetime], CharterResult]


@functools.cache
def _default_charter() -> CompiledCharter:
    # services.editorial.charter.current() re-parses the built-in YAML on every call while no charter is saved (~40 ms);
    # the publish-time check runs per post, so the built-in charter is compiled once here.
    from editorial.charter_yaml import default_charter

    return CompiledCharter(default_charter())


def charter_check(db: Database, text: str, platform: Platform, media: Sequence[Mapping[str, Any]],
                  now: datetime) -> CharterResult:
    """Check a post's text for one platform against the charter in force (posts carry no agent signature)."""
    from services.editorial import charter  # local import: the charter service pulls the YAML machinery

    compiled = _default_charter() if repo.latest_charter(db) is None else charter.current(db)
    return compiled.check(text, CheckContext(platform=platform, now=now, media=media_of(media), is_post=True))


def blocking_messages(result: CharterResult) -> list[str]:
    """The French messages of the findings that block publication."""
    return [f.message for f in result.findings if str(f.severity) == "block"]
