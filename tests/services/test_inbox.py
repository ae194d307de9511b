"""Inbox service: filters, assignment, status transitions, tags, notes, presence, roles; each audited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import audit, repo
from core.errors import PermissionDenied, ValidationError
from core.models import Status
from services.inbox import triage as inbox
from tests.conftest import make_mention


@pytest.fixture
def stored(db, now):
    m = make_mention("Lampadaire éteint avenue Foch", conversation_id="c1")
    reply = make_mention("Pareil rue voisine", conversation_id="c1", in_reply_to=m.platform_id, author="lea")
    repo.upsert_mentions(db, [m, reply], now=now)
    return m


def test_assign_to_me_sets_assigned_and_is_audited(db, agents, stored, now):
    julie = agents["julie"]
    item = inbox.assign(db, stored.uid, julie.id, actor=julie, now=now)
    assert item.assigned_to == julie.id and item.status is Status.ASSIGNED
    assert audit.event_names(db) == ["mention-assigned", "status-changed"]
    mine = inbox.list_items(db, repo.InboxQuery(assigned_to=julie.id))
    assert [i.uid for i in mine.items] == [stored.uid] and mine.total == 1
    unassigned = inbox.assign(db, stored.uid, None, actor=julie, now=now)
    assert unassigned.assigned_to is None and unassigned.status is Status.NEW


def test_cannot_assign_to_legal_staff(db, agents, stored, now):
    with pytest.raises(ValidationError):
        inbox.assign(db, stored.uid, agents["marc"].id, actor=agents["julie"], now=now)


def test_status_transitions(db, agents, stored, now):
    julie = agents["julie"]
    assert inbox.change_status(db, stored.uid, "waiting", actor=julie, now=now).status is Status.WAITING
    assert inbox.change_status(db, stored.uid, Status.CLOSED, actor=julie, now=now).status is Status.CLOSED
    with pytest.raises(ValidationError):
        inbox.change_status(db, stored.uid, Status.ESCALATED, actor=julie, now=now)  # closed → escalated: reopen first
    with pytest.raises(ValidationError):
        inbox.change_status(db, stored.uid, "bogus", actor=julie, now=now)
    assert inbox.change_status(db, stored.uid, Status.NEW, actor=julie, now=now).status is Status.NEW


def test_legal_role_is_read_only_in_the_core(db, agents, stored, now):
    marc = agents["marc"]
    for call in (lambda: inbox.assign(db, stored.uid, marc.id, actor=marc, now=now),
                 lambda: inbox.change_status(db, stored.uid, Status.CLOSED, actor=marc, now=now),
                 lambda: inbox.add_tag(db, stored.uid, "x", actor=marc, now=now),
                 lambda: inbox.add_note(db, stored.uid, "x", actor=marc, now=now)):
        with pytest.raises(PermissionDenied):
            call()
    assert audit.event_names(db) == []


def test_tags_and_notes(db, agents, stored, now):
    julie = agents["julie"]
    assert inbox.add_tag(db, stored.uid, "  Voirie ", actor=julie, now=now).tags == ("voirie",)
    inbox.add_tag(db, stored.uid, "voirie", actor=julie, now=now)
    assert [i.uid for i in inbox.list_items(db, repo.InboxQuery(tag="voirie")).items] == [stored.uid]
    note = inbox.add_note(db, stored.uid, "Signalé à la voirie", actor=julie, now=now)
    assert note.text == "Signalé à la voirie" and note.agent_id == julie.id
    with pytest.raises(ValidationError):
        inbox.add_note(db, stored.uid, "   ", actor=julie, now=now)
    assert inbox.remove_tag(db, stored.uid, "voirie", actor=julie, now=now).tags == ()
    assert audit.event_names(db) == ["tag-added", "note-added", "tag-removed"]
    assert audit.verify_chain(db).ok


def test_detail_shows_thread_history_and_collision(db, agents, stored, now):
    julie, karim = agents["julie"], agents["karim"]
    older = make_mention("Toujours pas réparé", created_at=now - timedelta(days=3))
    repo.upsert_mentions(db, [older], now=now)
    inbox.detail(db, stored.uid, viewer=karim, now=now)
    d = inbox.detail(db, stored.uid, viewer=julie, now=now + timedelta(minutes=1))
    assert [i.mention.text for i in d.thread] == ["Lampadaire éteint avenue Foch", "Pareil rue voisine"]
    assert [i.uid for i in d.author_history] == [older.uid]
    assert [a.name for a in d.other_viewers] == ["Karim Benali"]
    later = inbox.detail(db, stored.uid, viewer=julie, now=now + timedelta(minutes=30))
    assert later.other_viewers == []  # Karim's presence expired


def test_rollback_leaves_no_audit_row(db, agents, stored, now, monkeypatch):
    record = audit.record

    def record_then_fail(db, event, *, at):  # the fault comes after the status change and its audit row
        record(db, event, at=at)
        assert audit.event_names(db) == ["status-changed"]
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record", record_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        inbox.change_status(db, stored.uid, Status.WAITING, actor=agents["julie"], now=now)
    assert audit.event_names(db) == [] and repo.get_item(db, stored.uid).status is Status.NEW
