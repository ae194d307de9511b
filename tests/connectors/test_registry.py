"""The registry builds what the settings enable and describes every connector for the "Connexions" page."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors import registry
from connectors.base import Capability
from core.config import Settings
from core.errors import ConfigError


def _settings(tmp_path: Path, **values: str) -> Settings:
    return Settings(data_dir=tmp_path, db_path=tmp_path / "p.db", values=dict(values))


def test_only_demo_without_credentials(tmp_path):
    connectors = registry.build_enabled(_settings(tmp_path))
    assert [c.name for c in connectors] == ["demo"]
    by_name = {e.name: e for e in registry.entries(_settings(tmp_path))}
    assert by_name["demo"].enabled and by_name["demo"].configured
    assert by_name["x"].missing == ("PARVIS_X_BEARER_TOKEN", "PARVIS_X_USER_ID") and not by_name["x"].enabled
    assert by_name["facebook"].missing == ("PARVIS_FB_PAGE_ID", "PARVIS_FB_PAGE_TOKEN")
    assert "PARVIS_X_CONSUMER_KEY" in by_name["x"].settings_keys
    assert Capability.NATIVE_SCHEDULE in by_name["facebook"].capabilities


def test_x_and_facebook_from_settings_with_their_base_urls(tmp_path):
    settings = _settings(tmp_path, PARVIS_X_BEARER_TOKEN="b", PARVIS_X_USER_ID="1000",
                         PARVIS_X_API_BASE="http://127.0.0.1:1", PARVIS_X_SEARCH_QUERY="#MaVille",
                         PARVIS_FB_PAGE_ID="5550001", PARVIS_FB_PAGE_TOKEN="t", PARVIS_GRAPH_API_VERSION="23.0",
                         PARVIS_GRAPH_API_BASE="http://127.0.0.1:2", PARVIS_DEMO="0")
    x, fb = registry.build_enabled(settings)
    assert (x.name, x.user_id, x.search_query, x.can_write) == ("x", "1000", "#MaVille", False)
    assert x._client.session.base_url == "http://127.0.0.1:1"
    assert (fb.name, fb.page_id, fb.version) == ("facebook", "5550001", "v23.0")
    assert fb._api.base_url == "http://127.0.0.1:2/"
    entry = {e.name: e for e in registry.entries(settings)}["x"]
    assert entry.enabled and entry.optional_missing == ("PARVIS_X_CONSUMER_KEY", "PARVIS_X_CONSUMER_SECRET",
                                                        "PARVIS_X_ACCESS_TOKEN", "PARVIS_X_ACCESS_TOKEN_SECRET")


def test_defaults_point_at_the_real_hosts(tmp_path):
    settings = _settings(tmp_path, PARVIS_X_BEARER_TOKEN="b", PARVIS_X_ACCESS_TOKEN="4242-abc",
                         PARVIS_FB_PAGE_ID="1", PARVIS_FB_PAGE_TOKEN="t")
    x = registry.build(settings, "x")
    fb = registry.build(settings, "facebook")
    assert x.user_id == "4242"  # from the user-context access token
    assert x._client.session.base_url == "https://api.x.com"
    assert fb._api.base_url == "https://graph.facebook.com/" and fb.version >= "v22.0"


def test_build_names_what_is_missing(tmp_path):
    with pytest.raises(ConfigError, match="PARVIS_FB_PAGE_TOKEN"):
        registry.build(_settings(tmp_path, PARVIS_FB_PAGE_ID="1"), "facebook")
    with pytest.raises(ConfigError, match="PARVIS_MASTODON_ACCESS_TOKEN"):
        registry.build(_settings(tmp_path, PARVIS_MASTODON_BASE_URL="https://mastodon.example"), "mastodon")
    with pytest.raises(ConfigError, match="unknown connector 'myspace'"):
        registry.build(_settings(tmp_path), "myspace")


def test_entries_never_expose_secret_values(tmp_path):
    settings = _settings(tmp_path, PARVIS_X_BEARER_TOKEN="super-secret-bearer", PARVIS_X_USER_ID="1")
    assert "super-secret-bearer" not in repr(registry.entries(settings))
    assert "super-secret-bearer" not in repr(registry.build_enabled(settings))


def test_settings_loaded_from_the_environment_reach_the_connectors(tmp_path):
    env = {"PARVIS_X_BEARER_TOKEN": "b", "PARVIS_X_USER_ID": "1000", "PARVIS_CONNECTOR_RETRIES": "0",
           "PARVIS_CONNECTOR_BACKOFF_S": "0.01", "PARVIS_HTTP_TIMEOUT_S": "3", "PARVIS_FB_PAGE_ID": "1",
           "PARVIS_FB_PAGE_TOKEN": "t", "PARVIS_FB_LOOKBACK_DAYS": "2", "PARVIS_DATA_DIR": str(tmp_path)}
    demo, x, fb = registry.build_enabled(Settings.load(env=env, cwd=tmp_path))
    assert demo.name == "demo"
    assert (x.retries, x.backoff, x._client.session.timeout) == (0, 0.01, 3.0)
    assert fb.lookback.days == 2 and fb.retries == 0
    with pytest.raises(ConfigError, match="PARVIS_CONNECTOR_RETRIES"):
        registry.build(Settings.load(env={**env, "PARVIS_CONNECTOR_RETRIES": "deux"}, cwd=tmp_path), "x")


def test_the_public_media_address_is_checked_and_reaches_instagram(tmp_path):
    env = {"PARVIS_DATA_DIR": str(tmp_path), "PARVIS_IG_USER_ID": "178", "PARVIS_IG_ACCESS_TOKEN": "tok"}
    entry = next(e for e in registry.entries(Settings.load(env=env, cwd=tmp_path)) if e.name == "instagram")
    assert entry.enabled and entry.optional_missing == ("PARVIS_MEDIA_BASE_URL",)
    settings = Settings.load(env={**env, "PARVIS_MEDIA_BASE_URL": "https://ville.fr/media/"}, cwd=tmp_path)
    assert settings.media_base_url == "https://ville.fr/media"
    assert registry.build(settings, "instagram")._publisher.media_base_url == "https://ville.fr/media"
    with pytest.raises(ConfigError, match="PARVIS_MEDIA_BASE_URL"):
        _ = Settings.load(env={**env, "PARVIS_MEDIA_BASE_URL": "/srv/media"}, cwd=tmp_path).media_base_url
