"""The numbers of /metrics, from a database with known content."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from core import repo
from core.config import Settings
from core.db import write_transaction
from core.models import DraftState, Platform, Status, TargetState
from core.repo import posts as posts_repo
from services.operations import backups, metrics
from tests.conftest import make_mention


def _settings(db_path, **values) -> Settings:
    return Settings(data_dir=db_path.parent, db_path=db_path, values={"PARVIS_DEMO": "1", **values})


def _post(db, agents, now, *, scheduled_at, state=TargetState.PENDING, not_before=None, published_at=None):
    post_id = posts_repo.insert_post(db, author_id=agents["julie"].id, text="Annonce", scheduled_at=scheduled_at,
                                     state=DraftState.SCHEDULED, content_hash="h", targets=[("demo", Platform.DEMO)],
                                     now=now - timedelta(days=1))
    target = posts_repo.get_post(db, post_id).targets[0]
    posts_repo.update_target(db, target.id, now=now - timedelta(minutes=30), state=state, due_at=scheduled_at,
                             not_before=not_before or scheduled_at, published_at=published_at)


def _reply(db, agents, uid, now, *, state, scheduled_at=None, sent_at=None):
    draft = repo.create_draft(db, mention_uid=uid, author_id=agents["julie"].id, body="Merci", signed_text="Merci",
                              platform=Platform.X, state=state, now=now - timedelta(hours=2))
    repo.save_draft(db, dataclasses.replace(draft, scheduled_at=scheduled_at, sent_at=sent_at,
                                            updated_at=now - timedelta(hours=2)))


def test_collect_counts_bands_queues_lateness_and_connectors(db, db_path, agents, now):
    mentions = [make_mention(f"m{i}", pid=f"p{i}") for i in range(5)]
    with write_transaction(db):
        repo.upsert_mentions(db, mentions, now=now, scores=[repo.Scores(priority=p) for p in (90, 60, 30, 5, 80)])
        repo.set_status(db, mentions[4].uid, Status.CLOSED, now=now)
        # posts: one due 10 min ago still pending, one in the future, one sent 40 s late, one to verify
        _post(db, agents, now, scheduled_at=now - timedelta(minutes=10))
        _post(db, agents, now, scheduled_at=now + timedelta(days=2))
        _post(db, agents, now, scheduled_at=now - timedelta(minutes=20), state=TargetState.SENT,
              published_at=now - timedelta(minutes=20) + timedelta(seconds=40))
        _post(db, agents, now, scheduled_at=now - timedelta(hours=3), state=TargetState.TO_VERIFY)
        # replies: one scheduled 5 min ago, one sent 12 s late, one failed
        _reply(db, agents, mentions[0].uid, now, state=DraftState.SCHEDULED, scheduled_at=now - timedelta(minutes=5))
        _reply(db, agents, mentions[1].uid, now, state=DraftState.SENT, scheduled_at=now - timedelta(minutes=3),
               sent_at=now - timedelta(minutes=3) + timedelta(seconds=12))
        _reply(db, agents, mentions[2].uid, now, state=DraftState.FAILED)
        repo.save_connector_state(db, "demo", platform="demo", status="ok", now=now - timedelta(seconds=42),
                                  fetched=7)
        repo.save_connector_state(db, "x", platform="x", status="reconnect_needed", now=now - timedelta(minutes=5),
                                  last_error="auth_failed: token revoked")
        repo.beat(db, "worker", pid=1, started_at=now, now=now - timedelta(seconds=4))
    backups.take_backup(db_path, db_path.parent / "backups", now=now - timedelta(hours=1))

    snap = metrics.collect(db, _settings(db_path), now=now)

    assert snap.open_by_band == {"urgent": 1, "high": 1, "medium": 1, "low": 1}
    queues = {(q.kind, q.state): (q.size, round(q.oldest_age_s)) for q in snap.queues}
    assert queues[("post", "pending")] == (2, 600)  # the future one counts, the due one sets the age
    assert queues[("post", "to_verify")] == (1, 1800)
    assert queues[("reply", "scheduled")] == (1, 300)
    assert queues[("reply", "failed")] == (1, 7200)
    assert ("post", "sent") not in queues and ("reply", "sent") not in queues
    assert round(snap.lateness_s["post"]) == 40 and round(snap.lateness_s["reply"]) == 12
    connectors = {c.name: c for c in snap.connectors}
    assert connectors["demo"].ingested_total == 7 and round(connectors["demo"].last_sync_age_s) == 42
    assert connectors["demo"].error_code is None
    assert connectors["x"].status == "reconnect_needed" and connectors["x"].error_code == "auth_failed"
    assert round(snap.worker_beat_age_s) == 4
    assert round(snap.backup_age_s) == 3600
    assert snap.mentions_per_platform == {"x": 5}
    assert snap.audit_head_id >= 0 and snap.database_bytes > 0


def test_an_empty_database_has_no_nan(db, db_path, now):
    from console.web.metrics import render

    snap = metrics.collect(db, _settings(db_path, PARVIS_DEMO="0"), now=now)
    assert snap.worker_beat_age_s is None and snap.backup_age_s is None and snap.queues == []
    text = render(snap, process=False).decode()
    assert "parvis_worker_heartbeat_age_seconds +Inf" in text
    assert "parvis_backup_age_seconds +Inf" in text
    assert "NaN" not in text
    assert 'parvis_open_items{band="urgent"} 0.0' in text


def test_moderation_acts_in_flight_are_an_outbox_queue(db, db_path, agents, now):
    from console.web.metrics import render
    from core.repo import outbox as acts_repo

    with write_transaction(db):
        repo.upsert_mentions(db, [make_mention(f"m{i}", pid=f"m{i}") for i in range(5)], now=now)
        for i, (state, claimed) in enumerate([("sending", 120), ("sending", 30), ("to_verify", 900), ("done", 5000),
                                              ("failed", 6000)]):
            act = acts_repo.insert_act(db, action="hide", mention_uid=f"x:m{i}", platform="x",
                                       author_platform_id=f"u{i}", author_handle=f"h{i}", ground=None, note="",
                                       confirmed_by="", request_id=None, connector="x", agent_id=agents["julie"].id,
                                       token=f"t{i}", claimed_by="w", now=now - timedelta(seconds=claimed))
            if state != "sending":
                acts_repo.update_act(db, act, now=now - timedelta(seconds=claimed), state=state)
    snap = metrics.collect(db, _settings(db_path), now=now)
    queues = {(q.kind, q.state): (q.size, round(q.oldest_age_s)) for q in snap.queues if q.kind == "moderation"}
    assert queues == {("moderation", "sending"): (2, 120), ("moderation", "to_verify"): (1, 900)}
    text = render(snap, process=False).decode()
    assert 'parvis_outbox_queue_size{kind="moderation",state="sending"} 2.0' in text
    assert 'parvis_outbox_oldest_age_seconds{kind="moderation",state="to_verify"} 900.0' in text
