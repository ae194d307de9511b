"""A scriptable fake platform for the publishing tests: records what is "on the account", fails on demand."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from connectors.base import Capability, ConnectorInfo
from core.errors import AuthFailed, PermanentFailure, RateLimited, Unavailable
from core.models import Platform, Published


class SimulatedCrash(BaseException):
    """The worker process dies here (not an Exception: nothing in the code under test may catch it)."""


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move forward by ``timedelta(**delta)``."""
        self.now += timedelta(**delta)
        return self.now


@dataclass
class Post:
    """What the fake platform holds."""

    platform_id: str
    text: str
    created_at: datetime
    visible_at: datetime


@dataclass
class FakePlatform:
    """One account. ``script`` lists what the next calls do: ok, rate, perm, auth, ambig_before, ambig_after."""

    clock: Callable[[], datetime]
    name: str = "fake"
    script: list[str] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)  # "ok" | "fail" for the next find_published calls
    can_look_up: bool = True
    native: bool = False
    posts: list[Post] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    _n: int = 0

    info: ClassVar[ConnectorInfo] = ConnectorInfo(platform=Platform.DEMO, name="fake",
                                                  capabilities=frozenset({Capability.PUBLISH}))

    def __post_init__(self) -> None:
        caps = {Capability.PUBLISH, Capability.DELETE} | ({Capability.NATIVE_SCHEDULE} if self.native else set())
        self.info = ConnectorInfo(platform=Platform.DEMO, name=self.name, capabilities=frozenset(caps))
        if not self.can_look_up:
            self.find_published = None  # type: ignore[assignment]

    def _create(self, text: str, scheduled_at: datetime | None) -> Published:
        self._n += 1
        now = self.clock()
        pid = f"{self.name}-{self._n}"
        self.posts.append(Post(pid, text, now, scheduled_at or now))
        return Published(platform_id=pid, permalink=f"https://fake.invalid/{self.name}/{pid}")

    def publish(self, text: str, *, scheduled_at: datetime | None = None, media: Sequence[dict[str, Any]] = ()
                ) -> Published:
        """Follow the script (default: succeed)."""
        action = self.script.pop(0) if self.script else "ok"
        self.calls.append(action)
        if action == "rate":
            raise RateLimited("429 too many requests", reset_at=None)
        if action == "perm":
            raise PermanentFailure("400 duplicate content")
        if action == "auth":
            raise AuthFailed("401 token revoked")
        if action == "ambig_before":
            raise Unavailable("503 before anything was created")
        published = self._create(text, scheduled_at)
        if action == "ambig_after":
            raise Unavailable("timeout after the post was created")
        return published

    def find_published(self, text: str, since: datetime) -> Published | None:
        """Our post with ``text`` visible since ``since``; scripted failures raise Unavailable."""
        if self.lookups and self.lookups.pop(0) == "fail":
            raise Unavailable("timeline unavailable")
        now = self.clock()
        for post in reversed(self.posts):
            if post.text == text and since <= post.visible_at <= now:
                return Published(platform_id=post.platform_id, permalink=f"https://fake.invalid/{post.platform_id}")
        return None

    def delete(self, platform_id: str) -> None:
        """Withdraw a (scheduled) post."""
        self.posts = [p for p in self.posts if p.platform_id != platform_id]

    def count(self, text: str) -> int:
        """How many copies of ``text`` are on the account."""
        return sum(1 for p in self.posts if p.text == text)
