"""E-mail out through a real SMTP server (aiosmtpd on 127.0.0.1, STARTTLS on a self-signed certificate, AUTH):
the forward to a municipal service, what it carries and leaves out, the stable Message-ID, retries, refusals, and
crash injection between the send and its record (never sent twice: « à vérifier »)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from core import audit, repo
from core.db import write_transaction
from core.models import Author, Mention, Platform
from core.repo import integrations as integrations_repo
from services.integrations import kinds as integration_kinds
from services.integrations import notices
from services.integrations.email import EmailKind
from services.integrations.kind import deliver_now, verify
from services.moderation import actions
from services.outbox.runner import Runner
from services.publishing.content import PublishPolicy
from tests.integrations.conftest import make_settings, smtp_values
from tests.publishing.fakes import FakeClock, SimulatedCrash

POLICY = PublishPolicy(retry_window=timedelta(minutes=30), backoff_base_s=5, backoff_max_s=60,
                       lease_ttl=timedelta(seconds=60), stale_after=timedelta(seconds=90))
URGENT = {"kind": "urgent", "score": 0.95, "spans": [[0, 5]], "reason": "Signalement urgent"}


def _report(db, now, *, text="Arbre tombé sur la chaussée rue des Lilas, c'est dangereux"):
    m = Mention(platform=Platform.FACEBOOK, platform_id="p1_c9", text=text,
                author=Author(platform_id="u-77", handle="camille.durand", display_name="Camille Durand"),
                created_at=now - timedelta(minutes=10), permalink="https://facebook.com/p1/c9",
                media=("https://cdn.example/photo1.jpg", "https://cdn.example/photo2.jpg"),
                raw={"id": "p1_c9", "place": {"name": "Rue des Lilas, Valmont"}})
    repo.upsert_mentions(db, [m], now=now - timedelta(minutes=9),
                         scores=[repo.Scores(risk_score=0.95, risk_flags=(URGENT,), priority=90.0,
                                             sentiment="negative", sentiment_confidence=0.9)])
    return m.uid


def _events(db, name):
    return [{**r, "properties": json.loads(r["properties"])} for r in audit.select_events(db, events=(name,))]


def test_forward_sends_the_report_to_the_service_over_starttls_with_auth(db, agents, now, tmp_path, smtp_server,
                                                                         tls_files):
    settings = make_settings(tmp_path, **smtp_values(smtp_server, tls_files))
    uid = _report(db, now)
    assert actions.forward(db, settings, uid, "Voirie", actor=agents["julie"], now=now,
                           note="Urgent, bloque la circulation") == "voirie@valmont.fr"
    assert smtp_server.logins == ["parvis"]
    [msg] = smtp_server.messages
    [row] = integrations_repo.recent(db, "email")
    assert row.state == "done" and row.topic == "forward"
    assert msg["Message-ID"] == row.message_id and msg["To"] == "voirie@valmont.fr"
    assert smtp_server.envelopes == [("parvis@valmont.fr", ["voirie@valmont.fr"])]
    body = msg.get_payload(decode=True).decode("utf-8")
    for expected in ("Arbre tombé sur la chaussée", "https://facebook.com/p1/c9", "https://cdn.example/photo1.jpg",
                     "https://cdn.example/photo2.jpg", "Rue des Lilas, Valmont", "Julie Martin",
                     "julie@valmont.fr", "PARVIS-facebook-p1_c9", "Urgent, bloque la circulation"):
        assert expected in body, expected
    assert "PARVIS-facebook-p1_c9" in msg["Subject"]
    for private in ("camille", "Camille", "u-77"):  # no author handle, name or id: the service acts on the place
        assert private not in body and private not in msg["Subject"]
    assert [e["properties"]["channel"] for e in _events(db, "integration-sent")] == ["email"]
    assert _events(db, "integration-queued")[0]["actor"] == "julie@valmont.fr"
    assert len(_events(db, "integration-sending")) == 1


def test_forward_without_smtp_settings_records_only(db, agents, now, tmp_path):
    settings = make_settings(tmp_path)
    uid = _report(db, now)
    actions.forward(db, settings, uid, "Voirie", actor=agents["julie"], now=now)
    assert integrations_repo.recent(db, "email") == []


def test_implicit_tls(db, agents, now, tmp_path, smtps_server, tls_files):
    settings = make_settings(tmp_path, **smtp_values(smtps_server, tls_files, security="tls"))
    uid = _report(db, now)
    actions.forward(db, settings, uid, "Propreté", actor=agents["julie"], now=now)
    assert len(smtps_server.messages) == 1 and smtps_server.logins == ["parvis"]


def test_a_wrong_password_fails_without_sending(db, agents, now, tmp_path, smtp_server, tls_files):
    settings = make_settings(tmp_path, **smtp_values(smtp_server, tls_files, password="wrong"))
    uid = _report(db, now)
    actions.forward(db, settings, uid, "Voirie", actor=agents["julie"], now=now)
    [row] = integrations_repo.recent(db, "email")
    assert row.state == "failed" and smtp_server.messages == []
    assert _events(db, "integration-failed")[0]["properties"]["channel"] == "email"


def test_an_untrusted_certificate_is_not_sent_and_tried_again(db, agents, now, tmp_path, smtp_server, tls_files):
    values = smtp_values(smtp_server, tls_files)
    values["PARVIS_SMTP_CA_FILE"] = ""  # the system's CAs do not know the self-signed certificate
    settings = make_settings(tmp_path, **values)
    uid = _report(db, now)
    actions.forward(db, settings, uid, "Voirie", actor=agents["julie"], now=now)
    [row] = integrations_repo.recent(db, "email")
    assert row.state == "pending" and row.not_before is not None and smtp_server.messages == []


def test_a_temporary_refusal_is_retried_with_backoff_and_sent_once(db, agents, now, tmp_path, smtp_server,
                                                                   tls_files):
    settings = make_settings(tmp_path, **smtp_values(smtp_server, tls_files))
    smtp_server.refuse_data = 1
    uid = _report(db, now)
    actions.forward(db, settings, uid, "Voirie", actor=agents["julie"], now=now)
    [row] = integrations_repo.recent(db, "email")
    assert row.state == "pending" and row.not_before > now and smtp_server.messages == []
    retry = _events(db, "integration-retry")[0]["properties"]
    assert retry["error_code"] == "not_sent" and "451" in retry["error"]
    clock = FakeClock(now)
    runner = Runner(db, integration_kinds(settings), clock=clock, policy=POLICY, worker_id="w1")
    runner.run_pass()
    assert smtp_server.messages == []  # not due yet
    clock.advance(minutes=5)
    runner.run_pass()
    runner.run_pass()
    assert len(smtp_server.messages) == 1
    assert integrations_repo.get(db, row.id).state == "done"


@pytest.mark.parametrize("point", ["claimed", "called", "record_txn"])
def test_a_crash_around_the_send_never_sends_twice(db, agents, now, tmp_path, smtp_server, tls_files, point):
    settings = make_settings(tmp_path, **smtp_values(smtp_server, tls_files))
    uid = _report(db, now)
    with write_transaction(db):
        key = notices.queue_forward(db, settings, uid, "Voirie", "voirie@valmont.fr", agent=agents["julie"], note="",
                                    now=now, decision_id=1)
    assert key is not None
    fired = []

    def crash(p: str) -> None:
        if p == point and not fired:
            fired.append(p)
            raise SimulatedCrash(p)

    with pytest.raises(SimulatedCrash):
        deliver_now(db, EmailKind(settings), key, clock=lambda: now, agent=agents["julie"], hook=crash)
    sent_before = len(smtp_server.messages)
    assert sent_before == (0 if point == "claimed" else 1)
    # the restarted worker (another identity) reconciles once the claim is stale: SMTP cannot be asked
    clock = FakeClock(now + timedelta(minutes=5))
    runner = Runner(db, integration_kinds(settings), clock=clock, policy=POLICY, worker_id="restarted")
    for _ in range(3):
        runner.run_pass()
        clock.advance(minutes=5)
    assert len(smtp_server.messages) == sent_before  # never a second copy
    row = integrations_repo.get(db, key)
    assert row.state == "to_verify" and _events(db, "integration-to-verify")
    # a person settles it
    settled = verify(db, EmailKind(settings), key, sent=bool(sent_before), agent=agents["sophie"], now=clock())
    assert settled.state == ("done" if sent_before else "failed")
    assert _events(db, "integration-verified")[0]["properties"]["sent"] is bool(sent_before)


def test_the_message_id_is_stable_and_derived_from_the_outbox_key(db, agents, now, tmp_path):
    settings = make_settings(tmp_path, PARVIS_SMTP_HOST="127.0.0.1", PARVIS_SMTP_FROM="parvis@valmont.fr")
    uid = _report(db, now)
    with write_transaction(db):
        first = notices.queue_forward(db, settings, uid, "Voirie", "voirie@valmont.fr", agent=agents["julie"],
                                      note="", now=now, decision_id=7)
        again = notices.queue_forward(db, settings, uid, "Voirie", "voirie@valmont.fr", agent=agents["julie"],
                                      note="", now=now, decision_id=7)
    assert first is not None and again is None  # the same forward is one message
    row = integrations_repo.get(db, first)
    from services.integrations.kind import message_id_for

    assert row.message_id == message_id_for("email:forward:" + uid + ":7", "valmont.fr")
    assert row.message_id.startswith("<") and row.message_id.endswith("@valmont.fr>")
