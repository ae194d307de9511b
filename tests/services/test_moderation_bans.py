"""Banning an author and lifting the ban: the same rules as hide/delete (legal ground, elected officials'
second confirmation, roles), the platform first, a ban kept while it lasts, both audited."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from connectors.base import Capability, ConnectorInfo
from console.messages import message_for
from core import audit, repo
from core.config import Settings
from core.errors import PermissionDenied, Unavailable, ValidationError
from core.models import Platform
from core.repo import author_bans as author_bans_repo
from core.repo import moderation_actions as moderation_actions_repo
from moderation.legal import OPPOSITION_WARNING_FR
from services.moderation import actions, bans
from services.moderation import queue as mq
from tests.conftest import make_mention
from tests.french import raises_fr

INSULT = {"kind": "insult", "score": 0.9, "spans": [[0, 6]], "reason": "Propos injurieux"}


class BanningConnector:
    """A Facebook-like connector that records ban/unban calls and fails when told to."""

    info = ConnectorInfo(platform=Platform.FACEBOOK, name="fake",
                         capabilities=frozenset({Capability.HIDE, Capability.BAN, Capability.UNBAN}))
    name = "fake"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail = False

    def _record(self, kind: str, author) -> None:  # noqa: ANN001
        if self.fail:
            raise Unavailable("platform down")
        self.calls.append((kind, author.platform_id))

    def ban(self, author) -> None:  # noqa: ANN001
        self._record("ban", author)

    def unban(self, author) -> None:  # noqa: ANN001
        self._record("unban", author)


@pytest.fixture
def fake(monkeypatch) -> BanningConnector:
    conn = BanningConnector()
    monkeypatch.setattr("services.connections.assembly.connector_for", lambda settings, mention: conn)
    return conn


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, db_path=tmp_path / "p.db")


def _store(db, now, text="Crétin de maire", *, author="camille", pid=None):
    m = make_mention(text, author=author, **({"pid": pid} if pid else {}))
    repo.upsert_mentions(db, [m], now=now - timedelta(minutes=30),
                         scores=[repo.Scores(risk_score=0.9, risk_flags=(INSULT,), priority=80.0)])
    return m.uid


def _events(db, uid, name):
    return [e for e in audit.events_for(db, uid) if e["event"] == name]


@pytest.mark.parametrize("ground", [None, "", "disagrees_with_city"])
def test_ban_needs_a_legal_ground(db, agents, now, fake, settings, ground):
    uid = _store(db, now)
    with raises_fr(ValidationError, "désaccord"):
        actions.restrict(db, settings, uid, "ban", ground, actor=agents["julie"], now=now)
    assert fake.calls == [] and author_bans_repo.bans(db) == [] and audit.events_for(db, uid) == []


def test_ban_calls_the_platform_keeps_the_ban_and_audits(db, agents, now, fake, settings):
    uid = _store(db, now)
    author_id = repo.get_item(db, uid).mention.author.platform_id
    out = actions.restrict(db, settings, uid, "ban", "insult_defamation", actor=agents["julie"], now=now)
    assert out.done and fake.calls == [("ban", author_id)]
    [event] = _events(db, uid, "author-banned")
    assert event["properties"]["ground"] == "insult_defamation" and event["properties"]["author_id"] == author_id
    assert [d.action for d in moderation_actions_repo.decisions_for(db, uid)] == ["ban"]
    assert mq.queue(db, 0.5, now) == []  # a final decision: out of the queue
    [listed] = bans.banned_authors(db, settings, viewer=agents["marc"])  # legal staff can read the list
    assert listed.ban.mention_uid == uid and listed.ban.ground == "insult_defamation" and listed.can_unban
    later = _store(db, now, "Encore vous, bande de nuls", pid="t-later")  # the same author writes again
    assert [i.author_banned for i in mq.queue(db, 0.5, now) if i.uid == later] == [True]
    with pytest.raises(ValidationError, match="already banned"):
        actions.restrict(db, settings, later, "ban", "insult_defamation", actor=agents["julie"], now=now)
    assert len(fake.calls) == 1


def test_unban_lifts_it_on_the_platform_then_forgets_it(db, agents, now, fake, settings):
    uid = _store(db, now)
    author_id = repo.get_item(db, uid).mention.author.platform_id
    actions.restrict(db, settings, uid, "ban", "spam", actor=agents["julie"], now=now)
    fake.fail = True
    with pytest.raises(Unavailable):  # the platform refused: the ban stays
        bans.unban(db, settings, "x", author_id, actor=agents["julie"], now=now)
    assert bans.is_banned(db, "x", author_id) and _events(db, uid, "author-unbanned") == []
    fake.fail = False
    bans.unban(db, settings, "x", author_id, actor=agents["julie"], now=now, note="Excuses présentées")
    assert fake.calls[-1] == ("unban", author_id) and not bans.is_banned(db, "x", author_id)
    [event] = _events(db, uid, "author-unbanned")
    assert event["properties"]["ground"] == "spam" and event["properties"]["note"] == "Excuses présentées"
    with pytest.raises(ValidationError, match="not banned"):
        bans.unban(db, settings, "x", author_id, actor=agents["julie"], now=now)
    assert audit.verify_chain(db).ok


def test_platform_failure_on_ban_keeps_nothing(db, agents, now, fake, settings):
    uid = _store(db, now)
    fake.fail = True
    with pytest.raises(Unavailable):
        actions.restrict(db, settings, uid, "ban", "threat", actor=agents["julie"], now=now)
    assert author_bans_repo.bans(db) == [] and _events(db, uid, "author-banned") == []
    assert [i.uid for i in mq.queue(db, 0.5, now)] == [uid]


def test_banning_an_elected_official_needs_the_director(db, agents, now, fake, settings):
    uid = _store(db, now, author="elu-opposition")
    julie, sophie = agents["julie"], agents["sophie"]
    actions.mark_author(db, uid, "opposition", actor=julie, now=now)
    out = actions.restrict(db, settings, uid, "ban", "insult_defamation", actor=julie, now=now)
    assert not out.done and fake.calls == [] and author_bans_repo.bans(db) == []
    with pytest.raises(ValidationError) as err:  # acting directly, the director must tick the confirmation
        actions.restrict(db, settings, uid, "ban", "insult_defamation", actor=sophie, now=now)
    assert OPPOSITION_WARNING_FR in message_for(err.value) and fake.calls == []
    actions.confirm_request(db, settings, out.request_id, actor=sophie, now=now)
    [event] = _events(db, uid, "author-banned")
    assert event["properties"]["confirmed_by"] == "sophie@valmont.fr" and len(fake.calls) == 1


@pytest.mark.parametrize("who", ["marc", "admin"])
def test_legal_and_admin_can_neither_ban_nor_unban(db, agents, now, fake, settings, who):
    uid = _store(db, now)
    with pytest.raises(PermissionDenied):
        actions.restrict(db, settings, uid, "ban", "spam", actor=agents[who], now=now)
    actions.restrict(db, settings, uid, "ban", "spam", actor=agents["julie"], now=now)
    author_id = repo.get_item(db, uid).mention.author.platform_id
    with pytest.raises(PermissionDenied):
        bans.unban(db, settings, "x", author_id, actor=agents[who], now=now)
    assert bans.is_banned(db, "x", author_id) and fake.calls == [("ban", author_id)]


def test_an_unknown_author_cannot_be_banned(db, agents, now, fake, settings):
    """Issue #16 (decision 0130): no author id to send; hiding or deleting the message stays possible."""
    from dataclasses import replace

    from core.models import Author

    m = replace(make_mention("Crétin de maire", platform=Platform.FACEBOOK, pid="anon"),
                author=Author.unknown("anon"))
    repo.upsert_mentions(db, [m], now=now - timedelta(minutes=30),
                         scores=[repo.Scores(risk_score=0.9, risk_flags=(INSULT,), priority=80.0)])
    with raises_fr(ValidationError, "impossible de bannir"):
        actions.restrict(db, settings, m.uid, "ban", "insult_defamation", actor=agents["julie"], now=now)
    assert fake.calls == [] and author_bans_repo.bans(db) == []
