"""``find_reply`` of the Mastodon and Bluesky connectors against their fakes: after an uncertain reply, the reply
outbox asks whether our reply to a mention is on the platform (found), certainly absent (None), or cannot tell."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.bluesky.connector import BlueskyConnector
from connectors.mastodon.connector import MastodonConnector
from core.errors import MalformedPayload, Unavailable
from tests.fakes import FakeBlueskyApi, FakeMastodonApi

TEXT = "La collecte passe mardi matin. — Julie, Ville de Test"
LONG = "https://www.ville-test.fr/actualites/2026/collecte-des-encombrants-quartier-nord"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


# ---- Mastodon ----------------------------------------------------------------------------------------------

@pytest.fixture
def masto(httpserver) -> tuple[FakeMastodonApi, MastodonConnector]:
    fake = FakeMastodonApi()
    fake.install(httpserver)
    return fake, MastodonConnector(base_url=fake.base, access_token=fake.token, backoff=0)


def _masto_mentions(fake: FakeMastodonApi, connector: MastodonConnector, *texts: str):
    for text in texts:
        fake.mention(text)
    found = {m.text: m for m in connector.fetch(None).mentions}
    return [found[f"@{fake.me['acct']} {text}"] for text in texts]


def test_mastodon_finds_the_reply_it_sent(masto):
    fake, connector = masto
    (mention,) = _masto_mentions(fake, connector, "Quand passe la collecte ?")
    sent = connector.reply(mention, TEXT)
    assert connector.find_reply(mention, TEXT, since=mention.created_at) == sent
    assert fake.posted[0]["status"].startswith("@camille@mastodon.example ")  # the handle prefix is not in TEXT


def test_mastodon_reads_the_reply_as_the_instance_renders_it(masto):
    """The instance shows the author as ``@camille`` (no domain) and cuts a long link in the content."""
    fake, connector = masto
    (mention,) = _masto_mentions(fake, connector, "Où trouver le calendrier ?")
    html = ('<p><span class="h-card" translate="no"><a href="https://mastodon.example/@camille" '
            'class="u-url mention">@<span>camille</span></a></span> Le calendrier : <a href="' + LONG + '" '
            'target="_blank" rel="nofollow noopener" translate="no"><span class="invisible">https://www.</span>'
            '<span class="ellipsis">ville-test.fr/actualites/2026/</span><span class="invisible">collecte-des-'
            'encombrants-quartier-nord</span></a> <a href="https://social.ville-test.fr/tags/proprete" '
            'class="mention hashtag" rel="tag">#<span>proprete</span></a></p>')
    status = fake.status("", author=(fake.me["id"], fake.me["acct"], fake.me["display_name"]),
                         reply_to=mention.platform_id, content=html)
    found = connector.find_reply(mention, f"Le calendrier : {LONG} #proprete", since=mention.created_at)
    assert found is not None and found.platform_id == status["id"]


def test_mastodon_matches_only_the_same_mention_and_the_same_text(masto):
    fake, connector = masto
    first, second = _masto_mentions(fake, connector, "Collecte rue Hoche ?", "Collecte rue Kléber ?")
    connector.reply(second, TEXT)  # the same text, to another mention
    connector.reply(first, "Bonjour, nous vérifions et revenons vers vous.")  # this mention, another text
    assert connector.find_reply(first, TEXT, since=first.created_at) is None


def test_mastodon_stops_at_statuses_older_than_since(masto):
    fake, connector = masto
    (mention,) = _masto_mentions(fake, connector, "Piscine fermée ?")
    connector.reply(mention, TEXT)
    later = datetime.now(UTC) + timedelta(minutes=1)  # the fake's statuses are all older
    assert connector.find_reply(mention, TEXT, since=later) is None


def test_mastodon_cannot_tell_when_the_page_budget_runs_out(masto):
    fake, connector = masto
    (mention,) = _masto_mentions(fake, connector, "Marché de Noël ?")
    connector.reply(mention, TEXT)
    for i in range(41):  # one full page (40) of newer statuses, and more
        connector.publish(f"Annonce {i}")
    with pytest.raises(Unavailable):
        connector.find_reply(mention, TEXT, since=mention.created_at, max_pages=1)
    assert connector.find_reply(mention, TEXT, since=mention.created_at, max_pages=2) is not None


def test_mastodon_malformed_page_is_malformed_payload(masto):
    fake, connector = masto
    (mention,) = _masto_mentions(fake, connector, "Horaires ?")
    fake.fail("statuses", 200, {"error": "not a list"})
    with pytest.raises(MalformedPayload):
        connector.find_reply(mention, TEXT, since=mention.created_at)


def test_mastodon_an_unreadable_status_on_the_way_means_cannot_tell(masto):
    fake, connector = masto
    (mention,) = _masto_mentions(fake, connector, "Horaires ?")
    connector.reply(mention, "Une autre réponse")
    fake.fail("statuses", 200, [{"id": "1", "content": "<p>sans date ni compte</p>"}])
    with pytest.raises(Unavailable):
        connector.find_reply(mention, TEXT, since=mention.created_at)


# ---- Bluesky -----------------------------------------------------------------------------------------------

@pytest.fixture
def sky(httpserver, tmp_path) -> tuple[FakeBlueskyApi, BlueskyConnector]:
    fake = FakeBlueskyApi()
    base = fake.install(httpserver)
    return fake, BlueskyConnector(handle=fake.account_handle, app_password=fake.password, base_url=base,
                                  session_path=tmp_path / "bluesky.session", backoff=0)


def _sky_mentions(fake: FakeBlueskyApi, connector: BlueskyConnector, *texts: str):
    for text in texts:
        fake.post(f"@{fake.account_handle} {text}")
    found = {m.text: m for m in connector.fetch(None).mentions}
    return [found[f"@{fake.account_handle} {text}"] for text in texts]


def test_bluesky_finds_the_reply_it_sent(sky):
    fake, connector = sky
    (mention,) = _sky_mentions(fake, connector, "Quand passe la collecte ?")
    sent = connector.reply(mention, TEXT)
    fake.own_post("Une annonce publiée depuis")  # newer, not a reply
    assert connector.find_reply(mention, TEXT, since=EPOCH) == sent
    listed = fake.calls("listRecords")[-1].args
    assert listed["repo"] == fake.did and listed["collection"] == "app.bsky.feed.post"


def test_bluesky_matches_only_the_same_mention_and_the_same_text(sky):
    fake, connector = sky
    first, second = _sky_mentions(fake, connector, "Collecte rue Hoche ?", "Collecte rue Kléber ?")
    connector.reply(second, TEXT)
    connector.reply(first, "Bonjour, nous vérifions et revenons vers vous.")
    assert connector.find_reply(first, TEXT, since=EPOCH) is None


def test_bluesky_stops_at_posts_older_than_since(sky):
    fake, connector = sky
    (mention,) = _sky_mentions(fake, connector, "Piscine fermée ?")
    connector.reply(mention, TEXT)
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert connector.find_reply(mention, TEXT, since=later) is None
    assert len(fake.calls("listRecords")) == 1


def test_bluesky_cannot_tell_when_the_page_budget_runs_out(sky):
    fake, connector = sky
    (mention,) = _sky_mentions(fake, connector, "Marché de Noël ?")
    connector.reply(mention, TEXT)
    for i in range(100):  # a full page (100) of newer posts
        fake.own_post(f"Annonce {i}")
    with pytest.raises(Unavailable):
        connector.find_reply(mention, TEXT, since=EPOCH, max_pages=1)
    assert connector.find_reply(mention, TEXT, since=EPOCH, max_pages=2) is not None


def test_bluesky_malformed_page_is_malformed_payload(sky):
    fake, connector = sky
    (mention,) = _sky_mentions(fake, connector, "Horaires ?")
    fake.fail("listRecords", 200, {"cursor": "1"})
    with pytest.raises(MalformedPayload):
        connector.find_reply(mention, TEXT, since=EPOCH)
