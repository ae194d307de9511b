"""Residents' words in the integrations' outbox (decision 0180): the RGPD erasure of a resident erases them from
every forward e-mail, service request and urgent-mention webhook event that quotes them, cancelling what was not
sent yet; the retention run erases the texts of old finished messages; legal holds are respected; the rows, their
metadata and the audit chain stay."""

from __future__ import annotations

import json
from datetime import timedelta

from core import audit, repo
from core.db import write_transaction
from core.models import Author, Mention, Platform
from core.repo import integrations as integrations_repo
from services.archive import retention, rgpd
from services.integrations import hooks_out, notices
from services.integrations import kinds as integration_kinds
from services.integrations.kind import queue
from services.outbox.runner import Runner
from tests.integrations.conftest import make_settings, smtp_values
from tests.integrations.test_email import POLICY, _report
from tests.integrations.test_hooks_out import _setup, receiver  # noqa: F401 - the receiver fixture
from tests.publishing.fakes import FakeClock

WORDS = "Arbre tombé sur la chaussée"


def _send_all(db, settings, now):
    Runner(db, integration_kinds(settings), clock=FakeClock(now), policy=POLICY, worker_id="w").run_pass()


def _forward(db, settings, agents, uid, now, decision_id):
    with write_transaction(db):
        return notices.queue_forward(db, settings, uid, "Voirie", "voirie@valmont.fr", agent=agents["julie"],
                                     note="", now=now, decision_id=decision_id)


def _other(db, now):
    m = Mention(platform=Platform.FACEBOOK, platform_id="p1_c10", text="Nid-de-poule avenue Foch",
                author=Author(platform_id="u-88", handle="dominique", display_name="Dominique"),
                created_at=now - timedelta(minutes=10))
    repo.upsert_mentions(db, [m], now=now - timedelta(minutes=9))
    return m.uid


def _bodies(server):
    return [m.get_payload(decode=True).decode("utf-8") for m in server.messages]


def test_erasure_cancels_a_pending_forward_and_erases_a_sent_ones_text(db, agents, now, tmp_path, smtp_server,
                                                                      tls_files):
    settings = make_settings(tmp_path, **smtp_values(smtp_server, tls_files))
    uid, other = _report(db, now), _other(db, now)
    sent = _forward(db, settings, agents, uid, now, 1)
    _send_all(db, settings, now)
    assert integrations_repo.get(db, sent).state == "done" and WORDS in _bodies(smtp_server)[0]
    pending = _forward(db, settings, agents, uid, now, 2)
    theirs = _forward(db, settings, agents, other, now, 3)
    before = integrations_repo.get(db, sent)
    assert before.mention_uid == uid and integrations_repo.get(db, theirs).mention_uid == other

    result = rgpd.erasure_request(db, "@camille.durand", actor=agents["marc"], now=now + timedelta(minutes=1))
    assert result.erased["integration_messages"] == 2 and result.erased["integration_cancelled"] == 1

    done, cancelled = integrations_repo.get(db, sent), integrations_repo.get(db, pending)
    for row in (done, cancelled):
        assert WORDS not in json.dumps(row.payload, ensure_ascii=False) and row.payload["body"] == ""
        assert row.payload["erased"] == "rgpd" and row.text_erased_at is not None
    # the row and its metadata stay
    assert (done.state, done.message_id, done.recipient, done.via, done.created_at, done.finished_at) == \
        (before.state, before.message_id, before.recipient, before.via, before.created_at, before.finished_at)
    assert "PARVIS-facebook-p1_c9" in done.payload["subject"]
    assert cancelled.state == "cancelled" and cancelled.finished_at is not None
    assert integrations_repo.get(db, theirs).state == "pending"  # another resident's message is not touched

    _send_all(db, settings, now + timedelta(minutes=2))
    bodies = _bodies(smtp_server)
    assert len(bodies) == 2 and "Nid-de-poule" in bodies[1]  # only the other resident's forward left
    assert integrations_repo.get(db, pending).state == "cancelled"
    (event,) = audit.select_events(db, events=("integration-texts-erased",))
    assert json.loads(event["properties"])["cancelled"] == 1
    assert rgpd.requests(db)[0]["details"]["erased"]["integration_messages"] == 2
    assert audit.verify_chain(db).ok
    # a second request finds nothing more to erase
    again = rgpd.erasure_request(db, "@camille.durand", actor=agents["marc"], now=now + timedelta(minutes=3))
    assert again.erased["integration_messages"] == 0


