"""Moderation queue: actions audited with their ground, refusals, elected authors, connector failure, time to action."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from connectors.base import Capability, ConnectorInfo
from console.messages import message_for
from core import audit, repo
from core.config import Settings
from core.errors import PermissionDenied, Unavailable, Unsupported, ValidationError
from core.models import Platform, Status
from core.repo import moderation_actions as moderation_actions_repo
from moderation.legal import OPPOSITION_WARNING_FR
from services.moderation import actions
from services.moderation import queue as mq
from tests.conftest import make_mention

INSULT = {"kind": "insult", "score": 0.9, "spans": [[0, 6]], "reason": "Propos injurieux"}


class FakeConnector:
    """Records moderation calls; fails when told to."""

    info = ConnectorInfo(platform=Platform.X, name="fake",
                         capabilities=frozenset({Capability.HIDE, Capability.UNHIDE, Capability.DELETE}))
    name = "fake"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail = False

    def hide(self, mention):  # noqa: ANN001, ANN201
        if self.fail:
            raise Unavailable("platform down")
        self.calls.append(("hide", mention.platform_id))

    def unhide(self, mention):  # noqa: ANN001, ANN201
        self.calls.append(("unhide", mention.platform_id))

    def delete(self, platform_id):  # noqa: ANN001, ANN201
        self.calls.append(("delete", platform_id))


@pytest.fixture
def fake(monkeypatch):
    conn = FakeConnector()
    monkeypatch.setattr("services.connections.assembly.connector_for", lambda settings, mention: conn)
    return conn


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, db_path=tmp_path / "p.db",
                    values={"PARVIS_MUNICIPAL_SERVICES": "Voirie=voirie@ville.fr;Propreté=proprete@ville.fr"})


def _store(db, now, text="Crétin de maire", *, flags=(INSULT,), risk=0.9, priority=80.0, author="camille",
           ingested=None):
    m = make_mention(text, author=author)
    repo.upsert_mentions(db, [m], now=ingested or now - timedelta(minutes=30),
                         scores=[repo.Scores(risk_score=risk, risk_flags=tuple(flags), priority=priority,
                                             sentiment="negative", sentiment_confidence=0.9)])
    return m.uid


def _props(db, uid, name):
    return [e for e in audit.events_for(db, uid) if e["event"] == name]


def test_queue_orders_by_priority_with_spans_and_grounds(db, now):
    low = _store(db, now, "Crétin de maire", priority=40.0)
    high = _store(db, now, "Je vais te tuer", flags=({"kind": "threat", "score": 0.95, "spans": [[3, 15]]},),
                  priority=95.0)
    _store(db, now, "Merci pour le marché", flags=(), risk=0.0, priority=90.0)
    items = mq.queue(db, 0.5, now)
    assert [i.uid for i in items] == [high, low]
    assert items[1].spans[0].label_fr() == "« Crétin » (insulte)"
    assert items[0].grounds[0].code.value == "threat" and items[0].unlawful


def test_hide_with_ground_calls_platform_marks_hidden_and_audits(db, agents, now, fake, settings):
    uid = _store(db, now)
    out = actions.hide(db, settings, uid, "insult_defamation", actor=agents["julie"], now=now)
    assert out.done and fake.calls == [("hide", repo.get_item(db, uid).mention.platform_id)]
    assert repo.get_item(db, uid).hidden
    [event] = _props(db, uid, "mention-hidden")
    assert event["properties"]["ground"] == "insult_defamation" and event["actor"] == "julie@valmont.fr"
    assert mq.queue(db, 0.5, now) == []  # decided: out of the queue
    assert [i.uid for i in mq.hidden_items(db, now)] == [uid]
    actions.unhide(db, settings, uid, actor=agents["julie"], now=now)
    assert not repo.get_item(db, uid).hidden and _props(db, uid, "mention-unhidden")
    with pytest.raises(ValidationError):  # not hidden any more
        actions.unhide(db, settings, uid, actor=agents["julie"], now=now)


@pytest.mark.parametrize("ground", [None, "", "disagrees_with_city"])
def test_hide_without_valid_ground_is_refused(db, agents, now, fake, settings, ground):
    uid = _store(db, now)
    with pytest.raises(ValidationError):
        actions.hide(db, settings, uid, ground, actor=agents["julie"], now=now)
    assert fake.calls == [] and not repo.get_item(db, uid).hidden and audit.events_for(db, uid) == []


def test_delete_and_ban(db, agents, now, fake, settings):
    uid = _store(db, now)
    actions.restrict(db, settings, uid, "delete", "threat", actor=agents["julie"], now=now)
    assert repo.get_item(db, uid).deleted_at is not None
    assert _props(db, uid, "mention-deleted")[0]["properties"]["ground"] == "threat"
    other = _store(db, now)
    with pytest.raises(Unsupported):  # the fake connector has no ban
        actions.restrict(db, settings, other, "ban", "spam", actor=agents["julie"], now=now)
    fake.ban = lambda author: fake.calls.append(("ban", author.handle))
    with pytest.raises(Unsupported):  # a method alone is not enough: the connector must declare the capability
        actions.restrict(db, settings, other, "ban", "spam", actor=agents["julie"], now=now)
    fake.info = replace(fake.info, capabilities=fake.info.capabilities | {Capability.BAN})
    actions.restrict(db, settings, other, "ban", "spam", actor=agents["julie"], now=now)
    [event] = _props(db, other, "author-banned")
    assert event["properties"]["ground"] == "spam" and event["properties"]["author"] == "camille"


def test_connector_failure_leaves_mention_visible(db, agents, now, fake, settings):
    uid = _store(db, now)
    fake.fail = True
    with pytest.raises(Unavailable):
        actions.hide(db, settings, uid, "insult_defamation", actor=agents["julie"], now=now)
    assert not repo.get_item(db, uid).hidden and _props(db, uid, "mention-hidden") == []
    assert [i.uid for i in mq.queue(db, 0.5, now)] == [uid]


def test_elected_author_needs_director_confirmation(db, agents, now, fake, settings):
    uid = _store(db, now, author="elu-opposition")
    julie, sophie = agents["julie"], agents["sophie"]
    actions.mark_author(db, uid, "opposition", actor=julie, now=now)
    assert mq.queue(db, 0.5, now)[0].author_mark == "opposition"
    out = actions.hide(db, settings, uid, "insult_defamation", actor=julie, now=now)
    assert not out.done and fake.calls == [] and not repo.get_item(db, uid).hidden
    assert actions.hide(db, settings, uid, "insult_defamation", actor=julie, now=now) == out  # asked once
    [pending] = mq.pending_confirmations(db, viewer=sophie)
    assert pending.item.uid == uid and pending.request.ground == "insult_defamation"
    with pytest.raises(ValidationError) as err:  # the director must confirm explicitly, seeing the warning
        actions.hide(db, settings, uid, "insult_defamation", actor=sophie, now=now)
    assert OPPOSITION_WARNING_FR in message_for(err.value)
    with pytest.raises(PermissionDenied):
        actions.confirm_request(db, settings, out.request_id, actor=agents["karim"], now=now)
    actions.confirm_request(db, settings, out.request_id, actor=sophie, now=now)
    assert repo.get_item(db, uid).hidden and fake.calls
    [event] = _props(db, uid, "mention-hidden")
    assert event["properties"]["confirmed_by"] == "sophie@valmont.fr"
    assert moderation_actions_repo.get_request(db, out.request_id).state == "confirmed"
    assert _props(db, uid, "author-marked") and _props(db, uid, "moderation-confirmation-requested")


def test_refused_request_does_nothing(db, agents, now, fake, settings):
    uid = _store(db, now, author="maire-adjoint")
    actions.mark_author(db, uid, "elected", actor=agents["julie"], now=now)
    out = actions.hide(db, settings, uid, "insult_defamation", actor=agents["julie"], now=now)
    actions.refuse_request(db, out.request_id, actor=agents["sophie"], now=now)
    assert fake.calls == [] and _props(db, uid, "moderation-confirmation-refused")
    assert mq.pending_confirmations(db, viewer=agents["sophie"]) == []


def test_spam_escalate_forward_dismiss_are_audited(db, agents, now, settings):
    julie = agents["julie"]
    a, b, c, d = (_store(db, now) for _ in range(4))
    actions.mark_spam(db, a, actor=julie, now=now)
    assert repo.get_item(db, a).status is Status.CLOSED and _props(db, a, "marked-spam")
    actions.escalate(db, b, "legal", "Diffamation possible", actor=julie, now=now)
    assert repo.get_item(db, b).status is Status.ESCALATED
    assert _props(db, b, "escalated")[0]["properties"] == {"to": "legal", "note": "Diffamation possible"}
    with pytest.raises(ValidationError):
        actions.escalate(db, b, "legal", "  ", actor=julie, now=now)
    assert actions.forward(db, settings, c, "Voirie", actor=julie, now=now) == "voirie@ville.fr"
    assert _props(db, c, "forwarded-to-service")[0]["properties"]["email"] == "voirie@ville.fr"
    with pytest.raises(ValidationError):
        actions.forward(db, settings, c, "Pompiers", actor=julie, now=now)
    with pytest.raises(ValidationError):
        actions.dismiss(db, d, "je ne suis pas d'accord", actor=julie, now=now)
    actions.dismiss(db, d, "criticism", actor=julie, now=now)
    assert _props(db, d, "dismissed")[0]["properties"]["reason"] == "criticism"
    assert {i.uid for i in mq.queue(db, 0.5, now)} == {b, c}  # escalated/forwarded stay until decided
    assert audit.verify_chain(db).ok


def test_legal_and_admin_cannot_moderate(db, agents, now, fake, settings):
    uid = _store(db, now)
    for who in ("marc", "admin"):
        with pytest.raises(PermissionDenied):
            actions.hide(db, settings, uid, "insult_defamation", actor=agents[who], now=now)
        with pytest.raises(PermissionDenied):
            actions.dismiss(db, uid, "criticism", actor=agents[who], now=now)


def test_time_to_action_against_target(db, agents, now, fake, settings):
    late = _store(db, now, ingested=now - timedelta(minutes=90))
    quick = _store(db, now, ingested=now - timedelta(minutes=20))
    target = timedelta(minutes=60)
    by_uid = {i.uid: i for i in mq.queue(db, 0.5, now, target=target)}
    assert not by_uid[late].within_target and by_uid[quick].within_target
    assert by_uid[late].waited == timedelta(minutes=90)
    actions.hide(db, settings, late, "insult_defamation", actor=agents["julie"], now=now)
    actions.dismiss(db, quick, "false_alarm", actor=agents["julie"], now=now)
    [decision] = moderation_actions_repo.decisions_for(db, late)
    assert decision.seconds_to_action == 90 * 60 and decision.unlawful
    report = mq.time_to_action_report(db, now - timedelta(days=1), target=target)
    assert (report.decided, report.within_target, report.median_minutes) == (2, 1, 55.0)


def test_crisis_detects_a_burst(db, now):
    assert not mq.crisis(db, now).active
    for i in range(8):
        m = make_mention(f"Scandale {i}", created_at=now - timedelta(minutes=5 + i))
        repo.upsert_mentions(db, [m], now=now, scores=[repo.Scores(sentiment="negative", risk_score=0.1)])
    status = mq.crisis(db, now)
    assert status.active and status.last_hour == 8


def test_sentiment_correction_stored_and_audited(db, agents, now):
    uid = _store(db, now)
    assert actions.correct_sentiment(db, uid, "neutral", actor=agents["julie"], now=now) == "negative"
    assert repo.get_item(db, uid).sentiment == "neutral"
    assert _props(db, uid, "sentiment-corrected")[0]["properties"] == {"before": "negative", "after": "neutral"}
    with pytest.raises(PermissionDenied):
        actions.correct_sentiment(db, uid, "positive", actor=agents["marc"], now=now)


def test_municipal_services_setting(tmp_path):
    s = Settings(data_dir=tmp_path, db_path=tmp_path / "p.db", values={"PARVIS_MUNICIPAL_SERVICES": "Voirie"})
    with pytest.raises(Exception, match="PARVIS_MUNICIPAL_SERVICES"):
        mq.municipal_services(s)


def test_the_record_keeps_the_flags_and_the_model_a_person_acted_on(db, agents, now, fake, settings):
    """Decision 0326: retention clears a mention's scores, so the act's own audit event keeps what the person saw
    flagged and which models flagged it; a dismissal too (the « not offending » side of the same question)."""
    model = "offline-toxicity-2+cac9ae7f+a2c545eb/lexicon-0a1b2c3d"
    hidden, dismissed, unscored = (make_mention(t, author=a) for t, a in
                                   (("Crétin de maire", "camille"), ("Quel crétin ce projet", "lea"),
                                    ("Crétin !", "paul")))
    threat = {"kind": "threat", "score": 0.95, "spans": [[0, 6]]}
    repo.upsert_mentions(db, [hidden, dismissed, unscored], now=now - timedelta(minutes=30), scores=[
        repo.Scores(risk_score=0.9, risk_flags=(INSULT, threat, INSULT), priority=80.0, risk_model_version=model),
        repo.Scores(risk_score=0.7, risk_flags=(INSULT,), priority=60.0, risk_model_version=model),
        repo.Scores(risk_score=0.7, risk_flags=(INSULT,), priority=60.0)])
    actions.hide(db, settings, hidden.uid, "insult_defamation", actor=agents["julie"], now=now)
    actions.dismiss(db, dismissed.uid, "criticism", actor=agents["julie"], now=now)
    actions.dismiss(db, unscored.uid, "false_alarm", actor=agents["julie"], now=now)
    [sending] = _props(db, hidden.uid, "moderation-act-sending")
    assert (sending["properties"]["flags"], sending["properties"]["risk_model"]) == (["insult", "threat"], model)
    [dismissal] = _props(db, dismissed.uid, "dismissed")
    assert (dismissal["properties"]["flags"], dismissal["properties"]["risk_model"]) == (["insult"], model)
    assert _props(db, unscored.uid, "dismissed")[0]["properties"]["risk_model"] == ""  # scored before 0325
    assert audit.verify_chain(db).ok
