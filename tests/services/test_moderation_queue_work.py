"""Working the moderation queue through: true counts past 200, filters, search, pages, severe-first ranking, bulk
dismissal with one reason audited per item, and the state shared with the inbox (docs/moderation-queue.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import audit, repo
from core.config import Settings
from core.errors import PermissionDenied, ValidationError
from core.models import Platform, Status
from services.moderation import actions
from services.moderation import queue as mq
from tests.conftest import make_mention

URGENT = {"kind": "urgent", "score": 0.95, "spans": [[0, 5]]}
THREAT = {"kind": "threat", "score": 0.85, "spans": [[0, 5]]}
PHONE = {"kind": "personal_data", "score": 0.8, "spans": [[0, 5]]}


def _flood(db, now, n=230):
    """``n`` near-identical storm reports with a high priority, a threat and a phone number with a lower one."""
    ms = [make_mention(f"Arbre tombé rue {i}, danger", pid=f"s{i}", author=f"a{i}",
                       created_at=now - timedelta(hours=i % 48)) for i in range(n)]
    scores = [repo.Scores(risk_score=0.93, risk_flags=(URGENT,), priority=89.0 - (i % 10) / 10) for i in range(n)]
    threat = make_mention("un jour quelqu'un va mettre le feu à la mairie", pid="threat", author="z",
                          platform=Platform.FACEBOOK)
    phone = make_mention("appelez-moi au 06 12 34 56 78", pid="phone", author="y", created_at=now - timedelta(days=3))
    repo.upsert_mentions(db, [*ms, threat, phone], now=now,
                         scores=[*scores, repo.Scores(risk_score=0.85, risk_flags=(THREAT,), priority=60.0),
                                 repo.Scores(risk_score=0.56, risk_flags=(PHONE,), priority=50.0)])
    return threat.uid, phone.uid


def test_true_count_past_200_and_pages(db, now):
    _flood(db, now)
    first = mq.queue_page(db, 0.5, now, page_size=25)
    assert first.total == 232 and first.pages == 10 and len(first.items) == 25
    last = mq.queue_page(db, 0.5, now, page=9, page_size=25)
    assert len(last.items) == 7
    seen = {i.uid for p in range(10) for i in mq.queue_page(db, 0.5, now, page=p, page_size=25).items}
    assert len(seen) == 232
    assert first.by_kind == {"urgent": 230, "threat": 1, "personal_data": 1}


def test_threat_and_personal_data_rank_above_a_flood_of_reports(db, now):
    threat, phone = _flood(db, now)
    top = [i.uid for i in mq.queue_page(db, 0.5, now, page_size=5).items]
    assert top[:2] == [threat, phone]
    assert [i.uid for i in mq.queue(db, 0.5, now, limit=2)] == [threat, phone]


def test_filters_kind_platform_age_mark_search(db, now, agents):
    threat, phone = _flood(db, now, n=30)
    assert mq.queue_count(db, 0.5, now, mq.QueueFilter(kinds=("threat", "personal_data"))) == 2
    assert [i.uid for i in mq.queue_page(db, 0.5, now, mq.QueueFilter(platforms=("facebook",))).items] == [threat]
    assert mq.queue_count(db, 0.5, now, mq.QueueFilter(max_age_days=1)) == 25 + 1  # 0-24 h old, and the threat
    assert mq.queue_count(db, 0.5, now, mq.QueueFilter(search="feu mairie")) == 1
    assert mq.queue_count(db, 0.5, now, mq.QueueFilter(search="arbre")) == 30
    assert mq.queue_count(db, 0.5, now, mq.QueueFilter(search="<script>")) == 0
    actions.mark_author(db, threat, "opposition", actor=agents["julie"], now=now)
    assert [i.uid for i in mq.queue_page(db, 0.5, now, mq.QueueFilter(mark="marked")).items] == [threat]
    assert mq.queue_count(db, 0.5, now, mq.QueueFilter(mark="elected")) == 0
    assert mq.queue_count(db, 0.5, now, mq.QueueFilter(mark="unmarked")) == 31
    with pytest.raises(ValidationError):
        mq.queue_count(db, 0.5, now, mq.QueueFilter(kinds=("menace",)))


def test_bulk_dismissal_of_the_flood_with_one_reason_audited_per_item(db, now, agents, tmp_path):
    threat, phone = _flood(db, now, n=40)
    settings = Settings(data_dir=tmp_path, db_path=tmp_path / "p.db")
    storm = mq.QueueFilter(kinds=("urgent",), search="arbre")
    assert actions.dismiss_matching(db, settings, storm, "false_alarm", actor=agents["julie"], now=now) == 40
    remaining = mq.queue_page(db, 0.5, now)
    assert remaining.total == 2 and {i.uid for i in remaining.items} == {threat, phone}
    events = [e for e in audit.events_for(db, "x:s7") if e["event"] == "dismissed"]
    assert len(events) == 1 and events[0]["properties"]["reason"] == "false_alarm"
    assert events[0]["actor"] == "julie@valmont.fr"
    # the shared state: dismissed in the queue, no longer « Nouveau » in the inbox
    assert repo.get_item(db, "x:s7").status is Status.CLOSED
    open_uids = {i.uid for i in repo.list_inbox(db, repo.InboxQuery(limit=500))}
    assert threat in open_uids and "x:s7" not in open_uids
    # again: nothing left to dismiss; a legal officer may not
    with pytest.raises(ValidationError):
        actions.dismiss_matching(db, settings, storm, "false_alarm", actor=agents["julie"], now=now)
    with pytest.raises(PermissionDenied):
        actions.dismiss_many(db, [threat], "false_alarm", actor=agents["marc"], now=now)
    with pytest.raises(ValidationError):
        actions.dismiss_many(db, [threat], "je ne suis pas d'accord", actor=agents["julie"], now=now)


def test_dismissal_keeps_an_item_someone_works_on_open(db, now, agents):
    threat, phone = _flood(db, now, n=1)
    repo.set_assignee(db, phone, agents["karim"].id, now=now)
    repo.set_status(db, phone, Status.ASSIGNED, now=now)
    assert actions.dismiss_many(db, [threat, phone, threat], "criticism", actor=agents["julie"], now=now) == 2
    assert repo.get_item(db, threat).status is Status.CLOSED
    assert repo.get_item(db, phone).status is Status.ASSIGNED  # assigned: its owner decides when it is done
    assert actions.dismiss_many(db, [threat], "criticism", actor=agents["julie"], now=now) == 0
