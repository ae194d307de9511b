"""Moderation acts through the outbox, property-based: hypothesis draws the act, what the platform does (succeeds,
refuses, rate-limits, fails before or after acting), whether and how it answers lookups, where the console
process dies, and whether the database is locked when the outcome is written; the worker then runs past the
deadline. Every act ends recorded as done (and it happened, once), failed (and it did not happen), or « à
vérifier »; its intent and audit event always exist; Parvis never repeats a person's act."""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core import audit, repo
from core.config import Settings
from core.db import open_db
from core.errors import ParvisError
from core.models import Role
from core.repo import outbox as acts_repo
from services.outbox.engine import UNRECORDED
from services.outbox.runner import Runner, kinds
from tests.conftest import NOW, make_mention
from tests.outbox.fakes import FakeModerationPlatform
from tests.outbox.test_crash_injection import BEFORE, EVENT, POLICY, _do, _in_effect
from tests.publishing.fakes import FakeClock, SimulatedCrash

INSULT = {"kind": "insult", "score": 0.9, "spans": [[0, 6]], "reason": "Propos injurieux"}
STEPS = ("ok", "ok", "perm", "rate", "ambig_before", "ambig_after")
POINTS = ("claim_txn", "claimed", "called", "record_txn", "recorded")


@settings(max_examples=int(os.environ.get("PARVIS_PUBLISH_EXAMPLES", "60")), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(action=st.sampled_from(["hide", "delete", "ban", "unban", "unhide"]), step=st.sampled_from(STEPS),
       lookups=st.lists(st.sampled_from(["ok", "ok", "fail"]), max_size=4), searchable=st.booleans(),
       crash=st.one_of(st.none(), st.sampled_from(POINTS)), locked=st.booleans())
def test_every_act_ends_done_once_failed_or_for_a_person(monkeypatch, action, step, lookups, searchable, crash,
                                                        locked):
    UNRECORDED.clear()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.db"
        db, other = open_db(path), open_db(path)
        try:
            julie = repo.create_agent(db, email="julie@valmont.fr", name="Julie Martin", initials="JM",
                                      role=Role.COMMUNITY_MANAGER, now=NOW)
            conf = Settings(data_dir=Path(tmp), db_path=path)
            lock = {"armed": False}

            def before_effect(_action: str) -> None:
                if lock["armed"]:
                    other.execute("BEGIN IMMEDIATE")

            platform = FakeModerationPlatform(can_look_up=searchable, before_effect=before_effect)
            monkeypatch.setattr("services.connections.assembly.connector_for", lambda _settings, _mention: platform)
            mention = make_mention("Crétin de maire", author="camille")
            repo.upsert_mentions(db, [mention], now=NOW - timedelta(minutes=30),
                                 scores=[repo.Scores(risk_score=0.9, risk_flags=(INSULT,), priority=80.0)])
            uid = mention.uid
            if action in BEFORE:
                _do(BEFORE[action], db, conf, uid, julie, NOW)
            platform.script, platform.lookups = [step], list(lookups)
            base_count = platform.count(action)
            db.execute("PRAGMA busy_timeout = 30")
            lock["armed"] = locked

            def hook(point: str) -> None:
                if point == crash:
                    raise SimulatedCrash(point)

            outcome = "raised"
            try:
                out = _do(action, db, conf, uid, julie, NOW, hook=hook)
                outcome = "reported sent" if out.recorded else "reported sent, being recorded"
            except SimulatedCrash:
                outcome = "console died"
                UNRECORDED.clear()  # its memory goes with it
            except ParvisError:
                pass
            finally:
                if other.conn.in_transaction:
                    other.execute("ROLLBACK")
                lock["armed"] = False
                db.execute("PRAGMA busy_timeout = 10000")
            event(outcome)

            clock = FakeClock(NOW)
            worker = Runner(db, kinds({}, lambda _d: None, lambda _m: platform), clock=clock, policy=POLICY,
                            worker_id="w")
            while clock() <= NOW + POLICY.retry_window + timedelta(minutes=2):
                clock.advance(seconds=45)
                worker.run_pass()

            acts = [a for a in acts_repo.acts_for(db, uid) if a.action == action]
            happened = platform.count(action) - base_count
            assert happened <= 1, "Parvis repeated a person's act"
            if not acts:  # refused before the intent (crash inside its transaction): nothing was sent
                assert happened == 0 and crash == "claim_txn"
                return
            [act] = acts
            event(f"act {act.state}")
            assert [e for e in audit.events_for(db, uid) if e["event"] == "moderation-act-sending"
                    and e["properties"]["act_id"] == act.id]
            done_events = [e for e in audit.events_for(db, uid) if e["event"] == EVENT[action]
                           and e["properties"]["act_id"] == act.id]
            if act.state == "done":
                assert happened == 1 and _in_effect(db, action, uid) and len(done_events) == 1
            elif act.state == "failed":
                assert happened == 0 and act.error and not done_events and not _in_effect(db, action, uid)
            else:
                assert act.state == "to_verify" and act.error and not done_events
                assert not _in_effect(db, action, uid)
            if outcome.startswith("reported sent"):
                assert happened == 1 and act.state == "done"
            assert audit.verify_chain(db).ok
        finally:
            if other.conn.in_transaction:
                other.execute("ROLLBACK")
            other.close()
            db.close()
            UNRECORDED.clear()


@pytest.fixture(autouse=True)
def _clean():
    UNRECORDED.clear()
    yield
    UNRECORDED.clear()
