"""Instagram connector against the fake Graph API: comments and replies, Instagram's reply rules, moderation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from connectors.instagram.connector import InstagramConnector, from_settings
from core.errors import AuthFailed, MalformedPayload, PermanentFailure, RateLimited, Unsupported
from tests.fakes import FakeInstagramApi


@pytest.fixture
def fake(httpserver) -> FakeInstagramApi:
    fake = FakeInstagramApi(start=datetime.now(UTC) - timedelta(hours=3))
    fake.install(httpserver)
    return fake


def connect(fake: FakeInstagramApi, **kwargs) -> InstagramConnector:
    return InstagramConnector(ig_user_id=fake.ig_user_id, access_token=fake.token, base_url=fake.base, backoff=0,
                              **kwargs)


def by_text(result) -> dict:
    return {m.text: m for m in result.mentions}


def test_comments_and_replies_across_media_pages(fake):
    for i in range(3):
        media = fake.add_media(f"Photo {i}")
        top = fake.add_comment(media, f"Bravo {i} 👏")
        fake.add_comment(media, f"Merci {i}", parent=top, by=("17841400000000888", "dom"))
    result = connect(fake, media_limit=2).fetch(None)
    mentions = by_text(result)
    assert sorted(mentions) == sorted([f"Bravo {i} 👏" for i in range(3)] + [f"Merci {i}" for i in range(3)])
    reply = mentions["Merci 0"]
    assert reply.kind == "reply" and reply.in_reply_to == mentions["Bravo 0 👏"].platform_id
    assert reply.conversation_id == mentions["Bravo 0 👏"].conversation_id
    assert len(fake.calls(r"/media$")) == 2  # the media edge was paged


def test_the_cursor_brings_nothing_twice_and_notes_edits_and_hiding(fake):
    media = fake.add_media("Photo")
    first = fake.add_comment(media, "Premier")
    connector = connect(fake)
    state = connector.fetch(None)
    assert connector.fetch(state.cursor).mentions == []
    fake.add_comment(media, "Deuxième")
    fake.comments[first]["text"] = "Premier (modifié)"
    fake.comments[first]["hidden"] = True  # hidden from the Instagram app
    again = connector.fetch(state.cursor)
    assert sorted(by_text(again)) == ["Deuxième", "Premier (modifié)"]
    assert [(c.uid, c.change) for c in again.changes] == [(f"instagram:{first}", "hidden")]


def test_the_account_own_replies_are_not_mentions(fake):
    media = fake.add_media("Photo")
    top = fake.add_comment(media, "Question ?")
    fake.add_comment(media, "Réponse de la ville", parent=top, by=(fake.ig_user_id, fake.username))
    assert list(by_text(connect(fake).fetch(None))) == ["Question ?"]


def test_reply_only_to_visible_top_level_comments(fake):
    media = fake.add_media("Photo")
    top = fake.add_comment(media, "Horaires ?")
    fake.add_comment(media, "Moi aussi je veux savoir", parent=top, by=("17841400000000888", "dom"))
    fake.add_comment(media, "Commentaire masqué", hidden=True)
    connector = connect(fake)
    mentions = by_text(connector.fetch(None))
    published = connector.reply(mentions["Horaires ?"], "De 9 h à 18 h. — Julie, Ville de Test")
    assert published.platform_id and fake.replies == [(top, "De 9 h à 18 h. — Julie, Ville de Test")]
    with pytest.raises(PermanentFailure, match="top-level"):
        connector.reply(mentions["Moi aussi je veux savoir"], "Réponse")
    with pytest.raises(PermanentFailure, match="hidden"):
        connector.reply(mentions["Commentaire masqué"], "Réponse")
    assert len(fake.replies) == 1  # nothing else was sent


def test_a_comment_hidden_after_the_sync_is_checked_live(fake):
    media = fake.add_media("Photo")
    comment = fake.add_comment(media, "Visible à la relève")
    connector = connect(fake)
    mention = connector.fetch(None).mentions[0]
    fake.comments[comment]["hidden"] = True
    with pytest.raises(PermanentFailure, match="hidden"):
        connector.reply(mention, "Réponse")


def test_hide_unhide_delete(fake):
    media = fake.add_media("Photo")
    comment = fake.add_comment(media, "Spam")
    connector = connect(fake)
    mention = connector.fetch(None).mentions[0]
    connector.hide(mention)
    assert fake.comments[comment]["hidden"] is True
    connector.unhide(mention)
    assert fake.comments[comment]["hidden"] is False
    connector.delete(comment)
    assert fake.deleted == [comment]


def test_errors_expired_token_rate_limit_malformed(fake):
    media = fake.add_media("Photo")
    fake.add_comment(media, "Bonjour")
    bad = InstagramConnector(ig_user_id=fake.ig_user_id, access_token="expired", base_url=fake.base, backoff=0)
    with pytest.raises(AuthFailed):
        bad.fetch(None)
    assert not bad.health().ok
    fake.fail("comments", 400, {"error": {"code": 4, "message": "Application request limit reached"}})
    with pytest.raises(RateLimited):
        connect(fake).fetch(None)
    fake.fail("media", 200, {"data": "oops"})
    with pytest.raises(MalformedPayload):
        connect(fake).fetch(None)


def test_a_malformed_comment_is_skipped(fake):
    media = fake.add_media("Photo")
    fake.add_comment(media, "Bien")
    broken = fake.add_comment(media, "x")
    del fake.comments[broken]["text"]
    result = connect(fake).fetch(None)
    assert list(by_text(result)) == ["Bien"] and len(result.skipped) == 1


PUBLIC = "https://www.ville-test.fr/parvis-media"


def publisher(fake: FakeInstagramApi, **kwargs) -> InstagramConnector:
    return connect(fake, media_base_url=PUBLIC + "/", sleep=lambda _s: None, **kwargs)


def test_an_image_post_goes_through_a_container_with_alt_text(fake, image):
    photo = image("marche.jpg", alt="Les chalets du marché de Noël illuminés")
    photo["user_tags"] = [{"username": "comite.des.fetes", "x": 0.4, "y": 0.6}]
    fake.processing_polls = 2
    published = publisher(fake).publish("Le marché de Noël ouvre samedi ! Merci @comite.des.fetes", media=[photo])
    container = fake.published[0]
    assert container["image_url"] == f"{PUBLIC}/{photo['path'].rsplit('/', 1)[-1]}"
    assert container["alt_text"] == "Les chalets du marché de Noël illuminés"
    assert container["caption"] == "Le marché de Noël ouvre samedi ! Merci @comite.des.fetes"
    assert json.loads(container["user_tags"]) == [{"username": "comite.des.fetes", "x": 0.4, "y": 0.6}]
    assert len(fake.calls(r"/\d+$", "GET")) >= 3  # polled while IN_PROGRESS, then FINISHED, then the permalink
    assert published.platform_id in fake.media
    assert published.permalink == fake.media[published.platform_id]["permalink"]


def test_several_images_become_a_carousel_each_with_its_alt_text(fake, image):
    photos = [image("a.jpg", alt="La façade de la médiathèque rénovée"), image("b.jpg", alt="La salle de lecture")]
    publisher(fake).publish("La médiathèque rouvre", media=photos)
    parent = fake.published[0]
    children = [fake.containers[c] for c in parent["children"].split(",")]
    assert parent["media_type"] == "CAROUSEL" and parent["caption"] == "La médiathèque rouvre"
    assert [(c["is_carousel_item"], c["alt_text"]) for c in children] == [
        ("true", "La façade de la médiathèque rénovée"), ("true", "La salle de lecture")]


def test_what_instagram_cannot_publish_is_refused_clearly_before_any_call(fake, image):
    with pytest.raises(PermanentFailure, match="text-only"):
        publisher(fake).publish("Juste du texte")
    with pytest.raises(PermanentFailure, match="PARVIS_MEDIA_BASE_URL"):
        connect(fake).publish("Photo", media=[image("a.jpg")])
    with pytest.raises(PermanentFailure, match="affiche.png.*JPEG"):
        publisher(fake).publish("Photo", media=[image("affiche.png")])
    with pytest.raises(Unsupported):
        publisher(fake).publish("Plus tard", media=[image("a.jpg")], scheduled_at=datetime.now(UTC))
    assert not fake.requests


def test_a_failed_or_expired_container_is_a_permanent_failure(fake, image):
    fake.final_status = "ERROR"
    with pytest.raises(PermanentFailure, match="ERROR"):
        publisher(fake).publish("Photo", media=[image("a.jpg")])
    assert not fake.published


def test_the_publishing_quota_is_read_and_respected(fake, image):
    fake.quota_total = 1
    connector = publisher(fake)
    connector.publish("Première", media=[image("a.jpg")])
    with pytest.raises(RateLimited, match="1/1"):
        connector.publish("Seconde", media=[image("a.jpg")])
    assert len(fake.containers) == 1  # no container created once the quota is used up


def test_a_lost_publish_answer_is_found_by_its_caption(fake, image):
    connector = publisher(fake)
    since = datetime.now(UTC) - timedelta(days=1)
    assert connector.find_published("Fête de la musique", since) is None
    published = connector.publish("Fête de la musique", media=[image("a.jpg")])
    assert connector.find_published("Fête de la musique", since) == published


def test_from_settings():
    values = {"PARVIS_IG_USER_ID": "178", "PARVIS_IG_ACCESS_TOKEN": "tok", "PARVIS_IG_LOOKBACK_DAYS": "3",
              "PARVIS_MEDIA_BASE_URL": "https://example.fr/media"}
    connector = from_settings(values.get)
    assert connector.lookback.days == 3 and "tok" not in repr(connector)
    assert connector._publisher.media_base_url == "https://example.fr/media"
