"""The one contract every platform connector implements (demo, X, Facebook, and the channels to come).

Connectors never see the database: they turn platform payloads into :class:`core.models.Mention` objects and
platform errors into :mod:`core.errors` (``AuthFailed``, ``RateLimited``, ``Unavailable``,
``PermanentFailure``, ``MalformedPayload``), always with ``raise ... from err``. The shared contract suite
(tests/connectors/test_contract.py) runs against every registered connector.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

from core.models import Mention, Platform, Published


def secret_fingerprint(*secrets: str | None) -> str:
    """A short hash of a connector's credentials: tells whether they changed without keeping them (a
    connector's ``credential_fingerprint``; the « reconnexion nécessaire » block compares it, decision 0185)."""
    digest = hashlib.sha256("\x1f".join(s or "" for s in secrets).encode()).hexdigest()
    return digest[:16]


class Capability(enum.StrEnum):
    """What a connector can do besides fetching."""

    REPLY = "reply"
    PUBLISH = "publish"
    HIDE = "hide"
    UNHIDE = "unhide"
    DELETE = "delete"
    NATIVE_SCHEDULE = "native_schedule"
    BAN = "ban"  # ``ban(author)``: block the author from the account/page (moderation extra, not in the Protocol)
    UNBAN = "unban"  # ``unban(author)``: lift that block


@dataclass(frozen=True, slots=True)
class ConnectorInfo:
    """Static description of a connector (the analogue of a Home Assistant manifest)."""

    platform: Platform
    name: str
    capabilities: frozenset[Capability]
    settings_keys: tuple[str, ...] = ()  # environment variables it needs
    publish_needs_image: bool = False  # the platform refuses text-only posts (Instagram)


@dataclass(frozen=True, slots=True)
class PlatformChange:
    """Something the platform shows changed on a mention we already have (deleted, hidden, unhidden, edited).

    An ``edited`` change is one step of an edit history the platform keeps (Mastodon): the text before and after,
    ``raw`` being that version as the platform shows it. The store skips steps it already recorded.
    """

    uid: str
    change: str
    raw: dict[str, Any] = field(default_factory=dict)
    old_text: str | None = None
    new_text: str | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    """An item the platform sent that Parvis could not read (it failed validation): listed on the Connexions page
    so that nobody loses it silently, though the cursor moved past it. No text is kept, only where to see it."""

    item_id: str
    reason: str
    permalink: str | None = None


@dataclass(frozen=True, slots=True)
class OwnPost:
    """A publication of the city's own account that the connector read anyway (e.g. the Page's posts in its feed):
    the root of the residents' comments under it, shown first in « Fil » (decision 0212). Not an inbox item."""

    platform_id: str
    text: str
    published_at: datetime
    permalink: str = ""


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One fetch: normalised mentions, the cursor to pass back next time, and items skipped as malformed."""

    mentions: Sequence[Mention]
    cursor: str | None
    skipped: Sequence[str] = ()  # human-readable reasons, one per malformed item
    changes: Sequence[PlatformChange] = ()
    has_more: bool = False  # the connector stopped at its page budget: fetch again with ``cursor`` to go on
    notes: Sequence[str] = ()  # what could not be read this pass though the rest was (e.g. a missing permission)
    rejected: Sequence[Rejected] = ()  # items that failed validation, to list (their reasons are in ``skipped``)
    ignored: Mapping[str, int] = field(default_factory=dict)  # nothing to read, by why: not malformed, not an error
    own_posts: Sequence[OwnPost] = ()  # the city's own posts read on the way (thread roots), not inbox items
    own_changes: Sequence[PlatformChange] = ()  # edits and deletions seen on those posts (uid platform:id, 0305)


@dataclass(frozen=True, slots=True)
class Health:
    """What a connector knows about its own state (token valid, rate limits, last error)."""

    ok: bool
    account: str = ""
    detail: str = ""
    rate_limited_until: datetime | None = None


@runtime_checkable
class Connector(Protocol):
    """Every platform connector satisfies this protocol."""

    info: ClassVar[ConnectorInfo]
    name: str  # instance name, e.g. "demo", "x", "facebook"

    def fetch(self, cursor: str | None) -> FetchResult:
        """Return mentions newer than ``cursor`` (``None``: the first sync) and the next cursor."""
        ...

    def reply(self, mention: Mention, text: str) -> Published:
        """Post ``text`` (already signed and checked) as a reply to ``mention``."""
        ...

    def publish(self, text: str, *, scheduled_at: datetime | None = None,
                media: Sequence[dict[str, Any]] = ()) -> Published:
        """Publish a post on the account (natively scheduled if ``scheduled_at`` and supported)."""
        ...

    def hide(self, mention: Mention) -> None:
        """Hide a comment/reply on the account's content."""
        ...

    def unhide(self, mention: Mention) -> None:
        """Undo :meth:`hide`."""
        ...

    def delete(self, platform_id: str) -> None:
        """Delete one of our own posts or replies (or a comment on our content, where allowed)."""
        ...

    def health(self) -> Health:
        """Check credentials and report rate-limit state; raises nothing."""
        ...
