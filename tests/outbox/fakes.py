"""A scriptable fake account for moderation acts: hides, deletes, bans; fails on demand; optionally says whether an
act is in effect (the outbox's lookup, ``act_applied``)."""

from __future__ import annotations

from collections.abc import Callable

from connectors.base import Capability, ConnectorInfo
from core.errors import PermanentFailure, RateLimited, Unavailable
from core.models import Author, Mention, Platform

ALL_ACTS = frozenset({Capability.HIDE, Capability.UNHIDE, Capability.DELETE, Capability.BAN, Capability.UNBAN})


class FakeModerationPlatform:
    """One account. ``script`` lists what the next calls do: ok, perm, rate, ambig_before, ambig_after;
    ``lookups`` what the next ``act_applied`` calls do: ok or fail; ``before_effect`` runs inside each call before
    the act takes effect (e.g. another connection locks the database meanwhile)."""

    name = "fake-mod"

    def __init__(self, *, can_look_up: bool = True, script: list[str] | None = None,
                 before_effect: Callable[[str], None] | None = None) -> None:
        self.info = ConnectorInfo(platform=Platform.X, name=self.name, capabilities=ALL_ACTS)
        self.script = list(script or [])
        self.lookups: list[str] = []
        self.before_effect = before_effect
        self.calls: list[tuple[str, str]] = []  # acts that took effect
        self.hidden: set[str] = set()
        self.deleted: set[str] = set()
        self.banned: set[str] = set()
        if not can_look_up:
            self.act_applied = None  # type: ignore[assignment]

    def _do(self, action: str, target: str, effect: Callable[[], None]) -> None:
        step = self.script.pop(0) if self.script else "ok"
        if self.before_effect is not None:
            self.before_effect(action)
        if step == "perm":
            raise PermanentFailure("403 this comment cannot be moderated")
        if step == "rate":
            raise RateLimited("429 too many requests")
        if step == "ambig_before":
            raise Unavailable("503 before anything changed")
        effect()
        self.calls.append((action, target))
        if step == "ambig_after":
            raise Unavailable("timeout after the act took effect")

    def hide(self, mention: Mention) -> None:
        self._do("hide", mention.platform_id, lambda: self.hidden.add(mention.platform_id))

    def unhide(self, mention: Mention) -> None:
        self._do("unhide", mention.platform_id, lambda: self.hidden.discard(mention.platform_id))

    def delete(self, platform_id: str) -> None:
        self._do("delete", platform_id, lambda: self.deleted.add(platform_id))

    def ban(self, author: Author) -> None:
        self._do("ban", author.platform_id, lambda: self.banned.add(author.platform_id))

    def unban(self, author: Author) -> None:
        self._do("unban", author.platform_id, lambda: self.banned.discard(author.platform_id))

    def act_applied(self, action: str, mention: Mention) -> bool:
        """Whether ``action`` is in effect now; a scripted failure raises (cannot tell)."""
        if self.lookups and self.lookups.pop(0) == "fail":
            raise Unavailable("moderation state unavailable")
        pid, author = mention.platform_id, mention.author.platform_id
        return {"hide": pid in self.hidden, "unhide": pid not in self.hidden, "delete": pid in self.deleted,
                "ban": author in self.banned, "unban": author not in self.banned}[action]

    def count(self, action: str) -> int:
        """How many times ``action`` took effect."""
        return sum(1 for a, _ in self.calls if a == action)
