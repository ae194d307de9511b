"""Private messages in the shared inbox (issue #20): who sees them, the answer window, the charter, the audit
chain, retention and RGPD, reports."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from core import audit, repo
from core.config import Settings
from core.errors import CharterBlocked, PermissionDenied
from core.models import PRIVATE_KIND, DraftState, Mention, Platform, Published
from core.repo import private as private_repo
from core.repo.archive import ArchiveFilter
from services.archive import published as archive
from services.archive import rgpd
from services.inbox import private, replies, triage
from services.reports import weekly
from services.reports.dashboard import DashboardConfig
from services.reports.faq import build_faq
from services.reports.topics import topics_for
from tests.conftest import make_mention
from tests.french import raises_fr

ADDRESS = "J'habite au 12 rue des Lilas, 75011 Paris, la poubelle déborde depuis lundi ?"


def private_mention(text: str = ADDRESS, *, platform: Platform = Platform.FACEBOOK, author: str = "camille",
                    convo: str = "t_100", age: timedelta = timedelta(hours=1), now=None, pid: str | None = None
                    ) -> Mention:
    m = make_mention(text, platform=platform, author=author, conversation_id=convo, pid=pid,
                     created_at=(now - age) if now else None)
    return replace(m, kind=PRIVATE_KIND, raw={"channel": "messenger" if platform is Platform.FACEBOOK else ""})


class Sender:
    """A private channel connector that records what it sends (and with which tag)."""

    def __init__(self, *, human_agent: bool = False) -> None:
        self.sent: list[tuple[str, str, str | None]] = []
        self.public: list[str] = []
        self.human_agent = human_agent

    def reply(self, mention: Mention, text: str) -> Published:
        self.public.append(text)
        return Published(platform_id=f"public{len(self.public)}")

    def send_private(self, mention: Mention, text: str, *, tag: str | None) -> Published:
        self.sent.append((mention.uid, text, tag))
        return Published(platform_id=f"m_{len(self.sent)}")


@pytest.fixture
def stored(db, now):
    public = make_mention("Les poubelles débordent dans ma rue, personne ne fait rien ?", author="camille",
                          platform=Platform.FACEBOOK)
    secret = private_mention(now=now)
    repo.upsert_mentions(db, [public, secret], now=now)
    return public, secret


CLEAN = "Bonjour, merci : une équipe passera vider le bac demain matin."


def test_roles_without_the_permission_see_neither_the_items_nor_their_count(db, agents, now, stored):
    public, secret = stored
    everyone = repo.InboxQuery(open_only=False)
    julie = triage.list_items(db, everyone, viewer=agents["julie"])
    assert {i.uid for i in julie.items} == {public.uid, secret.uid} and julie.total == 2
    for viewer in (agents["admin"], None):
        page = triage.list_items(db, everyone, viewer=viewer)
        assert [i.uid for i in page.items] == [public.uid] and page.total == 1
    only_private = replace(everyone, private=True)
    assert [i.uid for i in triage.list_items(db, only_private, viewer=agents["marc"]).items] == [secret.uid]
    with raises_fr(PermissionDenied, "lire les messages privés"):
        triage.list_items(db, only_private, viewer=agents["admin"])
    # the author's history (their count by author) leaves the private message out for the admin
    admin_view = triage.detail(db, public.uid, viewer=agents["admin"], now=now)
    assert admin_view.author_history == []
    julie_view = triage.detail(db, public.uid, viewer=agents["julie"], now=now)
    assert [i.uid for i in julie_view.author_history] == [secret.uid]
    with raises_fr(PermissionDenied, "lire les messages privés"):
        triage.detail(db, secret.uid, viewer=agents["admin"], now=now)
    with pytest.raises(PermissionDenied):
        triage.add_note(db, secret.uid, "adresse notée", actor=agents["admin"], now=now)


def test_opening_a_private_conversation_records_who_read_it_once_per_presence_window(db, agents, now, stored):
    _, secret = stored
    for minutes in (0, 1, 2):
        triage.detail(db, secret.uid, viewer=agents["marc"], now=now + timedelta(minutes=minutes))
    triage.detail(db, secret.uid, viewer=agents["marc"], now=now + timedelta(minutes=30))
    reads = [e for e in audit.events_for(db, secret.uid) if e["event"] == "private-conversation-read"]
    assert [e["actor"] for e in reads] == ["marc@valmont.fr", "marc@valmont.fr"]
    assert ADDRESS not in str(reads) and reads[0]["properties"]["conversation_id"] == "t_100"


def test_answer_window_rules():
    last = make_mention().created_at
    w = private.answer_window("messenger", last, last + timedelta(hours=23), human_agent=False)
    assert w.mode == "standard" and w.tag is None and w.left(last + timedelta(hours=23)) == timedelta(hours=1)
    w = private.answer_window("messenger", last, last + timedelta(hours=25), human_agent=False)
    assert w.mode == "closed" and w.reason == "private_window_closed"
    w = private.answer_window("instagram", last, last + timedelta(days=3), human_agent=True)
    assert w.mode == "human_agent" and w.tag == "HUMAN_AGENT" and w.left(last + timedelta(days=3)) == timedelta(days=4)
    w = private.answer_window("messenger", last, last + timedelta(days=8), human_agent=True)
    assert w.mode == "closed" and w.reason == "private_window_expired"
    assert private.answer_window("mastodon", last, last + timedelta(days=30), human_agent=False).is_open


def test_private_answer_inside_the_window_goes_through_the_private_channel(db, agents, now, stored):
    _, secret = stored
    sender = Sender()
    draft = replies.create_draft(db, agents["julie"], mention_uid=secret.uid, body=CLEAN, now=now)
    sent = replies.send(db, agents["julie"], draft.id, sender, now=now)
    assert sent.state is DraftState.SENT and sender.public == []
    assert sender.sent == [(secret.uid, CLEAN + "\n— Julie", None)]
    # the city's private text is beside the chain, not in it; the chain verifies
    raw = [r[0] for r in db.execute("SELECT properties FROM audit_log WHERE subject = ?", (secret.uid,))]
    assert raw and not any(CLEAN in p for p in raw)
    assert any(e["properties"].get("text") == CLEAN + "\n— Julie" for e in audit.events_for(db, secret.uid))
    assert audit.verify_chain(db).ok
    # archived like a public reply, as a private answer, without the resident's words in its snapshot
    found, _ = archive.search(db, ArchiveFilter(), viewer=agents["marc"])
    assert [m.kind for m in found] == ["private_reply"] and found[0].text == CLEAN + "\n— Julie"
    snapshot = db.execute("SELECT in_reply_to_snapshot FROM archive_messages").fetchone()[0]
    assert "Lilas" not in snapshot and '"private":true' in snapshot.replace(" ", "")
    assert archive.search(db, ArchiveFilter(), viewer=agents["admin"])[0] == []


def test_outside_the_window_the_send_is_refused_before_any_call(db, agents, now, mention_factory):
    old = private_mention(now=now, age=timedelta(hours=30), convo="t_200", author="bruno")
    repo.upsert_mentions(db, [old], now=now)
    sender = Sender()
    draft = replies.create_draft(db, agents["julie"], mention_uid=old.uid, body=CLEAN, now=now)
    with raises_fr(private.WindowClosed, "plus de 24 heures"):
        replies.send(db, agents["julie"], draft.id, sender, now=now)
    assert sender.sent == [] and sender.public == []
    refused = [e for e in audit.events_for(db, old.uid) if e["event"] == "private-reply-refused"]
    assert refused and refused[0]["properties"]["reason"] == "private_window_closed"
    # with the Human Agent permission the same answer goes out, tagged
    tagged = Sender(human_agent=True)
    replies.send(db, agents["julie"], draft.id, tagged, now=now)
    assert tagged.sent == [(old.uid, CLEAN + "\n— Julie", "HUMAN_AGENT")]


def test_personal_data_warns_in_private_and_blocks_in_public(db, agents, now, stored):
    public, secret = stored
    body = "Bonjour, nous passerons au 12 rue des Lilas, 75011 Paris demain matin."
    draft = replies.create_draft(db, agents["julie"], mention_uid=secret.uid, body=body, now=now)
    assert [f["severity"] for f in draft.charter_result if f["code"] == "personal_data"] == ["warn"]
    assert draft.needs_approval
    blocked = replies.create_draft(db, agents["julie"], mention_uid=public.uid, body=body, now=now)
    assert [f["severity"] for f in blocked.charter_result if f["code"] == "personal_data"] == ["block"]
    with pytest.raises(CharterBlocked):
        replies.send(db, agents["julie"], blocked.id, Sender(), now=now)


def test_private_texts_never_in_faq_topics_or_report_excerpts(db, agents, now):
    question = "Quand passe la collecte des encombrants dans mon quartier ?"
    publics = [make_mention(question, author=f"p{i}", created_at=now - timedelta(hours=i + 1)) for i in range(4)]
    secrets = [private_mention(f"{question} J'habite au {i} rue des Lilas", author=f"s{i}", convo=f"t_{i}",
                               now=now, age=timedelta(hours=i + 1)) for i in range(6)]
    repo.upsert_mentions(db, [*publics, *secrets], now=now)
    sender = Sender()
    for m in [*publics, *secrets]:
        d = replies.create_draft(db, agents["julie"], mention_uid=m.uid, body="La collecte passe le mardi.", now=now)
        replies.send(db, agents["julie"], d.id, sender, now=now)
    config = DashboardConfig()
    faq = build_faq(db, since=now - timedelta(days=1), until=now + timedelta(hours=1), config=config, now=now)
    assert faq and all("Lilas" not in e.question and e.asked == 4 for e in faq)
    from services.reports.dashboard import DashboardFilters

    topics = topics_for(db, DashboardFilters(since=now - timedelta(days=1), until=now + timedelta(hours=1)), config,
                        now=now, min_size=2)
    assert topics and all(t.count == 4 and not any("Lilas" in x for x in t.examples) for t in topics)
    report = weekly.build_report(db, since=now - timedelta(days=1), until=now + timedelta(hours=1), config=config,
                                 now=now)
    assert report.private == {"received": 6, "answered": 6}
    assert all(r["kind"] != "private_reply" for r in report.published) and len(report.published) == 4
    text = weekly.render(report, "html").decode() + weekly.report_csv(report)
    assert "Lilas" not in text and "Messages privés : 6 reçus" in " ".join(weekly.summary_lines(report))


def test_retention_and_rgpd_erase_private_texts_and_the_chain_still_verifies(db, agents, now, tmp_path):
    old = private_mention(now=now, age=timedelta(days=100), convo="t_300", author="vieux")
    fresh = private_mention("Mon numéro est le 06 12 34 56 78", now=now, convo="t_301", author="dora")
    repo.upsert_mentions(db, [old, fresh], now=now - timedelta(days=100))
    d = replies.create_draft(db, agents["julie"], mention_uid=fresh.uid, body=CLEAN, now=now)
    replies.send(db, agents["julie"], d.id, Sender(), now=now)
    access = rgpd.access_request(db, "@dora", out_dir=tmp_path, actor=agents["marc"], now=now)
    document = access.path.read_text(encoding="utf-8") if access.path else ""
    assert "06 12 34 56 78" in document and '"private": true' in document
    settings = Settings.from_values({"PARVIS_RETENTION_PRIVATE_DAYS": "90"})
    purged = private.purge_private_texts(db, settings, now=now)
    assert purged.messages == 1 and repo.get_item(db, old.uid).mention.text == private_repo.ERASED_TEXT
    assert repo.get_item(db, fresh.uid).mention.text.startswith("Mon numéro")
    result = rgpd.erasure_request(db, "@dora", actor=agents["marc"], now=now)
    assert result.erased.get("private_texts") == 1
    assert repo.get_item(db, fresh.uid).mention.text == private_repo.ERASED_TEXT
    texts = [e["properties"].get("text") for e in audit.events_for(db, fresh.uid) if e["event"] == "reply-sent"]
    assert texts == [audit.texts.ERASED]
    dump = "\n".join(db.conn.iterdump())
    assert "06 12 34 56 78" not in dump and CLEAN not in dump.split("archive_messages")[0]
    assert audit.verify_chain(db).ok and audit.texts.verify_texts(db) == []


def test_messenger_webhook_event_is_parsed_and_stored(db, now):
    settings = Settings.from_values({"PARVIS_FB_PAGE_ID": "5550001"})
    body = {"object": "page", "entry": [{"id": "5550001", "time": 1764928800000, "messaging": [
        {"sender": {"id": "2400000000000001"}, "recipient": {"id": "5550001"}, "timestamp": 1764928800000,
         "message": {"mid": "m_AbCdEf123", "text": "Bonjour, mon adresse : 3 rue Pasteur"}},
        {"sender": {"id": "5550001"}, "recipient": {"id": "2400000000000001"}, "timestamp": 1764928801000,
         "message": {"mid": "m_echo", "text": "Merci", "is_echo": True}},
        {"sender": {"id": "2400000000000001"}, "recipient": {"id": "5550001"}, "timestamp": 1764928802000,
         "read": {"watermark": 1764928801000}}]}]}
    stored = private.ingest_messenger_webhook_change(settings, db, body, now=now)
    assert stored == ["facebook:m_AbCdEf123"]
    item = repo.get_item(db, stored[0])
    assert item.private and item.mention.conversation_id == "5550001:2400000000000001"
    assert item.mention.author.platform_id == "2400000000000001"
    assert private.ingest_messenger_webhook_change(settings, db, body, now=now) == []  # redelivered: idempotent


def test_demo_city_has_a_private_address_after_a_public_complaint_and_one_outside_the_window(db, agents, tmp_path):
    from datetime import UTC, datetime

    from connectors.demo.connector import DemoConnector
    from services.connections.ingest import sync_connector

    now = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)
    demo = DemoConnector(state_dir=tmp_path, clock=lambda: now, history_days=3, private=True)
    sync_connector(db, demo, now=now)
    privates = triage.list_items(db, repo.InboxQuery(private=True, open_only=False, limit=200),
                                 viewer=agents["julie"]).items
    assert {str(i.mention.platform) for i in privates} >= {"facebook", "mastodon", "bluesky"}
    fresh = max((i for i in privates if "Tilleuls" in i.mention.text), key=lambda i: i.mention.created_at)
    complaint = [h for h in triage.detail(db, fresh.uid, viewer=agents["julie"], now=now).author_history
                 if not h.private]
    assert complaint and "encombrants" in complaint[0].mention.text
    late = max((i for i in privates if "stationnement" in i.mention.text), key=lambda i: i.mention.created_at)
    assert now - late.mention.created_at > timedelta(hours=24)
    assert private.window_for(db, fresh.mention, now, human_agent=False).mode == "standard"
    assert not private.window_for(db, late.mention, now, human_agent=False).is_open
    draft = replies.create_draft(db, agents["julie"], mention_uid=fresh.uid, body=CLEAN, now=now)
    replies.send(db, agents["julie"], draft.id, demo, now=now)
    refused = replies.create_draft(db, agents["julie"], mention_uid=late.uid, body=CLEAN, now=now)
    with raises_fr(private.WindowClosed, "plus de 24 heures"):
        replies.send(db, agents["julie"], refused.id, demo, now=now)
    sent = [r for r in demo.outbox() if r["kind"] == "private_reply"]
    assert [r["mention_uid"] for r in sent] == [fresh.uid] and not any(r["kind"] == "reply" for r in demo.outbox())


def test_private_messages_stay_out_of_the_archival_transfer_record(db, now, stored):
    from core.repo import archive as arch

    public, secret = stored
    uids = [r["uid"] for r in arch.received_messages(db, since=None, until=None)]
    assert uids == [public.uid]
