"""Instagram API with Instagram Login (``PARVIS_IG_LOGIN=instagram``): the host, ``/me``, the Instagram User
token, and photo tags declared unavailable rather than read as empty (docs/decisions/0190). The shared behaviour
runs in the contract suite for both logins (tests/connectors/test_contract.py, ``instagram-login``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors import registry
from connectors.instagram.connector import INSTAGRAM_LOGIN_BASE, InstagramConnector, from_settings
from core.config import Settings
from core.errors import ConfigError, PermanentFailure
from tests.fakes import FakeInstagramApi


@pytest.fixture
def fake(httpserver) -> FakeInstagramApi:
    fake = FakeInstagramApi(start=datetime.now(UTC) - timedelta(hours=3), login="instagram")
    fake.install(httpserver)
    return fake


def connect(fake: FakeInstagramApi, **kwargs) -> InstagramConnector:
    return InstagramConnector(ig_user_id=fake.ig_user_id, access_token=fake.token, base_url=fake.base, backoff=0,
                              login="instagram", **kwargs)


def _settings(tmp_path: Path, **values: str) -> Settings:
    return Settings(data_dir=tmp_path, db_path=tmp_path / "p.db", values=dict(values))


def test_comments_and_replies_read_on_the_versioned_host_with_the_user_token_and_no_tags_asked(fake):
    media = fake.add_media("Marché de Noël")
    top = fake.add_comment(media, "Quels horaires ?")
    fake.add_comment(media, "De 10 h à 19 h", parent=top, by=("17841400000000888", "dom"))
    fake.add_tag("Merci @villedetest")  # exists on Instagram, but Instagram Login has no edge to read it
    result = connect(fake).fetch(None)
    assert sorted(m.text for m in result.mentions) == ["De 10 h à 19 h", "Quels horaires ?"]
    assert not result.notes and not result.skipped
    assert fake.calls(r"/tags$") == []  # declared unavailable: never asked, never "0 tags"
    assert all(c.path.startswith(f"/{fake.version}/") for c in fake.requests)
    assert all(c.headers.get("Authorization") == "Bearer IGAA-USER-TOKEN" for c in fake.requests)
    assert all("access_token" not in c.query for c in fake.requests)


def test_replies_hides_and_deletes_as_with_facebook_login(fake):
    media = fake.add_media("Travaux")
    comment = fake.add_comment(media, "Jusqu'à quand ?")
    connector = connect(fake)
    mention = connector.fetch(None).mentions[0]
    assert connector.reply(mention, "Jusqu'au 12 décembre.").platform_id
    connector.hide(mention)
    assert fake.comments[comment]["hidden"] is True
    connector.delete(comment)
    assert fake.deleted == [comment] and fake.replies == [(comment, "Jusqu'au 12 décembre.")]


def test_health_reads_me_and_checks_it_is_the_configured_account(fake):
    health = connect(fake).health()
    assert health.ok and health.account == "@villedetest" and "Instagram Login" in health.detail
    [call] = fake.calls(r"/me$")
    assert set(call.args["fields"].split(",")) == {"user_id", "username"}
    other = InstagramConnector(ig_user_id="17841499999999999", access_token=fake.token, base_url=fake.base,
                               backoff=0, login="instagram").health()
    assert not other.ok and fake.ig_user_id in other.detail and "PARVIS_IG_USER_ID" in other.detail


def test_a_facebook_login_connector_on_the_instagram_host_says_tags_were_refused(fake):
    """The two shapes are not interchangeable: Facebook Login asks for ``/tags``, which Instagram Login lacks."""
    fake.add_media("Photo")
    connector = InstagramConnector(ig_user_id=fake.ig_user_id, access_token=fake.token, base_url=fake.base,
                                   backoff=0)
    result = connector.fetch(None)
    assert result.notes and "photo tags not read" in result.notes[0]


def test_unknown_login_is_a_config_error():
    with pytest.raises(ConfigError, match="facebook, instagram"):
        InstagramConnector(ig_user_id="1", access_token="t", login="threads")


def test_from_settings_picks_the_host_by_login(tmp_path):
    base = {"PARVIS_IG_USER_ID": "178", "PARVIS_IG_ACCESS_TOKEN": "tok"}
    facebook = from_settings(_settings(tmp_path, **base))
    assert facebook.login == "facebook" and facebook._graph.session.default_host == "https://graph.facebook.com"
    instagram = from_settings(_settings(tmp_path, **base, PARVIS_IG_LOGIN="instagram"))
    assert instagram.login == "instagram" and instagram._graph.session.default_host == INSTAGRAM_LOGIN_BASE
    assert instagram._graph.version == "v24.0"  # versioned, like graph.facebook.com
    proxied = from_settings(_settings(tmp_path, **base, PARVIS_IG_LOGIN="instagram",
                                      PARVIS_IG_API_BASE="https://proxy.ville-test.fr/ig/"))
    assert proxied._graph.session.default_host == "https://proxy.ville-test.fr/ig"
    with pytest.raises(ConfigError):
        from_settings(_settings(tmp_path, **base, PARVIS_IG_LOGIN="page"))


def test_registry_declares_what_instagram_login_cannot_read(tmp_path):
    base = {"PARVIS_IG_USER_ID": "178", "PARVIS_IG_ACCESS_TOKEN": "tok"}
    by_name = {e.name: e for e in registry.entries(_settings(tmp_path, **base))}
    assert by_name["instagram"].unavailable == ()
    by_name = {e.name: e for e in registry.entries(_settings(tmp_path, **base, PARVIS_IG_LOGIN="instagram"))}
    assert by_name["instagram"].unavailable == ("instagram_tags",) and by_name["instagram"].enabled
    assert "PARVIS_IG_LOGIN" in by_name["instagram"].settings_keys
    built = registry.build(_settings(tmp_path, **base, PARVIS_IG_LOGIN="instagram"), "instagram")
    assert isinstance(built, InstagramConnector) and built.unavailable == ("instagram_tags",)


def test_a_permission_refusal_names_the_instagram_business_permission(fake):
    from tests.fakes.graph_api import graph_error

    fake.add_comment(fake.add_media("Photo"), "Bonjour")
    fake.fail("comments", 403, graph_error(10, "Application does not have permission for this action"))
    with pytest.raises(PermanentFailure, match="instagram_business_manage_comments"):
        connect(fake).fetch(None)
    fake.fail("container", 403, graph_error(200, "Permissions error"))
    with pytest.raises(PermanentFailure, match="instagram_business_content_publish"):
        connect(fake, media_base_url="https://www.ville-test.fr/m")._publisher._write(
            "POST /{page}/media", "media", {"image_url": "https://www.ville-test.fr/m/a.jpg"})
