"""A scriptable fake platform for scheduled replies: records the replies "under each mention", fails on demand."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from connectors.base import Capability, ConnectorInfo
from core.errors import AuthFailed, PermanentFailure, RateLimited, Unavailable
from core.models import Mention, Platform, Published


@dataclass
class Reply:
    """A reply the fake platform holds."""

    platform_id: str
    in_reply_to: str
    text: str
    created_at: datetime


@dataclass
class FakeReplyPlatform:
    """One account. ``script`` lists what the next ``reply`` calls do: ok, rate, perm, auth, ambig_before,
    ambig_after; ``lookups`` what the next ``find_reply`` calls do: ok or fail; ``delay_s`` slows each call."""

    clock: Callable[[], datetime]
    script: list[str] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)
    can_look_up: bool = True
    delay_s: float = 0.0
    replies: list[Reply] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    _n: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    info: ClassVar[ConnectorInfo] = ConnectorInfo(platform=Platform.X, name="fake-x",
                                                  capabilities=frozenset({Capability.REPLY}))
    name: ClassVar[str] = "fake-x"

    def __post_init__(self) -> None:
        if not self.can_look_up:
            self.find_reply = None  # type: ignore[assignment]

    def reply(self, mention: Mention, text: str) -> Published:
        """Follow the script (default: succeed)."""
        if self.delay_s:
            time.sleep(self.delay_s)  # a slow network: another sender may try meanwhile
        with self._lock:
            action = self.script.pop(0) if self.script else "ok"
            self.calls.append(action)
            if action == "rate":
                raise RateLimited("429 too many requests")
            if action == "perm":
                raise PermanentFailure("403 you cannot reply to this conversation")
            if action == "auth":
                raise AuthFailed("401 token revoked")
            if action == "ambig_before":
                raise Unavailable("503 before anything was created")
            self._n += 1
            pid = f"reply-{self._n}"
            self.replies.append(Reply(pid, mention.platform_id, text, self.clock()))
            if action == "ambig_after":
                raise Unavailable("timeout after the reply was created")
            return Published(platform_id=pid, permalink=f"https://x.invalid/status/{pid}")

    def find_reply(self, mention: Mention, text: str, since: datetime) -> Published | None:
        """Our reply to ``mention`` with ``text`` since ``since``; scripted failures raise Unavailable."""
        if self.lookups and self.lookups.pop(0) == "fail":
            raise Unavailable("conversation unavailable")
        for r in reversed(self.replies):
            if r.in_reply_to == mention.platform_id and r.text == text and since <= r.created_at <= self.clock():
                return Published(platform_id=r.platform_id, permalink=f"https://x.invalid/status/{r.platform_id}")
        return None

    def count(self, mention: Mention | str, text: str | None = None) -> int:
        """How many replies under ``mention`` (with ``text`` if given)."""
        pid = mention if isinstance(mention, str) else mention.platform_id
        return sum(1 for r in self.replies if r.in_reply_to == pid and (text is None or r.text == text))
