"""SIGTERM (what systemd sends to stop a unit) stops Parvis cleanly, tested on real processes.

- `python -m console worker` stopped in the middle of a send finishes it (the platform's answer is recorded,
  nothing is left claimed), gives the outbox lease back and exits 0.
- `python -m console up` (console + worker child) stops both; the lease is free, exit code 0.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug import Request, Response

from core import repo
from core.clock import utcnow
from core.db import open_db, write_transaction
from core.models import Platform, Role, TargetState
from core.repo import leases as lease_repo
from core.repo import posts as posts_repo
from services.editorial import calendar, post_review
from services.outbox.protocol import LEASE
from tests.e2e.server import free_port
from tests.fakes.base import serve
from tests.fakes.mastodon_api import FakeMastodonApi
from tests.operations.test_server import children, get, wait_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


class SlowMastodon(FakeMastodonApi):
    """A Mastodon instance that takes ``delay`` seconds to answer a new status; ``posting`` is set meanwhile."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.posting = threading.Event()

    def handle(self, request: Request) -> Response:
        if request.method == "POST" and request.path == "/api/v1/statuses":
            self.posting.set()
            time.sleep(self.delay)
        return super().handle(request)


def _nothing_held(db_path: Path) -> dict[str, int | str | None]:
    db = open_db(db_path, migrate=False)
    try:
        return {
            "lease": lease_repo.holder(db, LEASE, now=utcnow()),
            "posts publishing": db.execute("SELECT count(*) FROM post_targets WHERE state = 'publishing'")
            .fetchone()[0],
            "replies publishing": db.execute("SELECT count(*) FROM drafts WHERE state = 'publishing'").fetchone()[0],
            "acts sending": db.execute("SELECT count(*) FROM moderation_acts WHERE state = 'sending'").fetchone()[0],
        }
    finally:
        db.close()


NOTHING_HELD = {"lease": None, "posts publishing": 0, "replies publishing": 0, "acts sending": 0}


def test_sigterm_during_a_send_lets_the_worker_finish_it_and_release_the_lease(tmp_path, agents_factory):
    data = tmp_path / "data"
    db_path = data / "parvis.db"
    db, julie, sophie = agents_factory(db_path)
    now = utcnow()
    post = calendar.create_post(db, julie, text="Fermeture de la piscine lundi pour vidange.", accounts=["mastodon"],
                                at=now + timedelta(seconds=2), now=now, platforms={"mastodon": Platform.MASTODON})
    post_review.submit_post(db, julie, post.id, now=now)
    post_review.approve_post(db, sophie, post.id, now=utcnow())
    db.close()
    fake = SlowMastodon(delay=3.0)
    log = tmp_path / "worker.log"
    with serve(fake) as (_, base_url), log.open("w") as out:
        env = {**os.environ, "PARVIS_DATA_DIR": str(data), "PARVIS_DB": str(db_path), "PARVIS_DEMO": "0",
               "PARVIS_MASTODON_BASE_URL": base_url, "PARVIS_MASTODON_ACCESS_TOKEN": fake.token,
               "PARVIS_BACKUP_INTERVAL_H": "0", "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen([sys.executable, "-m", "console", "worker"], cwd=tmp_path, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
        try:
            assert fake.posting.wait(60), log.read_text()
            proc.send_signal(signal.SIGTERM)  # while the platform is still answering
            code = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert code == 0, log.read_text()
    assert "stopping after the current job" in log.read_text()
    assert len(fake.posted) == 1  # sent once...
    db = open_db(db_path, migrate=False)
    (target,) = posts_repo.get_post(db, post.id).targets
    db.close()
    assert target.state is TargetState.SENT and target.platform_id  # ...and recorded before exiting
    assert _nothing_held(db_path) == NOTHING_HELD


def test_sigterm_stops_up_its_worker_and_frees_the_lease(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    db_path = data / "parvis.db"
    open_db(db_path).close()
    port = free_port()
    log = tmp_path / "up.log"
    env = {**os.environ, "PARVIS_DATA_DIR": str(data), "PARVIS_DB": str(db_path), "PARVIS_BACKUP_INTERVAL_H": "0",
           "PYTHONPATH": str(ROOT)}
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "console", "up", "--port", str(port)], cwd=tmp_path, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: get(f"http://127.0.0.1:{port}/readyz")[0] == 200, 90, "ready", proc, log)
        (worker,) = children(proc.pid)
        db = open_db(db_path, migrate=False)
        wait_for(lambda: lease_repo.holder(db, LEASE, now=utcnow()), 30, "the worker's lease", proc, log)
        db.close()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=45)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 0, log.read_text()
    assert not Path(f"/proc/{worker}").exists() or "zombie" in Path(f"/proc/{worker}/status").read_text().lower()
    assert "worker stopped" in log.read_text()
    assert _nothing_held(db_path) == NOTHING_HELD


@pytest.fixture
def agents_factory(now):
    """A database at a path with a community manager and a director (for a post that needs approval)."""

    def make(db_path: Path):  # type: ignore[no-untyped-def]
        db_path.parent.mkdir(parents=True, exist_ok=True)
        db = open_db(db_path)
        with write_transaction(db):
            julie = repo.create_agent(db, email="julie@valmont.fr", name="Julie Martin", initials="JM",
                                      role=Role.COMMUNITY_MANAGER, now=now)
            sophie = repo.create_agent(db, email="sophie@valmont.fr", name="Sophie Laurent", initials="SL",
                                       role=Role.DIRECTOR, now=now)
        return db, julie, sophie

    return make
