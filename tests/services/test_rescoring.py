"""The worker's second pass: the rich tier re-scores fast-scored mentions (services/inbox/rescoring.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from console.jobs import rescoring as rescore_job
from core import repo
from core.config import Settings
from core.db import open_db
from core.repo import Scores
from moderation.rich import is_rich_version
from services.connections import assembly
from services.inbox import rescoring
from services.inbox import triage as inbox
from services.moderation import actions as moderation_actions
from tests.conftest import make_mention

FAST = Scores(sentiment="neutral", sentiment_confidence=0.5, risk_score=0.0, priority=1.0,
              model_version="offline-sentiment-2+test")


class FakeRich:
    """Stands for the rich moderator: a fixed negative score with a risk flag and its reason."""

    model_version = "rich-1+test"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def score(self, mentions, now):
        self.calls.append([m.text for m in mentions])
        flag = {"kind": "toxicity", "score": 0.9, "spans": [[0, 4]], "reason": "insulte"}
        return [Scores(sentiment="negative", sentiment_confidence=0.9, risk_score=0.9, risk_flags=(flag,),
                       priority=5.0, model_version=self.model_version) for _ in mentions]


def _store(db, now, texts):
    mentions = [make_mention(t, created_at=now - timedelta(minutes=i)) for i, t in enumerate(texts)]
    repo.upsert_mentions(db, mentions, now=now, scores=[FAST] * len(mentions))
    return mentions


def test_rescore_stores_the_rich_score_newest_first_in_batches(db, now):
    mentions = _store(db, now, [f"message {i}" for i in range(5)])
    fake = FakeRich()
    result = rescoring.rescore(db, fake, now=now, batch=2)
    assert result == rescoring.RescoreResult(scored=5, stored=5, waiting=0)
    assert fake.calls == [["message 0", "message 1"], ["message 2", "message 3"], ["message 4"]]
    item = repo.get_item(db, mentions[0].uid)
    assert (item.sentiment, item.risk_score, item.model_version) == ("negative", 0.9, "rich-1+test")
    assert item.risk_flags[0]["reason"] == "insulte" and is_rich_version(item.model_version)
    assert rescoring.rescore(db, fake, now=now).scored == 0  # nothing left: the queue is empty


def test_rescore_keeps_an_agents_correction_and_it_stays_for_training(db, agents, now):
    (m,) = _store(db, now, ["Merci pour la fête"])
    moderation_actions.correct_sentiment(db, m.uid, "positive", actor=agents["julie"], now=now)
    assert rescoring.rescore(db, FakeRich(), now=now).scored == 0  # a corrected mention leaves the queue
    item = repo.get_item(db, m.uid)
    assert item.sentiment == "positive" and not is_rich_version(item.model_version)
    from core.repo import moderation as moderation_repo

    assert [f.label for f in moderation_repo.sentiment_feedback(db)] == ["positive"]


def test_a_text_edited_meanwhile_keeps_its_new_score_and_is_taken_again(db, now):
    (m,) = _store(db, now, ["Trottoir cassé"])
    item = repo.mentions_to_rescore(db, since=now - timedelta(days=1), limit=1)[0]
    edited = make_mention("Trottoir cassé rue Haute", pid=m.platform_id, created_at=m.created_at)
    repo.upsert_mentions(db, [edited], now=now + timedelta(minutes=1), scores=[FAST])
    assert not repo.store_rescored(db, m.uid, FakeRich().score([item.mention], now)[0], text=item.mention.text)
    assert [it.mention.text for it in repo.mentions_to_rescore(db, since=now - timedelta(days=1))] == [
        "Trottoir cassé rue Haute"]


def test_only_recent_mentions_are_rescored(db, now):
    old = make_mention("Vieux message", created_at=now - rescoring.WINDOW - timedelta(hours=1))
    repo.upsert_mentions(db, [old], now=now, scores=[FAST])
    assert rescoring.rescore(db, FakeRich(), now=now).scored == 0 and not rescoring.waiting(db, now=now)


def test_the_inbox_shows_the_better_score_when_it_arrives(db, agents, now):
    (m,) = _store(db, now, ["Vous êtes des incapables"])
    before = inbox.detail(db, m.uid, viewer=agents["julie"], now=now).item
    assert before.sentiment == "neutral" and not is_rich_version(before.model_version)
    rescoring.rescore(db, FakeRich(), now=now)
    after = inbox.detail(db, m.uid, viewer=agents["julie"], now=now).item
    assert after.sentiment == "negative" and after.model_version == "rich-1+test" and after.risk_flags


@pytest.fixture
def settings(db_path):
    db_path.parent.mkdir(parents=True, exist_ok=True)
    open_db(db_path).close()
    return Settings(data_dir=db_path.parent, db_path=db_path, values={"PARVIS_DEMO": "0", "PARVIS_RESCORE_BATCH": "2"})


def test_the_worker_job_rescores_and_loads_the_tier_only_when_a_mention_waits(settings, now, monkeypatch):
    built: list[FakeRich] = []

    def fake_moderator(s):
        built.append(FakeRich())
        return built[-1]

    monkeypatch.setattr(assembly, "rich_moderator", fake_moderator)
    assert rescore_job.rescore_once(settings, clock=lambda: now) is None and not built  # empty: nothing loaded
    db = open_db(settings.db_path)
    try:
        _store(db, now, ["un", "deux", "trois"])
    finally:
        db.close()
    result = rescore_job.rescore_once(settings, clock=lambda: now)
    assert result is not None and (result.scored, result.waiting) == (3, 0) and len(built) == 1
    assert [len(c) for c in built[0].calls] == [2, 1]


def test_the_job_does_nothing_when_switched_off_or_the_tier_is_missing(settings, db_path, now, monkeypatch):
    db = open_db(settings.db_path)
    try:
        _store(db, now, ["un"])
    finally:
        db.close()
    monkeypatch.setattr(assembly, "rich_moderator", lambda s: None)
    assert rescore_job.rescore_once(settings, clock=lambda: now) is None
    off = Settings(data_dir=db_path.parent, db_path=db_path, values={"PARVIS_DEMO": "0", "PARVIS_RESCORE_BATCH": "0"})
    monkeypatch.setattr(assembly, "rich_moderator", lambda s: FakeRich())
    assert rescore_job.rescore_once(off, clock=lambda: now) is None


def test_only_the_fast_tiers_scores_are_upgraded_an_administrators_transformer_is_kept(db, now):
    """With PARVIS_SENTIMENT_BACKEND=transformers the model the town hall chose keeps its scores."""
    chosen = Scores(sentiment="positive", sentiment_confidence=0.8, risk_score=0.0, priority=1.0,
                    model_version="transformers:cardiffnlp/twitter-xlm-roberta-base-sentiment")
    kept = make_mention("Merci pour le nouveau parc", created_at=now - timedelta(minutes=1))
    unscored = make_mention("Le marché est-il maintenu ?", created_at=now - timedelta(minutes=2))
    repo.upsert_mentions(db, [kept], now=now, scores=[chosen])
    repo.upsert_mentions(db, [unscored], now=now)
    fast = _store(db, now, ["Trottoir cassé"])
    fake = FakeRich()
    assert rescoring.rescore(db, fake, now=now).scored == 2
    assert sorted(fake.calls[0]) == sorted(["Trottoir cassé", "Le marché est-il maintenu ?"])
    item = repo.get_item(db, kept.uid)
    assert (item.sentiment, item.model_version) == ("positive", chosen.model_version)
    assert is_rich_version(repo.get_item(db, fast[0].uid).model_version)


def _store_at(settings, now, texts):
    """``_store`` in the database of ``settings`` (what the worker's job opens)."""
    db = open_db(settings.db_path)
    try:
        _store(db, now, texts)
    finally:
        db.close()


def test_rescore_stops_between_batches_when_asked(db, now):
    _store(db, now, [f"message {i}" for i in range(5)])
    fake = FakeRich()
    result = rescoring.rescore(db, fake, now=now, batch=2, should_stop=lambda: bool(fake.calls))
    assert fake.calls == [["message 0", "message 1"]]  # the batch in progress ends, no other starts
    assert result == rescoring.RescoreResult(scored=2, stored=2, waiting=3)


def test_the_worker_job_stops_promptly_before_and_after_loading_the_tier(settings, now, monkeypatch):
    """SIGTERM while the worker re-scores (decision 0280): the job ends without loading encoders once the
    worker's stop is set, and a stop that came while they loaded ends it before its first batch."""
    import threading

    _store_at(settings, now, ["un", "deux", "trois"])
    stop = threading.Event()
    built: list[FakeRich] = []

    def loading(s):  # the stop comes while the tier loads
        built.append(FakeRich())
        stop.set()
        return built[-1]

    monkeypatch.setattr(assembly, "rich_moderator", loading)
    assert rescore_job.rescore_once(settings, clock=lambda: now, stop=stop) is None
    assert len(built) == 1 and built[0].calls == []  # loaded, nothing scored
    rescore_job.rescore_job(settings, clock=lambda: now, stop=stop)()  # stop already set: nothing loads
    assert len(built) == 1


def test_the_worker_hands_its_stop_to_the_rescoring_job(settings, now, monkeypatch):
    import threading

    from console import worker

    _store_at(settings, now, ["un"])
    built: list[FakeRich] = []
    monkeypatch.setattr(assembly, "rich_moderator", lambda s: built.append(FakeRich()) or built[-1])
    stop = threading.Event()
    stop.set()
    (job,) = [j for j in worker.jobs(settings, [], clock=lambda: now, stop=stop) if j.name == rescore_job.JOB_NAME]
    job.run()
    assert built == []
    (job,) = [j for j in worker.jobs(settings, [], clock=lambda: now) if j.name == rescore_job.JOB_NAME]
    monkeypatch.setattr(rescore_job, "embed_once", lambda *a, **k: None)  # the vectors' pass is not this test's
    job.run()
    assert len(built) == 1 and built[0].calls == [["un"]]


def test_a_stop_does_not_wait_for_the_encoders_to_load(settings, now, monkeypatch):
    import threading
    import time

    _store_at(settings, now, ["un"])
    stop, loaded = threading.Event(), threading.Event()
    built: list[FakeRich] = []

    def slow_load(s):  # SIGTERM comes while the encoders load (tens of seconds on a busy machine)
        stop.set()
        loaded.wait(30)
        built.append(FakeRich())
        return built[-1]

    monkeypatch.setattr(assembly, "rich_moderator", slow_load)
    started = time.monotonic()
    assert rescore_job.rescore_once(settings, clock=lambda: now, stop=stop) is None
    assert time.monotonic() - started < 10 and rescore_job.pass_in_progress()  # not waited for
    loaded.set()
    deadline = time.monotonic() + 10
    while rescore_job.pass_in_progress() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not rescore_job.pass_in_progress() and built[0].calls == []  # loaded, then saw the stop: no batch


def test_a_worker_run_once_rescores_to_the_end(settings, now, monkeypatch):
    """``worker --once`` sets the stop before the run: it means one round, and re-scoring is part of it."""
    import threading

    from console import worker

    _store_at(settings, now, ["un"])
    built: list[FakeRich] = []
    monkeypatch.setattr(assembly, "rich_moderator", lambda s: built.append(FakeRich()) or built[-1])
    monkeypatch.setattr(rescore_job, "embed_once", lambda *a, **k: None)
    once = threading.Event()
    once.set()
    worker.run(settings, [], stop=once, clock=lambda: now)
    assert len(built) == 1 and built[0].calls == [["un"]]
