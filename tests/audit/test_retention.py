"""Working data expires under the retention policy, except under a legal hold; every run and hold is audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import audit, repo
from core.config import Settings
from core.errors import PermissionDenied, ValidationError
from core.models import Status
from core.repo import Scores
from services.archive import retention
from tests.conftest import make_mention


@pytest.fixture
def old_and_new(db, agents, now):
    """Two authors' mentions from two years ago (expired) and one from last week, each scored, assigned, noted."""
    old_a = make_mention("Ancien message de Camille", author="camille", created_at=now - timedelta(days=730),
                         conversation_id="c-old")
    old_b = make_mention("Ancien message de Dominique", author="dominique", created_at=now - timedelta(days=700),
                         conversation_id="c-other")
    recent = make_mention("Message récent de Camille", author="camille", created_at=now - timedelta(days=7))
    mentions = [old_a, old_b, recent]
    repo.upsert_mentions(db, mentions, now=now, scores=[Scores(sentiment="negative", risk_score=0.7, priority=3.0)] * 3)
    for m in mentions:
        repo.set_assignee(db, m.uid, agents["julie"].id, now=now)
        repo.set_status(db, m.uid, Status.CLOSED, now=now)
        repo.add_note(db, m.uid, agents["julie"].id, f"Note sur {m.author.handle}", now=m.created_at)
    return old_a, old_b, recent


def _working(db, uid):
    item = repo.get_item(db, uid)
    return {"scored": item.sentiment is not None or item.priority != 0, "assigned": item.assigned_to is not None,
            "notes": len(repo.notes_for(db, uid)), "profile": item.mention.author.display_name != ""}


def test_purge_removes_expired_working_data_and_keeps_the_record(db, old_and_new, now):
    old_a, old_b, recent = old_and_new
    report = retention.purge(db, retention.RetentionPolicy(), now=now)
    assert report.counts["scores"] == report.counts["notes"] == 2 and report.run_id == 1
    for m in (old_a, old_b):
        assert _working(db, m.uid) == {"scored": False, "assigned": False, "notes": 0, "profile": False}
        item = repo.get_item(db, m.uid)
        assert item.mention.text == m.text and item.mention.author.handle == m.author.handle  # the record stays
    assert _working(db, recent.uid) == {"scored": True, "assigned": True, "notes": 1, "profile": True}
    (event,) = audit.select_events(db, events=("retention-purged",))
    assert '"notes":2' in event["properties"]
    assert retention.purge(db, retention.RetentionPolicy(), now=now).total == 0  # nothing left to purge


def test_dry_run_changes_nothing(db, old_and_new, now):
    report = retention.purge(db, retention.RetentionPolicy(), now=now, dry_run=True)
    assert report.counts["notes"] == 2 and report.run_id is None
    assert _working(db, old_and_new[0].uid)["notes"] == 1
    assert audit.count_events(db, events=("retention-purged",)) == 0


@pytest.mark.parametrize("scope", ["author", "conversation"])
def test_legal_hold_protects_until_lifted(db, old_and_new, agents, now, scope):
    old_a, old_b, _ = old_and_new
    hold = retention.hold_mention(db, old_a.uid, scope=scope, reason="Plainte 2026-118", actor=agents["marc"],
                                  now=now)
    report = retention.purge(db, retention.RetentionPolicy(), now=now)
    assert report.held["notes"] == 1 and report.counts["notes"] == 1
    assert _working(db, old_a.uid)["notes"] == 1 and _working(db, old_b.uid)["notes"] == 0
    retention.lift_hold(db, hold.id, reason="Affaire classée", actor=agents["marc"], now=now)
    retention.purge(db, retention.RetentionPolicy(), now=now)
    assert _working(db, old_a.uid)["notes"] == 0
    assert audit.event_names(db).count("legal-hold-set") == 1 and "legal-hold-lifted" in audit.event_names(db)


def test_hold_needs_a_reason_and_the_right_role(db, old_and_new, agents, now):
    with pytest.raises(ValidationError):
        retention.hold_mention(db, old_and_new[0].uid, scope="author", reason=" ", actor=agents["marc"], now=now)
    with pytest.raises(PermissionDenied):
        retention.hold_mention(db, old_and_new[0].uid, scope="author", reason="x", actor=agents["julie"], now=now)
    with pytest.raises(PermissionDenied):  # legal holds are legal staff's (issue #15 finding 8)
        retention.hold_mention(db, old_and_new[0].uid, scope="author", reason="x", actor=agents["sophie"], now=now)
    hold = retention.hold_mention(db, old_and_new[0].uid, scope="author", reason="x", actor=agents["marc"], now=now)
    retention.lift_hold(db, hold.id, reason="fin", actor=agents["marc"], now=now)
    with pytest.raises(ValidationError, match="already lifted"):
        retention.lift_hold(db, hold.id, reason="fin", actor=agents["marc"], now=now)


def test_policy_per_class_from_settings(tmp_path):
    settings = Settings.load(env={"PARVIS_RETENTION_MONTHS": "24", "PARVIS_RETENTION_NOTES_MONTHS": "6",
                                  "PARVIS_RETENTION_SCORES_MONTHS": "0"}, cwd=tmp_path)
    policy = retention.RetentionPolicy.from_settings(settings)
    assert policy.months == {"scores": 0, "assignments": 24, "notes": 6, "author_profiles": 24}
    cutoffs = policy.cutoffs(datetime(2026, 8, 31, tzinfo=UTC))
    assert "scores" not in cutoffs and cutoffs["notes"] == datetime(2026, 2, 28, tzinfo=UTC)
    assert retention.RetentionPolicy().months["notes"] == 13


def test_class_kept_forever_is_not_purged(db, old_and_new, now):
    policy = retention.RetentionPolicy(months={"scores": 0, "assignments": 13, "notes": 13, "author_profiles": 13})
    retention.purge(db, policy, now=now)
    assert _working(db, old_and_new[0].uid)["scored"] is True
