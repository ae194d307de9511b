"""Two workers started by mistake on the same database file: only the lease holder publishes, never twice."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

from core import audit
from core.db import open_db, write_transaction
from core.models import TargetState
from core.repo import leases as lease_repo
from core.repo import posts as posts_repo
from services.publishing.posts import LEASE, Publisher, TickReport
from tests.publishing.conftest import POLICY, T0
from tests.publishing.fakes import FakePlatform

T = TargetState


def test_interleaved_workers_on_two_connections_publish_each_post_once(db, db_path, clock, platform, make_post):
    ids = [make_post(f"Annonce {i} : travaux rue des Lilas.", at=T0 + timedelta(minutes=i)).id for i in range(6)]
    other = open_db(db_path)  # a second process, in effect: its own connection to the same file
    try:
        a = Publisher(db, {"fake": platform}, clock=clock, policy=POLICY, worker_id="a", rng=random.Random(1))
        b = Publisher(other, {"fake": platform}, clock=clock, policy=POLICY, worker_id="b", rng=random.Random(2))
        clock.now = T0
        leased = []
        for _ in range(30):
            leased.append((a.tick().leased, b.tick().leased))
            clock.advance(seconds=15)
        assert all(x and not y for x, y in leased)  # A keeps renewing; B never gets in
        # A dies; once its lease has expired, B takes over (and the audit says so)
        for _ in range(8):
            clock.advance(seconds=15)
            b.tick()
        assert lease_repo.holder(db, LEASE, now=clock()) == "b"
        taken = audit.select_events(db, events=("publisher-lease-taken",))
        assert [e["actor"] for e in taken] == ["system:worker", "system:worker"]
        assert '"previous":"a"' in taken[-1]["properties"]
    finally:
        other.close()
    assert sorted(p.text for p in platform.posts) == sorted(posts_repo.get_post(db, i).text for i in ids)
    assert all(posts_repo.get_post(db, i).targets[0].state is T.SENT for i in ids)


def test_a_worker_without_the_lease_cannot_claim(db, db_path, clock, platform, make_post):
    post = make_post()
    clock.now = T0
    a = Publisher(db, {"fake": platform}, clock=clock, policy=POLICY, worker_id="a")
    assert a.acquire_lease()
    other = open_db(db_path)
    try:
        with write_transaction(other):
            claimed = posts_repo.claim_target(other, post.targets[0].id, token="t", worker="b", now=clock(),
                                              sent_text=post.text, lease=LEASE, lease_until=clock() + POLICY.lease_ttl)
        assert claimed is False
    finally:
        other.close()
    assert posts_repo.get_post(db, post.id).targets[0].state is T.PENDING


def test_a_worker_that_lost_its_lease_stops_claiming(db, clock, platform, make_post):
    make_post()
    make_post("Deuxième annonce : marché de Noël.", at=T0 + timedelta(seconds=1))
    a = Publisher(db, {"fake": platform}, clock=clock, policy=POLICY, worker_id="a")
    clock.now = T0 - timedelta(minutes=10)
    assert a.acquire_lease()
    clock.now = T0 + POLICY.lease_ttl  # A stalled past its lease; B took over in the meantime
    with write_transaction(db):
        lease_repo.acquire(db, LEASE, "b", now=clock(), until=clock() + POLICY.lease_ttl)
    a._lease_lost = False  # noqa: SLF001 - A has not noticed yet: its claims must still be refused
    report = TickReport()
    a.process(posts_repo.due_targets(db, now=clock(), states=[T.PENDING])[0], report)
    assert report.published == 0 and platform.posts == []
    assert a._lease_lost  # noqa: SLF001


def test_two_threads_racing_on_the_same_file_never_duplicate(db, db_path, agents, clock, make_post):
    ids = [make_post(f"Annonce {i} : fermeture de la piscine.", at=T0 + timedelta(seconds=i)).id for i in range(20)]
    shared = FakePlatform(clock=lambda: T0 + timedelta(minutes=1))
    lock = threading.Lock()

    class Locked:
        info, name = shared.info, "fake"

        def publish(self, text, *, scheduled_at=None, media=()):
            with lock:
                return shared.publish(text, scheduled_at=scheduled_at, media=media)

        def find_published(self, text, since):
            with lock:
                return shared.find_published(text, since)

    def work(name: str) -> None:
        conn = open_db(db_path)
        try:
            pub = Publisher(conn, {"fake": Locked()}, clock=lambda: T0 + timedelta(minutes=1), policy=POLICY,
                            worker_id=name)
            for _ in range(5):
                pub.tick()
        finally:
            conn.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in ("t1", "t2")]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    texts = [p.text for p in shared.posts]
    assert len(texts) == len(set(texts)) == len(ids)