def test_erasure_keeps_the_messages_of_a_held_conversation(db, agents, now, tmp_path, smtp_server, tls_files):
    settings = make_settings(tmp_path, **smtp_values(smtp_server, tls_files))
    uid = _report(db, now)
    row_id = _forward(db, settings, agents, uid, now, 1)
    retention.hold_mention(db, uid, scope="conversation", reason="Contentieux", actor=agents["marc"], now=now)
    result = rgpd.erasure_request(db, "@camille.durand", actor=agents["marc"], now=now)
    assert result.erased["integration_messages"] == 0 and result.held >= 1 and "17(3)(e)" in result.kept
    row = integrations_repo.get(db, row_id)
    assert row.state == "pending" and WORDS in row.payload["body"]


def test_an_urgent_webhook_event_records_its_mention_and_loses_its_text(db, agents, now, httpserver, tmp_path,
                                                                      receiver):  # noqa: F811
    settings, _ = _setup(db, agents, now, httpserver, tmp_path, events=("mention.urgent",))
    uid = _report(db, now)
    assert hooks_out.scan(db, settings, now=now) == 1
    [row] = integrations_repo.recent(db, "webhook")
    assert row.mention_uid == uid and WORDS in row.payload["event"]["data"]["text"]
    result = rgpd.erasure_request(db, "@camille.durand", actor=agents["marc"], now=now)
    assert result.erased["integration_cancelled"] == 1
    row = integrations_repo.get(db, row.id)
    assert row.state == "cancelled" and "text" not in row.payload["event"]["data"]
    assert row.payload["event"]["type"] == "mention.urgent" and row.payload["event"]["data"]["uid"] == uid
    receiver.now = now
    _send_all(db, settings, now)
    assert receiver.received == []


def test_an_erased_message_is_never_sent_even_if_it_comes_back_to_pending(db, agents, now, tmp_path, smtp_server,
                                                                         tls_files):
    settings = make_settings(tmp_path, **smtp_values(smtp_server, tls_files))
    row_id = _forward(db, settings, agents, _report(db, now), now, 1)
    with write_transaction(db):  # as if it was erased while being sent, then put back to be tried again
        integrations_repo.erase_payload(db, row_id, {"subject": "x", "body": "", "erased": "rgpd"}, now=now)
    _send_all(db, settings, now)
    row = integrations_repo.get(db, row_id)
    assert row.state == "failed" and row.error_code and smtp_server.messages == []


def test_retention_erases_old_finished_texts_only_and_respects_holds(db, agents, now, tmp_path):
    settings = make_settings(tmp_path, PARVIS_SMTP_HOST="127.0.0.1", PARVIS_SMTP_FROM="parvis@valmont.fr")
    uid, held_uid = _report(db, now), _other(db, now)
    old, recent = now - timedelta(days=100), now - timedelta(days=10)
    rows = {}
    with write_transaction(db):
        for name, mention in (("done", uid), ("failed", uid), ("cancelled", uid), ("recent", uid),
                              ("pending", uid), ("to_verify", uid), ("held", held_uid), ("notice", None)):
            rows[name] = queue(db, channel="email", dedupe=f"t:{name}", topic="forward", subject=mention or "crisis",
                               recipient="voirie@valmont.fr", payload={"subject": "s", "body": f"{WORDS} {name}"},
                               now=old, deadline=timedelta(hours=24), mention_uid=mention)
        for name, state, at in (("done", "done", old), ("failed", "failed", old), ("cancelled", "cancelled", old),
                                ("recent", "done", recent), ("to_verify", "to_verify", old), ("held", "done", old),
                                ("notice", "done", old)):
            integrations_repo.update(db, rows[name], now=at, state=state,
                                     finished_at=at if state != "to_verify" else None)
    retention.hold_mention(db, held_uid, scope="author", reason="Contentieux", actor=agents["marc"], now=now)
    policy = retention.RetentionPolicy.from_settings(settings)
    assert policy.integration_days == 90
    dry = retention.purge(db, policy, now=now, dry_run=True)
    assert dry.counts["integration_messages"] == 4 and dry.held["integration_messages"] == 1
    assert WORDS in integrations_repo.get(db, rows["done"]).payload["body"]  # a dry run only counts

    report = retention.purge(db, policy, now=now)
    assert report.counts["integration_messages"] == 4 and report.held["integration_messages"] == 1
    for name in ("done", "failed", "cancelled", "notice"):
        row = integrations_repo.get(db, rows[name])
        assert row.payload == {"subject": "s", "body": "", "erased": "retention"}, name
    for name in ("recent", "pending", "to_verify", "held"):
        assert WORDS in integrations_repo.get(db, rows[name]).payload["body"], name
    assert integrations_repo.get(db, rows["done"]).state == "done"
    assert retention.purge(db, policy, now=now).counts["integration_messages"] == 0  # nothing twice
    (event,) = audit.select_events(db, events=("integration-texts-erased",))
    assert json.loads(event["properties"])["why"] == "retention"
    assert audit.verify_chain(db).ok


