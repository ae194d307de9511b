"""The exactly-once publisher against the fake Mastodon instance: lost answers and crashes never post twice."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from connectors.mastodon.connector import MastodonConnector
from core.models import TargetState
from core.repo import posts as posts_repo
from services.publishing.posts import Publisher
from tests.fakes import FakeMastodonApi
from tests.publishing.conftest import POLICY, T0
from tests.publishing.fakes import SimulatedCrash

TEXT = "Collecte des encombrants lundi dans le quartier Nord."


@pytest.fixture
def masto(httpserver):
    fake = FakeMastodonApi()
    fake.install(httpserver)
    return fake, MastodonConnector(base_url=fake.base, access_token=fake.token, backoff=0)


def run(db, clock, connector, *, crash_at: str | None = None, minutes: int = 20) -> None:
    hits: dict[str, int] = {}

    def hook(point: str) -> None:
        hits[point] = hits.get(point, 0) + 1
        if point == crash_at and hits[point] == 1:
            raise SimulatedCrash(point)

    def boot(n: int) -> Publisher:
        return Publisher(db, {"fake": connector}, clock=clock, policy=POLICY, rng=random.Random(n),
                         worker_id=f"w{n}", check=None, hook=hook)

    publisher, restarts = boot(0), 0
    clock.now = T0
    while clock() <= T0 + timedelta(minutes=minutes):
        try:
            publisher.tick()
        except SimulatedCrash:
            restarts += 1
            publisher = boot(restarts)
        clock.advance(seconds=20)


def own_statuses(fake: FakeMastodonApi) -> list[dict]:
    return [s for s in fake.statuses.values() if s["account"]["id"] == fake.me["id"]]


@pytest.mark.parametrize("crash_at", [None, "claimed", "called", "recorded"])
def test_a_crash_anywhere_publishes_once(db, clock, make_post, masto, crash_at):
    fake, connector = masto
    post = make_post(TEXT)
    run(db, clock, connector, crash_at=crash_at)
    target = posts_repo.get_post(db, post.id).targets[0]
    assert len(own_statuses(fake)) == 1
    assert target.state is TargetState.SENT and target.platform_id == own_statuses(fake)[0]["id"]


def test_a_lost_answer_is_found_on_the_timeline_not_resent(db, clock, make_post, masto):
    fake, connector = masto
    fake.lose_answers = 1  # the instance created the status, the 503 hides it
    post = make_post(TEXT)
    run(db, clock, connector)
    target = posts_repo.get_post(db, post.id).targets[0]
    assert len(own_statuses(fake)) == 1 and target.state is TargetState.SENT
    assert target.platform_id == own_statuses(fake)[0]["id"]
    assert "found" in [a["outcome"] for a in posts_repo.attempts_for(db, target.id)]
    assert len(fake.calls("/api/v1/statuses$", "POST")) == 1  # looked up, not sent again


def test_a_retry_with_the_same_key_is_refused_as_a_duplicate_by_the_instance(masto):
    fake, connector = masto
    fake.lose_answers = 1
    with pytest.raises(Exception):  # noqa: B017 - the 503 of the lost answer
        connector.publish(TEXT)
    again = connector.publish(TEXT)  # a blind retry: same Idempotency-Key
    assert len(own_statuses(fake)) == 1 and again.platform_id == own_statuses(fake)[0]["id"]


@pytest.fixture
def poster(tmp_path) -> dict:
    from services.editorial.calendar_inputs import store_image

    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    return {**store_image(tmp_path, "encombrants.png", png),
            "alt": "Camion de collecte des encombrants devant un immeuble du quartier Nord"}


@pytest.mark.parametrize("crash_at", ["called", "recorded"])
def test_a_post_with_an_image_is_published_once_with_its_alt_text(db, clock, make_post, masto, poster, crash_at):
    fake, connector = masto
    fake.processing_polls = 1  # the instance answers 202 and processes the image in the background
    connector._sleep = lambda _s: None
    post = make_post(TEXT, media=(poster,))
    run(db, clock, connector, crash_at=crash_at)
    target = posts_repo.get_post(db, post.id).targets[0]
    (status,) = own_statuses(fake)
    assert target.state is TargetState.SENT and target.platform_id == status["id"]
    assert [a["description"] for a in status["media_attachments"]] == [poster["alt"]]
    assert len(fake.calls("/api/v1/statuses$", "POST")) == 1


def test_a_lost_answer_with_an_image_is_found_not_reposted(db, clock, make_post, masto, poster):
    fake, connector = masto
    fake.lose_answers = 1
    post = make_post(TEXT, media=(poster,))
    run(db, clock, connector)
    target = posts_repo.get_post(db, post.id).targets[0]
    assert len(own_statuses(fake)) == 1 and target.state is TargetState.SENT
    assert len(fake.calls("/api/v1/statuses$", "POST")) == 1 and len(fake.uploads) == 1
