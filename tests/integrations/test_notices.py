"""E-mail notices through the outbox: a director told of what awaits approval, the on-call list of a crisis spike,
the assignee and the directors of an answer promise about to be broken, a list of the weekly report PDF; each
queued once; each person's choices respected."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import repo
from core.repo import integrations as integrations_repo
from core.repo import moderation_actions as moderation_actions_repo
from services.inbox import triage
from services.integrations import kinds as integration_kinds
from services.integrations import notices
from services.outbox.runner import Runner
from tests.conftest import make_mention
from tests.integrations.conftest import make_settings, smtp_values
from tests.integrations.test_email import POLICY
from tests.publishing.fakes import FakeClock


def _send_all(db, settings, now):
    Runner(db, integration_kinds(settings), clock=FakeClock(now), policy=POLICY, worker_id="w").run_pass()


def _to(server):
    return sorted(rcpt for _sender, rcpts in server.envelopes for rcpt in rcpts)


@pytest.fixture
def settings(tmp_path, smtp_server, tls_files):
    return make_settings(tmp_path, **smtp_values(smtp_server, tls_files), PARVIS_NOTIFY_ONCALL="astreinte@valmont.fr",
                         PARVIS_WEEKLY_REPORT_TO="direction@valmont.fr, sophie@valmont.fr",
                         PARVIS_OPENING_HOURS="24/7", PARVIS_RESPONSE_TARGET_H="4",
                         PARVIS_WEEKLY_REPORT_DAY="3")  # not today (a Monday): weekly tested on its own


def test_a_director_is_told_once_of_what_awaits_approval_unless_they_opted_out(db, agents, now, settings,
                                                                               smtp_server):
    uid = make_mention("Crétin").uid
    repo.upsert_mentions(db, [make_mention("Crétin", pid=uid.split(":")[1])], now=now)
    moderation_actions_repo.add_request(db, uid, "hide", "insult", note="", agent_id=agents["julie"].id, now=now)
    assert notices.scan(db, settings, now=now).approval == 1  # the director (who approves)
    assert notices.scan(db, settings, now=now + timedelta(minutes=1)).approval == 0  # never twice
    _send_all(db, settings, now)
    assert _to(smtp_server) == ["sophie@valmont.fr"]
    assert all("approbation" in m.get_payload(decode=True).decode() for m in smtp_server.messages)
    # Sophie turns the notice off: the next request reaches nobody
    assert notices.set_preference(db, agents["sophie"], "approval", False, now=now)["approval"] is False
    moderation_actions_repo.add_request(db, uid, "ban", "insult", note="", agent_id=agents["julie"].id, now=now)
    assert notices.scan(db, settings, now=now).approval == 0
    assert notices.preferences(db, agents["julie"])["approval"] is False  # a community manager: off by default


def test_the_on_call_list_is_told_when_a_crisis_spike_starts(db, agents, now, settings, smtp_server):
    mentions = [make_mention(f"Scandale {i}", created_at=now - timedelta(minutes=5 + i)) for i in range(8)]
    repo.upsert_mentions(db, mentions, now=now, scores=[repo.Scores(risk_score=0.9, sentiment="negative",
                                                                    sentiment_confidence=0.9) for _ in mentions])
    assert notices.scan(db, settings, now=now).crisis == 1
    assert notices.scan(db, settings, now=now + timedelta(minutes=30)).crisis == 0  # the same spike
    _send_all(db, settings, now)
    assert _to(smtp_server) == ["astreinte@valmont.fr", "sophie@valmont.fr"]
    assert "8 messages négatifs" in smtp_server.messages[0].get_payload(decode=True).decode()


def test_the_assignee_and_the_directors_are_told_before_a_promise_is_broken(db, agents, now, settings,
                                                                            smtp_server):
    late, fine = make_mention("Ma poubelle ?", created_at=now - timedelta(hours=3, minutes=30)), \
        make_mention("Merci", created_at=now - timedelta(hours=1))
    repo.upsert_mentions(db, [late, fine], now=now)
    triage.assign(db, late.uid, agents["karim"].id, actor=agents["sophie"], now=now)
    assert notices.scan(db, settings, now=now).promise == 1
    assert notices.scan(db, settings, now=now + timedelta(minutes=10)).promise == 0
    _send_all(db, settings, now)
    assert _to(smtp_server) == ["karim@valmont.fr", "sophie@valmont.fr"]
    body = smtp_server.messages[0].get_payload(decode=True).decode()
    assert "30 min" in body and "Ma poubelle" not in body  # no resident text in a notice


def test_the_weekly_report_pdf_goes_to_the_list_on_its_day(db, agents, now, tmp_path, smtp_server, tls_files):
    settings = make_settings(tmp_path, **smtp_values(smtp_server, tls_files),
                             PARVIS_WEEKLY_REPORT_TO="direction@valmont.fr, sophie@valmont.fr",
                             PARVIS_WEEKLY_REPORT_DAY="0", PARVIS_WEEKLY_REPORT_HOUR="8")
    repo.upsert_mentions(db, [make_mention("Bravo", created_at=now - timedelta(days=4))], now=now - timedelta(days=4))
    assert notices.scan(db, settings, now=now - timedelta(hours=4)).weekly == 0  # before 08:00 Paris
    assert notices.scan(db, settings, now=now).weekly == 1
    assert notices.scan(db, settings, now=now + timedelta(hours=3)).weekly == 0  # once a week
    notices.set_preference(db, agents["sophie"], "weekly", False, now=now)
    _send_all(db, settings, now)
    [msg] = smtp_server.messages
    assert _to(smtp_server) == ["direction@valmont.fr", "sophie@valmont.fr"]  # queued before she opted out
    [pdf] = [p for p in msg.iter_attachments()]
    assert pdf.get_content_type() == "application/pdf" and pdf.get_payload(decode=True).startswith(b"%PDF")
    assert "2026-W47" in msg["Subject"]
    row = integrations_repo.recent(db, "email")[0]
    assert row.topic == "weekly" and row.state == "done"
