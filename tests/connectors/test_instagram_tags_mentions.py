"""Instagram tags (polled from /{ig-user}/tags) and @mentions (read from a webhook payload) reach the inbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.instagram.connector import InstagramConnector
from core.errors import AuthFailed, Unsupported
from tests.fakes import FakeInstagramApi


@pytest.fixture
def fake(httpserver) -> FakeInstagramApi:
    fake = FakeInstagramApi(start=datetime.now(UTC) - timedelta(hours=3))
    fake.install(httpserver)
    return fake


def connect(fake: FakeInstagramApi, **kwargs) -> InstagramConnector:
    return InstagramConnector(ig_user_id=fake.ig_user_id, access_token=fake.token, base_url=fake.base, backoff=0,
                              **kwargs)


def envelope(fake: FakeInstagramApi, *values: dict) -> dict:
    return {"object": "instagram", "entry": [{"id": fake.ig_user_id, "time": 1767600000,
                                              "changes": [{"field": "mentions", "value": v} for v in values]}]}


def test_photos_where_the_account_is_tagged_become_tag_mentions(fake):
    tag = fake.add_tag("Nettoyage des berges avec @villedetest 💪", owner="asso.riviere")
    mention = connect(fake).fetch(None).mentions[0]
    assert (mention.kind, mention.platform_id, mention.text) == (
        "tag", tag, "Nettoyage des berges avec @villedetest 💪")
    assert mention.author.handle == "asso.riviere"
    assert mention.permalink == fake.tagged[tag]["permalink"]
    assert mention.created_at == datetime.fromisoformat(fake.tagged[tag]["timestamp"])
    assert mention.raw["media_url"] == fake.tagged[tag]["media_url"]


def test_tags_are_paged_and_a_malformed_one_is_skipped(fake):
    for i in range(5):
        fake.add_tag(f"Photo {i}")
    broken = fake.add_tag("sans date")
    del fake.tagged[broken]["timestamp"]
    fake.add_tag(None)  # a photo without caption is still a tag
    result = connect(fake, media_limit=2).fetch(None)
    assert sorted(m.text for m in result.mentions) == sorted(["", *(f"Photo {i}" for i in range(5))])
    assert len(fake.calls(r"/tags$")) == 4  # 7 tags, 2 per page
    assert len(result.skipped) == 1 and broken in result.skipped[0]


def test_a_second_sync_brings_only_new_tags_and_stops_paging_early(fake):
    for i in range(4):
        fake.add_tag(f"Ancienne {i}")
    connector = connect(fake, media_limit=2)
    first = connector.fetch(None)
    assert connector.fetch(first.cursor).mentions == []
    fake.add_tag("Nouvelle")
    before = len(fake.calls(r"/tags$"))
    again = connector.fetch(first.cursor)
    assert [m.text for m in again.mentions] == ["Nouvelle"]
    assert len(fake.calls(r"/tags$")) - before == 1  # the first page already reached tags read before


def test_tags_older_than_the_lookback_window_are_not_brought(fake):
    fake.add_tag("Vieille photo")
    fake.tagged[next(iter(fake.tagged))]["timestamp"] = (datetime.now(UTC) - timedelta(days=40)).strftime(
        "%Y-%m-%dT%H:%M:%S+0000")
    assert connect(fake).fetch(None).mentions == []


def test_a_tag_cannot_be_answered_hidden_or_deleted_through_the_api(fake):
    fake.add_tag("Merci @villedetest")
    connector = connect(fake)
    tag = connector.fetch(None).mentions[0]
    with pytest.raises(Unsupported, match="Instagram app"):
        connector.reply(tag, "Merci à vous !")
    with pytest.raises(Unsupported, match="Instagram app"):
        connector.hide(tag)
    assert not fake.calls(r"/mentions$") and not fake.calls(r"/replies$")


def test_comments_still_sync_when_tags_are_refused(fake, db):
    from core import repo
    from services.connections.ingest import sync_connector

    media = fake.add_media("Photo")
    fake.add_comment(media, "Bonjour")
    fake.fail("tags", 400, {"error": {"code": 10, "message": "(#10) Application does not have permission"}})
    connector = connect(fake)
    result = sync_connector(db, connector)
    assert result.inserted == 1 and repo.mention_count(db) == 1
    # the Connexions page shows why tags are missing (connector state's last error)
    assert "photo tags not read" in (repo.connector_health(db, connector.name).last_error or "")


def test_an_expired_token_on_tags_fails_the_sync(fake):
    fake.fail("tags", 400, {"error": {"code": 190, "message": "Session has expired", "error_subcode": 463}})
    with pytest.raises(AuthFailed):
        connect(fake).fetch(None)


def test_a_webhook_mention_in_a_comment_is_read_and_answered(fake):
    value = fake.add_mention("@villedetest le lampadaire rue Haute est en panne")
    connector = connect(fake)
    result = connector.mentions_from_webhook(envelope(fake, value))
    mention = result.mentions[0]
    assert (mention.kind, mention.platform_id, mention.text) == (
        "mention", value["comment_id"], "@villedetest le lampadaire rue Haute est en panne")
    assert mention.conversation_id == value["media_id"] and result.skipped == []
    assert mention.author.handle == "lecteur.local" and not mention.author.known  # a username, never an id
    published = connector.reply(mention, "Merci, c'est signalé aux services techniques.")
    assert published.platform_id
    assert fake.mention_replies == [{"media_id": value["media_id"], "comment_id": value["comment_id"],
                                     "message": "Merci, c'est signalé aux services techniques."}]


def test_a_webhook_mention_in_a_caption_is_read_with_its_owner(fake):
    value = fake.add_mention("Belle fête au parc avec villedetest", in_comment=False, owner="comite.fetes")
    connector = connect(fake)
    mention = connector.mentions_from_webhook(value).mentions[0]  # a relay may pass the bare value
    assert (mention.kind, mention.platform_id, mention.author.handle) == ("mention", value["media_id"],
                                                                          "comite.fetes")
    connector.reply(mention, "Merci !")
    assert fake.mention_replies == [{"media_id": value["media_id"], "message": "Merci !"}]


def test_unusable_webhook_changes_are_skipped_with_a_reason(fake):
    good = fake.add_mention("@villedetest bravo")
    payload = envelope(fake, good, {"comment_id": "1"}, {"media_id": "999", "comment_id": "404"})
    payload["entry"].append({"id": "someone-else", "changes": [{"field": "mentions", "value": good}]})
    payload["entry"][0]["changes"].append({"field": "comments", "value": {"id": "5", "text": "pas une mention"}})
    result = connect(fake).mentions_from_webhook(payload)
    assert [m.platform_id for m in result.mentions] == [good["comment_id"]]
    assert len(result.skipped) == 3  # no media_id, unknown comment, another account
