"""Private channels against fakes shaped after the real APIs (issue #20): Messenger and Instagram Direct
(Conversations API, Send API, error 10 / subcode 2018278), Mastodon direct statuses, Bluesky chat."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from connectors.bluesky.chat import BlueskyChatConnector
from connectors.bluesky.connector import BlueskyConnector
from connectors.facebook.conversations import ConversationsConnector, InstagramDirectConnector
from connectors.mastodon.connector import MastodonConnector
from connectors.mastodon.direct import mark_direct
from connectors.mastodon.normalize import status_to_mention
from core import repo
from core.errors import PermanentFailure
from services.inbox import private, replies
from services.publishing import reply_sending
from tests.fakes.bluesky_chat import FakeBlueskyChatApi
from tests.fakes.mastodon_api import FakeMastodonApi
from tests.fakes.meta_conversations import FakeConversationsApi
from tests.french import raises_fr

CITIZEN = ("2499999999999999", "Camille Martin")
CLEAN = "Bonjour, merci : une équipe passera vider le bac demain matin."


@pytest.fixture
def meta(httpserver) -> FakeConversationsApi:
    fake = FakeConversationsApi(start=datetime.now(UTC) - timedelta(hours=2))
    fake.base_url = fake.install(httpserver)  # type: ignore[attr-defined]
    return fake


def messenger(meta: FakeConversationsApi, cls: type = ConversationsConnector, **kwargs) -> ConversationsConnector:
    return cls(page_id=meta.page_id, page_token=meta.token, base_url=meta.base_url, version=meta.version,
               backoff=0, channel="instagram" if cls is InstagramDirectConnector else "messenger", **kwargs)


def test_conversations_are_read_with_cursor_paging_and_only_residents_messages(meta):
    for i in range(30):
        meta.add_message(f"Message {i}", user=(f"24000000000{i:05d}", f"Habitant {i}"))
    meta.add_message("Bonjour, j'habite 3 rue Pasteur", user=CITIZEN)
    meta.add_message("Merci, nous regardons", user=CITIZEN, from_page=True)
    connector = messenger(meta, limit=10)
    result = connector.fetch(None)
    assert len(result.mentions) == 31 and all(m.private for m in result.mentions)
    assert len(meta.calls(r"/conversations$", "GET")) == 4  # 10 per page, cursor paging
    first = meta.calls(r"/conversations$", "GET")[0]
    assert first.args["platform"] == "messenger"
    assert first.args["fields"] == "participants,updated_time,messages{id,message,from,created_time}"
    camille = next(m for m in result.mentions if m.author.platform_id == CITIZEN[0])
    assert camille.conversation_id == meta.conversation_of(CITIZEN[0]) and camille.platform_id.startswith("m_")
    assert "Merci, nous regardons" not in {m.text for m in result.mentions}
    meta.add_message("Et le bac jaune ?", user=CITIZEN)
    again = connector.fetch(result.cursor)
    assert [m.text for m in again.mentions] == ["Et le bac jaune ?"]


def test_instagram_direct_uses_platform_instagram(meta):
    meta.add_message("Bonjour la mairie", user=("17841400000000001", "camille.ig"), platform="instagram")
    result = messenger(meta, InstagramDirectConnector).fetch(None)
    assert [(str(m.platform), m.author.handle) for m in result.mentions] == [("instagram", "camille.ig")]
    assert meta.calls(r"/conversations$", "GET")[0].args["platform"] == "instagram"


def test_send_api_standard_then_human_agent_then_meta_refusal_mapped(meta):
    meta.add_message("Bonjour", user=CITIZEN, at=datetime.now(UTC) - timedelta(hours=1))
    connector = messenger(meta)
    mention = connector.fetch(None).mentions[0]
    sent = connector.send_private(mention, CLEAN, tag=None)
    form = meta.sent[-1]
    assert sent.platform_id.startswith("m_") and json.loads(form["recipient"]) == {"id": CITIZEN[0]}
    assert form["messaging_type"] == "RESPONSE" and json.loads(form["message"]) == {"text": CLEAN}
    meta._clock += timedelta(hours=30)  # noqa: SLF001 - the resident's last message is now 31 h old
    with raises_fr(PermanentFailure, "plus de 24 heures") as caught:
        connector.send_private(mention, CLEAN, tag=None)
    assert caught.value.reason == "private_window_closed" and "(#10)" in str(caught.value)
    meta.human_agent = True
    connector.send_private(mention, CLEAN, tag="HUMAN_AGENT")
    assert meta.sent[-1]["messaging_type"] == "MESSAGE_TAG" and meta.sent[-1]["tag"] == "HUMAN_AGENT"


def test_the_reply_path_refuses_outside_the_window_before_any_call(db, agents, meta):
    meta.add_message("Bonjour, ma poubelle ?", user=CITIZEN, at=datetime.now(UTC) - timedelta(hours=30))
    connector = messenger(meta)
    mention = connector.fetch(None).mentions[0]
    now = datetime.now(UTC)
    repo.upsert_mentions(db, [mention], now=now)
    draft = replies.create_draft(db, agents["julie"], mention_uid=mention.uid, body=CLEAN, now=now)
    before = len(meta.requests)
    with raises_fr(private.WindowClosed, "plus de 24 heures"):
        reply_sending.send_now(db, agents["julie"], draft.id, connector, now=now)
    assert len(meta.requests) == before  # not one call
    tagged = messenger(meta, human_agent=True)
    meta.human_agent = True
    reply_sending.send_now(db, agents["julie"], draft.id, tagged, now=now)
    assert meta.sent[-1]["tag"] == "HUMAN_AGENT"


@pytest.fixture
def masto(httpserver) -> FakeMastodonApi:
    fake = FakeMastodonApi()
    fake.install(httpserver)
    return fake


def test_a_mastodon_direct_message_is_never_answered_publicly(db, agents, masto):
    friend = {"id": "209777", "username": "dom", "acct": "dom@piaille.fr", "url": "https://piaille.fr/@dom"}
    city = {"id": masto.me["id"], "username": "villedetest", "acct": "villedetest", "url": ""}
    masto.mention("J'habite 4 impasse des Roses, le lampadaire est cassé", visibility="direct",
                  mentions=[city, friend])
    connector = MastodonConnector(base_url=masto.base, access_token=masto.token, backoff=0)
    fetched = mark_direct(list(connector.fetch(None).mentions))
    assert len(fetched) == 1 and fetched[0].private and fetched[0].conversation_id
    now = datetime.now(UTC)
    from services.connections.ingest import store_mentions

    store_mentions(db, connector.fetch(None).mentions or fetched, now=now)
    stored = repo.get_item(db, fetched[0].uid)
    assert stored.private
    draft = replies.create_draft(db, agents["julie"], mention_uid=stored.uid, body=CLEAN, now=now)
    reply_sending.send_now(db, agents["julie"], draft.id, connector, now=now)
    posted = masto.posted[-1]
    assert posted["visibility"] == "direct" and posted["in_reply_to_id"] == fetched[0].platform_id
    words = str(posted["status"]).split()
    assert [w for w in words if w.startswith("@")] == ["@camille@mastodon.example", "@dom@piaille.fr"]
    assert all(s["visibility"] == "direct" for s in masto.statuses.values()
               if s["account"]["id"] == masto.me["id"])


def test_mark_direct_keeps_public_statuses_public(masto):
    status = masto.status("Bravo pour le marché de Noël", visibility="public")
    mention = status_to_mention(status)
    assert not mark_direct([mention])[0].private


@pytest.fixture
def sky(httpserver) -> FakeBlueskyChatApi:
    fake = FakeBlueskyChatApi()
    fake.base = fake.install(httpserver)  # type: ignore[attr-defined]
    return fake


def test_bluesky_chat_through_the_pds_with_the_proxy_header(sky, tmp_path):
    convo = sky.add_chat("Bonjour, mon adresse est 8 rue Voltaire")
    for i in range(60):
        sky.add_chat(f"Message {i}", handle=f"habitant{i}.bsky.social")
    base = BlueskyConnector(handle=sky.account_handle, app_password=sky.password, base_url=sky.base,
                            session_path=tmp_path / "chat.session", backoff=0)
    chat = BlueskyChatConnector(base)
    result = chat.fetch(None)
    assert len(result.mentions) == 61 and all(m.private for m in result.mentions)
    assert all(c.headers.get("Atproto-Proxy") == "did:web:api.bsky.chat#bsky_chat"
               for c in sky.calls(r"chat\.bsky\.convo"))
    assert len(sky.calls(r"listConvos")) == 2  # 50 a page, then the cursor
    mine = next(m for m in result.mentions if m.conversation_id == convo)
    assert mine.text.startswith("Bonjour") and mine.platform_id.startswith("chat:msg")
    assert chat.fetch(result.cursor).mentions == []  # nothing changed: no message read twice
    sky.add_chat("Et aussi le trottoir", handle="camille.bsky.social")
    assert [m.text for m in chat.fetch(result.cursor).mentions] == ["Et aussi le trottoir"]
    sent = chat.send_private(mine, CLEAN, tag=None)
    assert sky.sent == [{"convoId": convo, "message": {"text": CLEAN}}] and sent.platform_id.startswith("chat:")
    sky.dm_allowed = False
    assert not chat.health().ok
