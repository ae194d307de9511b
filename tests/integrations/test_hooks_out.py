"""Outgoing webhooks: signed JSON events received by a real HTTP server (pytest-httpserver) that verifies the
signature; a failure then a retry with backoff through the outbox; the same event id on every attempt; events
for a new urgent mention, a status change, a reply sent and a post published; the delivery log."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from werkzeug import Request, Response

from core import audit, repo
from core.db import write_transaction
from core.errors import PermissionDenied, ValidationError
from core.repo import integrations as integrations_repo
from services.inbox import triage
from services.integrations import hooks_out
from services.integrations import kinds as integration_kinds
from services.outbox.runner import Runner
from tests.conftest import make_mention
from tests.integrations.conftest import make_settings
from tests.integrations.test_email import POLICY, URGENT
from tests.publishing.fakes import FakeClock

SECRET = "whsec-test-123"


class Receiver:
    """The city's ticketing tool: verifies each signature, answers what the test says."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.answers: list[int] = []

    def __call__(self, request: Request) -> Response:
        body = request.get_data()
        ok = hooks_out.verify_signature(SECRET, body, request.headers.get("X-Parvis-Signature", ""),
                                        now=self.now.timestamp())
        if not ok:
            return Response("bad signature", status=401)
        event = json.loads(body)
        assert request.headers["X-Parvis-Event-Id"] == event["id"]
        assert request.headers["X-Parvis-Event"] == event["type"]
        status = self.answers.pop(0) if self.answers else 200
        self.received.append({"status": status, **event})
        return Response("", status=status)


@pytest.fixture
def receiver(httpserver):
    r = Receiver()
    httpserver.expect_request("/hooks", method="POST").respond_with_handler(r)
    return r


def _setup(db, agents, now, httpserver, tmp_path, events=tuple(hooks_out.EVENTS)):
    settings = make_settings(tmp_path)
    hooks_out.scan(db, settings, now=now - timedelta(minutes=10))  # the scans start here: nothing from before
    endpoint, secret = hooks_out.add_endpoint(db, agents["admin"], httpserver.url_for("/hooks"), list(events),
                                              now=now - timedelta(minutes=10), secret=SECRET)
    assert secret == SECRET
    return settings, endpoint


def test_events_are_signed_and_a_failed_delivery_is_retried_with_the_same_id(db, agents, now, httpserver, tmp_path,
                                                                            receiver):
    settings, _ = _setup(db, agents, now, httpserver, tmp_path)
    urgent = make_mention("Inondation rue Haute, l'eau monte", created_at=now - timedelta(minutes=2))
    repo.upsert_mentions(db, [urgent], now=now - timedelta(minutes=1),
                         scores=[repo.Scores(risk_score=0.95, risk_flags=(URGENT,), priority=95.0)])
    triage.assign(db, urgent.uid, agents["julie"].id, actor=agents["sophie"], now=now)
    assert hooks_out.scan(db, settings, now=now) == 2  # mention.urgent, mention.status_changed
    assert hooks_out.scan(db, settings, now=now) == 0  # each event once
    receiver.now = now
    receiver.answers = [503]  # the first delivery fails
    clock = FakeClock(now)
    runner = Runner(db, integration_kinds(settings), clock=clock, policy=POLICY, worker_id="w")
    runner.run_pass()
    assert [(e["type"], e["status"]) for e in receiver.received] == [("mention.urgent", 503),
                                                                      ("mention.status_changed", 200)]
    failed = integrations_repo.by_dedupe(db, f"webhook:1:mention.urgent:{urgent.uid}")
    assert failed is not None and failed.state == "pending" and failed.not_before > now  # backoff
    runner.run_pass()
    assert len(receiver.received) == 2  # not before its time
    clock.advance(minutes=2)
    receiver.now = clock()
    runner.run_pass()
    first, _status, again = receiver.received
    assert again["type"] == "mention.urgent" and again["status"] == 200 and again["id"] == first["id"]
    assert again["data"]["uid"] == urgent.uid and again["data"]["risk"] == ["urgent"]
    assert "camille" not in json.dumps(again)  # no author handle leaves
    assert integrations_repo.get(db, failed.id).state == "done" and integrations_repo.get(db, failed.id).attempts == 2
    log = hooks_out.delivery_log(db, agents["julie"])
    assert {r.state for r in log} == {"done"} and len(log) == 2
    assert [json.loads(e["properties"])["error_code"] for e in audit.select_events(db, events=("integration-retry",))] \
        == ["not_sent"]


