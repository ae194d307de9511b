"""Banning a mention's author and lifting the ban: Facebook's ``blocked`` edge, Mastodon blocks, Bluesky block
records, each against its fake server; errors translated, permissions named."""

from __future__ import annotations

import pytest

from connectors.bluesky.connector import BlueskyConnector
from connectors.mastodon.connector import MastodonConnector
from core.errors import AuthFailed, MalformedPayload, PermanentFailure, RateLimited
from core.models import Author
from tests.connectors.conftest import load_fixture
from tests.fakes import FakeBlueskyApi, FakeMastodonApi
from tests.fakes.graph_api import graph_error

CITIZEN = ("6100001", "Camille Martin")


def _fb_mention(fake_graph, fb_connector):
    post = fake_graph.add_post("Fermeture de la piscine")
    fake_graph.add_comment(post, "Bande d'incapables", author=CITIZEN)
    return fb_connector.fetch(None).mentions[0]


def test_facebook_ban_posts_to_the_blocked_edge_and_unban_deletes(fake_graph, fb_connector):
    author = _fb_mention(fake_graph, fb_connector).author
    assert author.platform_id == CITIZEN[0]
    fb_connector.ban(author)
    assert fake_graph.blocked == {CITIZEN[0]: CITIZEN[1]}
    [call] = fake_graph.calls(rf"/{fake_graph.page_id}/blocked$", "POST")
    assert call.form == {"user": CITIZEN[0]} and "access_token" not in call.args
    fb_connector.unban(author)
    assert fake_graph.blocked == {}
    [call] = fake_graph.calls(rf"/{fake_graph.page_id}/blocked$", "DELETE")
    assert call.args == {"user": CITIZEN[0]}


def test_facebook_unban_of_someone_no_longer_blocked_is_done(fake_graph, fb_connector):
    author = _fb_mention(fake_graph, fb_connector).author
    fb_connector.unban(author)  # Graph answers #100; the blocked list says they are not there
    assert fake_graph.calls(rf"/{fake_graph.page_id}/blocked$", "GET")[0].args["user"] == CITIZEN[0]


def test_facebook_unban_refused_while_still_blocked_is_an_error(fake_graph, fb_connector):
    author = _fb_mention(fake_graph, fb_connector).author
    fb_connector.ban(author)
    fake_graph.fail("unblock", 400, graph_error(100, "(#100) Invalid parameter"))
    with pytest.raises(PermanentFailure, match="#100"):
        fb_connector.unban(author)
    assert CITIZEN[0] in fake_graph.blocked


def test_facebook_ban_without_permission_names_the_permission(fake_graph, fb_connector):
    author = _fb_mention(fake_graph, fb_connector).author
    fake_graph.fail("block", 403, load_fixture("facebook/error_200_permission.json"))
    with pytest.raises(PermanentFailure) as err:
        fb_connector.ban(author)
    assert "#200" in str(err.value) and "pages_manage_engagement" in str(err.value)
    assert "MODERATE" in str(err.value) and fake_graph.token not in str(err.value)
    assert fake_graph.blocked == {}


def test_facebook_ban_errors_are_translated(fake_graph, fb_connector):
    author = _fb_mention(fake_graph, fb_connector).author
    fake_graph.fail("block", 400, load_fixture("facebook/error_190_expired.json"))
    with pytest.raises(AuthFailed):
        fb_connector.ban(author)
    fake_graph.fail("block", 400, load_fixture("facebook/error_32_page_limit.json"))
    with pytest.raises(RateLimited):
        fb_connector.ban(author)
    fake_graph.fail("block", 200, {CITIZEN[0]: False})
    with pytest.raises(PermanentFailure, match="did not block"):
        fb_connector.ban(author)
    fake_graph.fail("block", 200, {"other": True})
    with pytest.raises(MalformedPayload):
        fb_connector.ban(author)
    assert fake_graph.blocked == {}


def test_facebook_author_without_id_cannot_be_banned(fake_graph, fb_connector):
    with pytest.raises(PermanentFailure, match="MODERATE"):
        fb_connector.ban(Author(platform_id="", handle="Anonyme"))
    assert not fake_graph.calls("/blocked$")


@pytest.fixture
def mastodon(httpserver) -> tuple[FakeMastodonApi, MastodonConnector]:
    fake = FakeMastodonApi()
    fake.install(httpserver)
    return fake, MastodonConnector(base_url=fake.base, access_token=fake.token, backoff=0)


def test_mastodon_ban_blocks_and_unban_unblocks_the_account(mastodon):
    fake, connector = mastodon
    fake.mention("Vous êtes des incapables")
    author = connector.fetch(None).mentions[0].author
    connector.ban(author)
    assert fake.blocked == [author.platform_id]
    connector.unban(author)
    assert fake.blocked == [] and len(fake.calls(r"/unblock$", "POST")) == 1


def test_mastodon_ban_failure_is_translated(mastodon):
    fake, connector = mastodon
    fake.mention("Message")
    author = connector.fetch(None).mentions[0].author
    fake.fail("block", 404, {"error": "Record not found"})
    with pytest.raises(PermanentFailure):
        connector.ban(author)
    assert fake.blocked == []


@pytest.fixture
def bluesky(httpserver, tmp_path) -> tuple[FakeBlueskyApi, BlueskyConnector]:
    fake = FakeBlueskyApi()
    base = fake.install(httpserver)
    return fake, BlueskyConnector(handle=fake.account_handle, app_password=fake.password, base_url=base,
                                  session_path=tmp_path / "bluesky.session", backoff=0)


def _blocks(fake: FakeBlueskyApi) -> list[dict]:
    return [r["value"] for uri, r in fake.records.items() if uri.startswith(f"at://{fake.did}/app.bsky.graph.block/")]


def test_bluesky_ban_creates_one_block_record_and_unban_deletes_it(bluesky):
    fake, connector = bluesky
    fake.post("@ville-test.bsky.social honte à vous")
    author = connector.fetch(None).mentions[0].author
    assert author.platform_id.startswith("did:")
    connector.ban(author)
    connector.ban(author)  # already blocked: no second record
    [block] = _blocks(fake)
    assert block["$type"] == "app.bsky.graph.block" and block["subject"] == author.platform_id
    assert block["createdAt"].endswith("Z")
    connector.unban(author)
    assert _blocks(fake) == []
    connector.unban(author)  # nothing left to delete
    assert len(fake.calls("deleteRecord")) == 1


def test_bluesky_finds_the_block_among_many(bluesky):
    fake, connector = bluesky
    target = Author(platform_id="did:plc:camille00000000000000000", handle="camille.bsky.social")
    fake.add_record(fake.did, "app.bsky.graph.block", {"$type": "app.bsky.graph.block",
                                                       "subject": target.platform_id, "createdAt": "x"})
    for i in range(150):  # newer blocks, listed first: the author's block is on the second page
        fake.add_record(fake.did, "app.bsky.graph.block", {"$type": "app.bsky.graph.block",
                                                           "subject": f"did:plc:other{i:020d}", "createdAt": "x"})
    connector.unban(target)
    assert len(_blocks(fake)) == 150 and target.platform_id not in {b["subject"] for b in _blocks(fake)}
    assert len(fake.calls("listRecords")) == 2


def test_bluesky_ban_refused_without_a_did(bluesky):
    fake, connector = bluesky
    with pytest.raises(PermanentFailure, match="DID"):
        connector.ban(Author(platform_id="camille", handle="camille"))
    assert _blocks(fake) == []