def test_retention_of_integration_texts_can_be_switched_off(tmp_path, now):
    settings = make_settings(tmp_path, PARVIS_RETENTION_INTEGRATION_DAYS="0")
    policy = retention.RetentionPolicy.from_settings(settings)
    assert "integration_messages" not in policy.cutoffs(now)


def test_m180_links_existing_rows_that_quote_a_mention(now):
    from sqlite_utils import Database

    from core.clock import to_iso
    from core.migrations import MIGRATIONS
    from core.migrations.integrations import m180_integration_texts

    db = Database(memory=True)
    for migration in MIGRATIONS[:MIGRATIONS.index(m180_integration_texts)]:
        migration(db)
    from core.migrations.moderation import m325_risk_model_version

    m325_risk_model_version(db)  # a later mentions column that today's repo.upsert_mentions writes (decision 0325)
    m = Mention(platform=Platform.X, platform_id="1", text="Fuite d'eau", author=Author(platform_id="u", handle="u"),
                created_at=now)
    repo.upsert_mentions(db, [m], now=now)
    at = to_iso(now)
    for i, (channel, topic, subject) in enumerate((("email", "forward", m.uid), ("email", "promise", m.uid),
                                                   ("open311", "service_request", m.uid),
                                                   ("webhook", "mention.urgent", m.uid),
                                                   ("webhook", "mention.status_changed", m.uid),
                                                   ("email", "forward", "x:unknown"))):
        db.execute("INSERT INTO integration_outbox (channel, dedupe, message_id, topic, subject, deadline_at, "
                   "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (channel, f"d{i}", f"m{i}", topic, subject, at, at, at))
    m180_integration_texts(db)
    linked = [r[0] for r in db.execute("SELECT mention_uid FROM integration_outbox ORDER BY id")]
    assert linked == [m.uid, None, m.uid, m.uid, None, None]


def test_an_access_request_lists_to_whom_the_residents_words_were_passed_on(db, agents, now, tmp_path,
                                                                           smtp_server, tls_files):
    """RGPD art. 15 (1 c): the access export names the recipients of the resident's words (a forward e-mail here),
    with what was sent; another resident's forward is not in it; after an erasure, the entry stays without text."""
    settings = make_settings(tmp_path, **smtp_values(smtp_server, tls_files))
    uid, other = _report(db, now), _other(db, now)
    _forward(db, settings, agents, uid, now, 1)
    _forward(db, settings, agents, other, now, 2)
    _send_all(db, settings, now)

    out = tmp_path / "access"
    result = rgpd.access_request(db, "@camille.durand", out_dir=out, actor=agents["marc"], now=now)
    assert result.path is not None
    (entry,) = json.loads(result.path.read_text(encoding="utf-8"))["record"]["passed_on_to"]
    assert (entry["channel"], entry["recipient"], entry["state"], entry["mention_uid"]) == \
        ("email", "voirie@valmont.fr", "done", uid)
    assert WORDS in entry["payload"]["body"] and entry["text_erased_at"] is None

    rgpd.erasure_request(db, "@camille.durand", actor=agents["marc"], now=now + timedelta(minutes=1))
    after = rgpd.access_request(db, "@camille.durand", out_dir=out, actor=agents["marc"],
                                now=now + timedelta(minutes=2))
    assert after.path is not None
    (gone,) = json.loads(after.path.read_text(encoding="utf-8"))["record"]["passed_on_to"]
    assert gone["recipient"] == "voirie@valmont.fr" and gone["text_erased_at"] is not None
    assert WORDS not in json.dumps(gone, ensure_ascii=False)