def test_a_refused_event_fails_and_a_forged_signature_would_not_verify(db, agents, now, httpserver, tmp_path,
                                                                       receiver):
    settings, _ = _setup(db, agents, now, httpserver, tmp_path, events=("mention.status_changed",))
    m = make_mention("Bonjour")
    repo.upsert_mentions(db, [m], now=now)
    triage.change_status(db, m.uid, "closed", actor=agents["julie"], now=now)
    assert hooks_out.scan(db, settings, now=now) == 1
    receiver.now = now
    receiver.answers = [410]
    Runner(db, integration_kinds(settings), clock=FakeClock(now), policy=POLICY, worker_id="w").run_pass()
    [row] = integrations_repo.recent(db, "webhook")
    assert row.state == "failed" and "410" in row.error
    body = b'{"id":"evt_1"}'
    header = hooks_out.sign(SECRET, body, int(now.timestamp()))
    assert hooks_out.verify_signature(SECRET, body, header, now=now.timestamp())
    assert not hooks_out.verify_signature(SECRET, body + b" ", header, now=now.timestamp())
    assert not hooks_out.verify_signature("other", body, header, now=now.timestamp())
    assert not hooks_out.verify_signature(SECRET, body, header, now=now.timestamp() + 3600)  # replayed later


def test_reply_sent_and_post_published_events_come_from_the_audit_log(db, agents, now, httpserver, tmp_path):
    settings, _ = _setup(db, agents, now, httpserver, tmp_path, events=("reply.sent", "post.published"))
    m = make_mention("Horaires ?")
    repo.upsert_mentions(db, [m], now=now)
    with write_transaction(db):
        audit.record(db, audit.ReplySent(actor="julie@valmont.fr", subject=m.uid, draft_id=3, text="Bonjour",
                                         platform="x", platform_id="r9", permalink="https://x.com/r9"), at=now)
        audit.record(db, audit.PostPublished(actor="system:worker", subject="post:4", post_id=4, account="x",
                                             platform="x", text="Fête", platform_id="p4",
                                             permalink="https://x.com/p4"), at=now)
    assert hooks_out.scan(db, settings, now=now) == 2
    rows = sorted(integrations_repo.recent(db, "webhook"), key=lambda r: r.id)
    assert [r.payload["event"]["type"] for r in rows] == ["reply.sent", "post.published"]
    assert rows[0].payload["event"]["data"]["permalink"] == "https://x.com/r9"
    assert rows[1].payload["event"]["data"]["post_id"] == 4


def test_only_an_administrator_registers_endpoints(db, agents, now):
    with pytest.raises(PermissionDenied):
        hooks_out.add_endpoint(db, agents["julie"], "https://grc.valmont.fr/hook", ["reply.sent"], now=now)
    with pytest.raises(ValidationError):
        hooks_out.add_endpoint(db, agents["admin"], "ftp://grc", ["reply.sent"], now=now)
    endpoint, secret = hooks_out.add_endpoint(db, agents["admin"], "https://grc.valmont.fr/hook", ["reply.sent"],
                                              now=now)
    assert len(secret) > 30
    hooks_out.set_active(db, agents["admin"], endpoint, False, now=now)
    assert not hooks_out.endpoints(db, agents["admin"])[0].active
    assert SECRET not in json.dumps([e["properties"] for e in audit.select_events(db)])
