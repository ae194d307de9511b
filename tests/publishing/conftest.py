"""Fixtures of the publishing tests: a fake clock, agents, and a helper that writes an approved post."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from core.models import Platform
from core.repo import posts as posts_repo
from services.editorial import calendar, post_review
from services.publishing.content import PublishPolicy
from services.publishing.posts import Publisher
from tests.publishing.fakes import FakeClock, FakePlatform

T0 = datetime(2026, 6, 15, 7, 0, tzinfo=UTC)  # a Monday, 09:00 in Paris
POLICY = PublishPolicy(grace=timedelta(minutes=15), retry_window=timedelta(minutes=30), backoff_base_s=5,
                       backoff_max_s=60, lease_ttl=timedelta(seconds=60), stale_after=timedelta(seconds=90))


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock starting one hour before T0."""
    return FakeClock(T0 - timedelta(hours=1))


@pytest.fixture
def platform(clock) -> FakePlatform:
    """A fake account named "fake"."""
    return FakePlatform(clock=clock)


@pytest.fixture
def make_post(db, agents, clock):
    """Write, submit and approve a post on the given accounts at ``at`` (UTC); returns the stored post."""
    def make(text: str = "Collecte des encombrants lundi dans le quartier Nord.", *, accounts=("fake",),
             at: datetime = T0, native: bool = False, approve: bool = True, variants=None, media=()):
        platforms = dict.fromkeys(accounts, Platform.DEMO)
        post = calendar.create_post(db, agents["julie"], text=text, accounts=list(accounts), at=at, now=clock(),
                                    platforms=platforms, native_schedule=native, variants=variants, media=media)
        if approve:
            post_review.submit_post(db, agents["julie"], post.id, now=clock())
            post = post_review.approve_post(db, agents["sophie"], post.id, now=clock(), policy=POLICY)
        return posts_repo.get_post(db, post.id)
    return make


@pytest.fixture
def publisher(db, platform, clock):
    """A publisher over the fake account, with the test policy and a seeded jitter."""
    return Publisher(db, {"fake": platform}, clock=clock, policy=POLICY, rng=random.Random(1), worker_id="w1")
