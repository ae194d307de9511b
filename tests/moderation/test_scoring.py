"""Moderator scores, priority formula, re-prioritisation, crisis detection, legal grounds, agents' feedback."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import repo
from core.errors import ValidationError
from core.models import Status
from core.repo import moderation as moderation_repo
from moderation import legal
from moderation.crisis import counts_as_negative, detect_crisis
from moderation.priority import negativity, priority, reach, waiting_pressure
from moderation.scoring import Moderator
from tests.conftest import make_mention
from tests.french import raises_fr


@pytest.fixture(scope="module")
def moderator():
    return Moderator.from_settings(backend="offline", response_target_h=4.0, protected_names="Claire Dupont")


def test_scores_align_with_mentions_and_carry_flags(moderator, now):
    mentions = [make_mention("Merci pour le nouveau parc, bravo !"),
                make_mention("Claire Dupont je vais te crever"),
                make_mention("appelez-moi au 06 12 34 56 78")]
    scores = moderator.score(mentions, now)
    assert len(scores) == 3
    assert scores[0].sentiment == "positive" and scores[0].risk_flags == ()
    kinds = {f["kind"] for f in scores[1].risk_flags}
    assert {"threat", "harassment"} <= kinds
    flag = scores[1].risk_flags[0]
    assert set(flag) == {"kind", "score", "spans", "reason"}
    assert scores[2].risk_flags[0]["kind"] == "personal_data"
    assert scores[1].priority > scores[2].priority > scores[0].priority
    assert all(s.model_version.startswith("offline-sentiment-") for s in scores)
    assert moderator.score([], now) == []


def test_threat_outranks_a_benign_message_waiting_twice_the_target(moderator, now):
    old = make_mention("Bonjour, quand passe la collecte ?", created_at=now - timedelta(hours=8), followers=10**6)
    threat = make_mention("je vais te crever", created_at=now)
    benign, risky = moderator.score([old, threat], now)
    assert risky.priority > benign.priority


def test_priority_terms():
    t0 = make_mention().created_at
    assert waiting_pressure(t0, t0, 4) == 0
    assert waiting_pressure(t0, t0 + timedelta(hours=4), 4) == 0.5
    assert waiting_pressure(t0, t0 + timedelta(hours=20), 4) == 1.0
    assert reach(None) == 0 and reach(999_999) == pytest.approx(1.0, abs=1e-3)
    assert negativity("negative", 0.8) == 0.8 and negativity("positive", 0.8) == pytest.approx(0.1)
    low = priority(risk=0, p_negative=0, created_at=t0, now=t0, followers=0)
    high = priority(risk=1, p_negative=1, created_at=t0, now=t0 + timedelta(hours=9), followers=10**7)
    assert low == 0 and high == 100


def test_reprioritize_raises_waiting_open_items_and_store_them(db, now, moderator):
    mention = make_mention("Bonjour, une question sur la cantine", created_at=now - timedelta(minutes=1))
    repo.upsert_mentions(db, [mention], now=now, scores=moderator.score([mention], now))
    item = repo.get_item(db, mention.uid)
    later = now + timedelta(hours=6)
    changes = moderator.reprioritize([item], later)
    assert changes and changes[0][0] == mention.uid and changes[0][1] > item.priority
    assert moderation_repo.update_priorities(db, changes) == 1
    assert repo.get_item(db, mention.uid).priority == changes[0][1]
    repo.set_status(db, mention.uid, Status.CLOSED, now=later)
    assert moderator.reprioritize([repo.get_item(db, mention.uid)], later + timedelta(hours=6)) == []


def test_crisis_when_last_hour_exceeds_the_usual_rate(now):
    usual = [now - timedelta(hours=2 + 7 * i) for i in range(24)]  # about one every 7 hours for a week
    calm = detect_crisis(usual + [now - timedelta(minutes=10)], now)
    assert not calm.active
    burst = detect_crisis(usual + [now - timedelta(minutes=m) for m in range(0, 60, 6)], now, multiple=3)
    assert burst.active and burst.last_hour == 10
    assert "dernière heure" in burst.message_fr()
    assert not detect_crisis([now - timedelta(minutes=m) for m in range(3)], now).active  # below min_count
    assert counts_as_negative("negative", 0) and counts_as_negative("positive", 0.6)
    assert not counts_as_negative("neutral", 0.1)


def test_negative_or_risky_times_feed_the_detector(db, now, moderator):
    mentions = [make_mention("C'est une honte, scandaleux, nul !", created_at=now - timedelta(minutes=5)),
                make_mention("Merci beaucoup !", created_at=now - timedelta(minutes=5))]
    repo.upsert_mentions(db, mentions, now=now, scores=moderator.score(mentions, now))
    times = moderation_repo.negative_or_risky_times(db, now - timedelta(days=8))
    assert times == [mentions[0].created_at]


def test_sentiment_feedback_is_stored_and_kept_for_training(db, now, agents, moderator):
    mention = make_mention("Bof, le marché de Noël")
    repo.upsert_mentions(db, [mention], now=now, scores=moderator.score([mention], now))
    before = repo.get_item(db, mention.uid).sentiment
    previous = moderation_repo.record_sentiment_feedback(db, mention.uid, "negative", agent_id=agents["julie"].id,
                                                         now=now)
    assert previous == before
    moderation_repo.record_sentiment_feedback(db, mention.uid, "neutral", agent_id=agents["julie"].id, now=now)
    feedback = moderation_repo.sentiment_feedback(db)
    assert [(f.text, f.label) for f in feedback] == [("Bof, le marché de Noël", "neutral")]
    assert repo.get_item(db, mention.uid).sentiment == "neutral"
    with pytest.raises(ValidationError):
        moderation_repo.record_sentiment_feedback(db, mention.uid, "joyeux", agent_id=None, now=now)


def test_legal_grounds():
    assert {g.code.value for g in legal.GROUNDS} == {"insult_defamation", "discrimination", "threat",
                                                     "personal_data", "spam"}
    assert "1881" in legal.ground("insult_defamation").basis_fr
    with raises_fr(ValidationError, "désaccord"):
        legal.ground("disagrees_with_the_city")
    flags = ({"kind": "personal_data", "score": 0.8}, {"kind": "threat", "score": 0.95})
    assert [g.code for g in legal.suggested_grounds(flags)] == [legal.Ground.THREAT, legal.Ground.PERSONAL_DATA]
    assert legal.needs_director_confirmation("hide", author_is_elected=True)
    assert not legal.needs_director_confirmation("reply", author_is_elected=True)
    assert "L.2121-27-1" in legal.OPPOSITION_WARNING_FR
