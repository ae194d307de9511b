"""Issue #16: an item that fails validation is listed (``FetchResult.rejected``, decision 0132) by every
connector, not only X, with its reason and where to see it; the rest of the page is read, and « rien à lire »
(a Mastodon notification without a status) is never listed as rejected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import FetchResult, Rejected
from core import repo
from services.connections.ingest import store_pushed
from tests.connectors.conftest import X_KEYS
from tests.fakes import FakeBlueskyApi, FakeGraphApi, FakeInstagramApi, FakeMastodonApi, FakeXApi
from tests.fakes.bluesky_chat import FakeBlueskyChatApi
from tests.fakes.meta_conversations import FakeConversationsApi


def _x(httpserver, tmp_path):
    from connectors.x.connector import XConnector

    fake = FakeXApi()
    base = fake.install(httpserver)
    fake.add_tweet("@VilleDeTest la piscine est fermée ?")
    bad = fake.add_tweet("@VilleDeTest sans auteur")
    del bad["author_id"]
    connector = XConnector(bearer_token=fake.bearer, user_id=fake.user_id, base_url=base, backoff=0, **X_KEYS)
    return connector, bad["id"], f"https://x.com/i/web/status/{bad['id']}", "author_id"


def _facebook(httpserver, tmp_path):
    from connectors.facebook.connector import FacebookConnector

    fake = FakeGraphApi(start=datetime.now(UTC) - timedelta(hours=3))
    base = fake.install(httpserver)
    post = fake.add_post("Fermeture du pont pour travaux")
    fake.add_comment(post, "Commentaire lisible")
    bad = fake.add_comment(post, "Date illisible", created_time="hier soir")
    connector = FacebookConnector(page_id=fake.page_id, page_token=fake.token, base_url=base, backoff=0)
    return connector, bad, fake.comments[bad]["permalink_url"], "created_time"


def _instagram(httpserver, tmp_path, login: str = "facebook"):
    from connectors.instagram.connector import InstagramConnector

    fake = FakeInstagramApi(start=datetime.now(UTC) - timedelta(hours=3), login=login)
    base = fake.install(httpserver)
    media = fake.add_media("Marché de Noël 🎄")
    fake.add_comment(media, "Commentaire lisible")
    bad = fake.add_comment(media, "sans texte")
    del fake.comments[bad]["text"]  # Meta sent no text: nothing to read
    connector = InstagramConnector(ig_user_id=fake.ig_user_id, access_token=fake.token, base_url=base, backoff=0,
                                   login=login)
    return connector, bad, fake.media[media]["permalink"], "text missing"


def _instagram_login(httpserver, tmp_path):
    return _instagram(httpserver, tmp_path, login="instagram")


def _mastodon(httpserver, tmp_path):
    from connectors.mastodon.connector import MastodonConnector

    fake = FakeMastodonApi()
    base = fake.install(httpserver)
    fake.mention("Question sur la piscine")
    fake.gone_mention()  # « rien à lire »: never listed as rejected
    bad = fake.mention("Sans date")
    del bad["created_at"]
    connector = MastodonConnector(base_url=base, access_token=fake.token, backoff=0)
    return connector, bad["id"], bad["url"], "created_at"


def _bluesky(httpserver, tmp_path):
    from connectors.bluesky.connector import BlueskyConnector

    fake = FakeBlueskyApi()
    base = fake.install(httpserver)
    fake.post("Question sur la piscine")
    bad = fake.post("sans texte")
    del fake.notifications[-1]["record"]["text"]  # a record without text
    rkey = bad["uri"].rsplit("/", 1)[-1]
    connector = BlueskyConnector(handle=fake.account_handle, app_password=fake.password, base_url=base,
                                 session_path=tmp_path / "bluesky.session", backoff=0)
    return connector, bad["uri"], f"https://bsky.app/profile/did:plc:camille00000000000000000/post/{rkey}", "record"


def _messenger(httpserver, tmp_path):
    from connectors.facebook.conversations import ConversationsConnector

    fake = FakeConversationsApi(start=datetime.now(UTC) - timedelta(hours=2))
    base = fake.install(httpserver)
    fake.add_message("Bonjour la mairie")
    bad = fake.add_message("Sans expéditeur", user=("2400000000000002", "Eve"))
    for convo in fake.conversations.values():
        for message in convo["messages"]:
            if message["id"] == bad:
                del message["from"]
    connector = ConversationsConnector(page_id=fake.page_id, page_token=fake.token, base_url=base,
                                       version=fake.version, backoff=0)
    return connector, bad, None, "sender"


def _bluesky_chat(httpserver, tmp_path):
    from connectors.bluesky.chat import BlueskyChatConnector
    from connectors.bluesky.connector import BlueskyConnector

    fake = FakeBlueskyChatApi()
    base = fake.install(httpserver)
    fake.add_chat("Bonjour la mairie")
    convo = fake.add_chat("Sans date", handle="eve.bsky.social")
    bad = fake.convos[convo]["messages"][-1]
    bad["sentAt"] = "pas une date"
    connector = BlueskyChatConnector(BlueskyConnector(handle=fake.account_handle, app_password=fake.password,
                                                      base_url=base, session_path=tmp_path / "c.session", backoff=0))
    return connector, bad["id"], None, "sentAt"


MAKERS = {"x": _x, "facebook": _facebook, "instagram": _instagram, "instagram-login": _instagram_login,
          "mastodon": _mastodon, "bluesky": _bluesky, "messenger": _messenger, "bluesky-chat": _bluesky_chat}


def _all(connector) -> FetchResult:
    result = connector.fetch(None)
    while result.has_more:
        more = connector.fetch(result.cursor)
        result = FetchResult(mentions=[*result.mentions, *more.mentions], cursor=more.cursor, has_more=more.has_more,
                             skipped=[*result.skipped, *more.skipped], rejected=[*result.rejected, *more.rejected],
                             ignored={**result.ignored, **more.ignored})
    return result


@pytest.mark.parametrize("name", list(MAKERS))
def test_a_malformed_item_is_rejected_with_its_reason_and_the_rest_is_read(name, httpserver, tmp_path):
    connector, bad_id, link, why = MAKERS[name](httpserver, tmp_path)
    result = _all(connector)
    assert len(result.mentions) == 1  # the readable item
    [rejected] = result.rejected
    assert rejected.item_id == bad_id and why in rejected.reason
    assert rejected.permalink == link
    assert len(result.skipped) == 1 and why in result.skipped[0]
    if name == "mastodon":
        assert result.ignored == {"status_gone": 1}  # « rien à lire », apart from the rejected item


def test_every_connector_s_rejected_items_reach_the_connexions_list(db, now, httpserver, tmp_path):
    """Through the sync path (services/connections/ingest.py) for a polled connector and a pushed one."""
    from services.connections.ingest import sync_connector

    connector, bad_id, link, _ = _mastodon(httpserver, tmp_path)
    sync_connector(db, connector, now=now)
    [item] = repo.rejected_items(db, connector.name)
    assert (item.item_id, item.platform, item.permalink) == (bad_id, "mastodon", link)
    assert repo.rejected_count(db, connector.name) == 1
    bad = Rejected(item_id="m_1AbC", reason="conversation message without id or sender: m_1AbC")
    store_pushed(db, "messenger", FetchResult(mentions=[], cursor=None, skipped=[bad.reason], rejected=[bad]),
                 now=now, platform="facebook")  # a pushed item (webhook, stream) is listed the same way
    assert [(r.item_id, r.platform) for r in repo.rejected_items(db, "messenger")] == [("m_1AbC", "facebook")]
