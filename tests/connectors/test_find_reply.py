"""``find_reply`` of the Mastodon, Bluesky and Facebook connectors against their fakes: after an uncertain reply, the
reply outbox asks whether our reply to a mention is on the platform (found), certainly absent (None), or cannot tell."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.bluesky.connector import BlueskyConnector
from connectors.facebook.connector import FacebookConnector
from connectors.mastodon.connector import MastodonConnector
from core.errors import AuthFailed, MalformedPayload, RateLimited, Unavailable
from tests.connectors.conftest import load_fixture
from tests.fakes import FakeBlueskyApi, FakeGraphApi, FakeMastodonApi

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


# ---- Facebook ----------------------------------------------------------------------------------------------

CAMILLE, LEA = ("6100001", "Camille Martin"), ("6100042", "Léa Roux")


def _fb_mentions(fake: FakeGraphApi, connector: FacebookConnector, *items: tuple[str, str | None]):
    """Mentions synced from the fake: ``(text, parent comment id or None)`` on one Page post."""
    post = fake.add_post("Collecte des encombrants")
    ids = [fake.add_comment(post, text, author=CAMILLE, parent=parent) for text, parent in items]
    found = {m.platform_id: m for m in connector.fetch(None).mentions}
    return post, [found[i] for i in ids]


def test_facebook_finds_the_reply_it_sent_under_the_comment(fake_graph, fb_connector):
    _, (mention,) = _fb_mentions(fake_graph, fb_connector, ("Quand passe la collecte ?", None))
    sent = fb_connector.reply(mention, TEXT)
    fake_graph.add_comment(mention.conversation_id, "Merci !", author=LEA, parent=mention.platform_id)  # newer
    found = fb_connector.find_reply(mention, TEXT, since=mention.created_at)
    assert found is not None and found.platform_id == sent.platform_id
    assert found.permalink == fake_graph.comments[sent.platform_id]["permalink_url"]
    (read,) = fake_graph.calls(rf"/{mention.platform_id}/comments$", "GET")
    assert read.args["order"] == "reverse_chronological" and "Bearer" in read.headers["Authorization"]


def test_facebook_looks_where_reply_wrote_for_a_reply_and_a_visitor_post(fake_graph, fb_connector):
    """A reply to a reply is written in its thread (under the first comment); a visitor post gets a comment."""
    top = fake_graph.add_comment(fake_graph.add_post("Travaux"), "Et le bus ?", author=LEA)
    fake_graph.add_post("Quand ouvre la patinoire ?", author=CAMILLE)
    _, (answer,) = _fb_mentions(fake_graph, fb_connector, ("Moi aussi je me pose la question", top))
    visitor = next(m for m in fb_connector.fetch(None).mentions if m.kind == "mention")
    for mention in (answer, visitor):
        sent = fb_connector.reply(mention, TEXT)
        found = fb_connector.find_reply(mention, TEXT, since=mention.created_at)
        assert found is not None and found.platform_id == sent.platform_id
    assert fake_graph.calls(rf"/{top}/comments$", "GET") and fake_graph.calls(rf"/{visitor.platform_id}/comments$")


def test_facebook_ignores_spacing_but_not_the_author_nor_the_text(fake_graph, fb_connector):
    post, (first, second) = _fb_mentions(fake_graph, fb_connector, ("Rue Hoche ?", None), ("Rue Kléber ?", None))
    fake_graph.add_comment(post, TEXT, author=LEA, parent=first.platform_id)  # the same text, not by the Page
    fb_connector.reply(first, "Bonjour, nous vérifions et revenons vers vous.")  # by the Page, another text
    fb_connector.reply(second, TEXT)  # the same text, under another comment
    assert fb_connector.find_reply(first, TEXT, since=first.created_at) is None
    spaced = fake_graph.add_comment(post, TEXT.replace(" ", "  ") + "\n", parent=first.platform_id,
                                    author=(fake_graph.page_id, fake_graph.page_name))
    found = fb_connector.find_reply(first, TEXT, since=first.created_at)
    assert found is not None and found.platform_id == spaced


def test_facebook_stops_at_comments_older_than_since(fake_graph, fb_connector):
    _, (mention,) = _fb_mentions(fake_graph, fb_connector, ("Piscine fermée ?", None))
    fb_connector.reply(mention, TEXT)
    later = datetime.now(UTC) + timedelta(minutes=1)  # the fake's comments are all older
    assert fb_connector.find_reply(mention, TEXT, since=later) is None


def test_facebook_cannot_tell_when_the_page_budget_runs_out(fake_graph, fb_connector):
    post, (mention,) = _fb_mentions(fake_graph, fb_connector, ("Marché de Noël ?", None))
    fb_connector.reply(mention, TEXT)
    for i in range(100):  # a full page (100) of newer replies in the thread
        fake_graph.add_comment(post, f"Moi aussi {i}", author=LEA, parent=mention.platform_id)
    with pytest.raises(Unavailable):
        fb_connector.find_reply(mention, TEXT, since=mention.created_at, max_pages=1)
    assert fb_connector.find_reply(mention, TEXT, since=mention.created_at, max_pages=2) is not None


def test_facebook_an_unreadable_or_unordered_answer_means_cannot_tell(fake_graph, fb_connector):
    _, (mention,) = _fb_mentions(fake_graph, fb_connector, ("Horaires ?", None))
    now = datetime.now(UTC)
    ours_hidden = {"id": "1_2", "message": TEXT, "created_time": now.strftime("%Y-%m-%dT%H:%M:%S+0000")}
    fake_graph.fail("comments", 200, {"data": [ours_hidden]})  # our text, no author shown
    with pytest.raises(Unavailable):
        fb_connector.find_reply(mention, TEXT, since=mention.created_at)
    oldest_first = [{"id": f"1_{i}", "message": "Autre", "from": {"id": "6100042", "name": "Léa"},
                     "created_time": (now - timedelta(minutes=9 - i)).strftime("%Y-%m-%dT%H:%M:%S+0000")}
                    for i in range(2)]
    fake_graph.fail("comments", 200, {"data": oldest_first})  # Graph ignoring the order asked for
    with pytest.raises(Unavailable):
        fb_connector.find_reply(mention, TEXT, since=mention.created_at)


def test_facebook_malformed_answer_is_malformed_payload(fake_graph, fb_connector):
    _, (mention,) = _fb_mentions(fake_graph, fb_connector, ("Horaires ?", None))
    for body in ({"data": {"id": "1_2"}}, {"paging": {"cursors": {"after": "QQ"}}}):
        fake_graph.fail("comments", 200, body)
        with pytest.raises(MalformedPayload):
            fb_connector.find_reply(mention, TEXT, since=mention.created_at)


def test_facebook_expired_token_and_rate_limit_are_the_connector_errors(fake_graph, fb_connector):
    _, (mention,) = _fb_mentions(fake_graph, fb_connector, ("Horaires ?", None))
    fake_graph.fail("comments", 400, load_fixture("facebook/error_190_expired.json"))
    with pytest.raises(AuthFailed):
        fb_connector.find_reply(mention, TEXT, since=mention.created_at)
    fake_graph.fail("comments", 403, load_fixture("facebook/error_32_page_limit.json"))
    with pytest.raises(RateLimited):
        fb_connector.find_reply(mention, TEXT, since=mention.created_at)
    assert fb_connector.rate_limited_until() is not None
