"""Mastodon streaming: SSE parsing, the supervised stream thread against a fake streaming server (real format,
heartbeats, a drop and a reconnect), the fall-back to polling, one item when a mention comes both ways."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from connectors.mastodon.connector import MastodonConnector
from connectors.mastodon.stream import StreamEvent, parse_sse
from console import worker
from core.config import Settings
from core.repo import realtime as rt
from services.connections import streaming
from services.connections.ingest import sync_connector
from tests.fakes import FakeMastodonApi
from tests.fakes.mastodon_stream import FakeMastodonStream, notification_for


def test_parse_sse_reads_events_data_and_heartbeats():
    lines = [":)", "event: notification", 'data: {"id": "1",', 'data: "type": "mention"}', "", ":thump",
             "event: delete", "data: 109", "", "data: not json", ""]
    assert list(parse_sse(lines)) == [
        StreamEvent("heartbeat"), StreamEvent("notification", {"id": "1", "type": "mention"}),
        StreamEvent("heartbeat"), StreamEvent("delete", 109), StreamEvent("message", "not json")]


def test_backoff_doubles_up_to_its_cap_with_jitter():
    waits = [streaming.backoff_s(n, start=1, cap=30, rand=lambda: 0.5) for n in range(1, 8)]
    assert waits == [1, 2, 4, 8, 16, 30, 30]
    assert 0.8 <= streaming.backoff_s(1, rand=lambda: 0.0) <= streaming.backoff_s(1, rand=lambda: 1.0) <= 1.2 + 1e-9


@pytest.fixture
def api(httpserver) -> FakeMastodonApi:
    fake = FakeMastodonApi()
    fake.base_url = fake.install(httpserver)  # type: ignore[attr-defined]
    return fake


@pytest.fixture
def live():
    server = FakeMastodonStream(heartbeat_s=0.2)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def connector(api, live) -> MastodonConnector:
    return MastodonConnector(base_url=api.base_url, access_token=api.token, streaming_url=live.base_url, backoff=0)


def _uids(db) -> list[str]:
    return [r[0] for r in db.execute("SELECT uid FROM mentions ORDER BY uid")]


def _until(check, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.02)
    return False


def test_stream_stores_mentions_survives_a_drop_and_reconnects(db_path, db, api, live, connector):
    sup = streaming.StreamSupervisor(db_path, connector, poll_every_s=60, stream_poll_s=300, backoff_start_s=0.05)
    try:
        assert sup.ensure_running() and not sup.ensure_running()
        assert live.wait_connected(1) and _until(lambda: sup.connected)
        first = api.mention("le feu rouge de l'avenue Jean Jaurès est en panne")
        api.favourite(first["id"])
        live.push(notification_for(api, first))
        live.push(next(n for n in api.notifications.values() if n["type"] == "favourite"))
        assert _until(lambda: _uids(db) == [f"mastodon:{first['id']}"])
        time.sleep(0.5)  # a few heartbeats: still connected, nothing else stored
        assert sup.connected and _uids(db) == [f"mastodon:{first['id']}"]

        assert live.drop() == 1  # the streaming server restarts
        assert live.wait_connected(2) and _until(lambda: sup.connected and sup.connects == 2)
        second = api.mention("merci pour la réparation")
        live.push(notification_for(api, second))
        assert _until(lambda: len(_uids(db)) == 2)
        (state,) = rt.channel_states(db)
        assert state.name == "stream:mastodon" and state.state == "connected" and state.events >= 3
        sync_connector(db, connector)  # the poller reads the same two mentions: still two items
        assert _uids(db) == sorted([f"mastodon:{first['id']}", f"mastodon:{second['id']}"])
    finally:
        sup.stop()
    assert not sup._thread.is_alive() and rt.channel_states(db)[0].state == "stopped"


def test_while_the_stream_is_down_polling_runs_at_its_interval(db_path, db, api, live, connector):
    live.refuse = 3
    sup = streaming.StreamSupervisor(db_path, connector, poll_every_s=0.5, stream_poll_s=300, backoff_start_s=0.3)
    try:
        sup.ensure_running()
        assert _until(lambda: sup.status.state == "reconnecting")
        assert "503" in sup.status.error and rt.channel_states(db)[0].state == "reconnecting"
        assert sup.poll_due()  # down: the connector's sync runs at its interval
        time.sleep(0.5)
        assert sup.poll_due()
        assert live.wait_connected(1, timeout=15) and _until(lambda: sup.connected)
        time.sleep(0.5)
        assert not sup.poll_due()  # up: polling waits for stream_poll_s
    finally:
        sup.stop()


def test_a_refused_token_is_reported(db_path, db, api, live):
    bad = MastodonConnector(base_url=api.base_url, access_token="wrong", streaming_url=live.base_url, backoff=0)
    sup = streaming.StreamSupervisor(db_path, bad, poll_every_s=60, stream_poll_s=300)
    try:
        sup.ensure_running()
        assert _until(lambda: sup.status.state == "reconnecting")
        assert sup.status.error.startswith("auth_failed")
    finally:
        sup.stop()


def test_the_worker_lists_a_stream_job_per_mastodon_connector(db_path, connector):
    settings = Settings(data_dir=db_path.parent, db_path=db_path, values={})
    listed = worker.jobs(settings, [connector])
    names = [j.name for j in listed]
    assert "stream:mastodon" in names and "sync:mastodon" in names
    off = Settings(data_dir=db_path.parent, db_path=db_path, values={"PARVIS_MASTODON_STREAMING": "false"})
    assert "stream:mastodon" not in [j.name for j in worker.jobs(off, [connector])]
    for job in listed:
        if job.close:
            job.close()


def test_the_worker_loop_holds_the_stream(db_path, db, api, live, connector):
    import threading

    settings = Settings(data_dir=db_path.parent, db_path=db_path,
                        values={"PARVIS_SYNC_INTERVAL_S": "3600", "PARVIS_MASTODON_STREAM_POLL_S": "3600"})
    stop = threading.Event()
    loop = threading.Thread(target=worker.run, args=(settings, [connector]), kwargs={"stop": stop}, daemon=True)
    loop.start()
    try:
        assert live.wait_connected(1, timeout=15)
        status = api.mention("inondation rue basse", created_at=datetime.now(UTC))
        live.push(notification_for(api, status))
        assert _until(lambda: f"mastodon:{status['id']}" in _uids(db))
    finally:
        stop.set()
        loop.join(15)
    assert not loop.is_alive() and _until(lambda: live.open_connections == 0, timeout=5)  # the stream was closed
