"""Settings: file, secrets.toml and environment precedence; pointers; clear errors; secrets masked."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import Settings
from core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_example_config_resolves_pointers(tmp_path):
    secret = tmp_path / "token"
    secret.write_text("fb-token\n")
    text = (ROOT / "parvis.example.toml").read_text().replace("/run/secrets/valmont_fb_page_token", str(secret))
    (tmp_path / "parvis.toml").write_text(text)
    env = {"VALMONT_X_BEARER": "xb", "VALMONT_X_CONSUMER_KEY": "ck", "VALMONT_X_CONSUMER_SECRET": "cs",
           "VALMONT_X_ACCESS_TOKEN": "at", "VALMONT_X_ACCESS_TOKEN_SECRET": "ats"}
    s = Settings.load(env=env, cwd=tmp_path)
    assert s.get("PARVIS_X_BEARER_TOKEN") == "xb" and s.get("PARVIS_FB_PAGE_TOKEN") == "fb-token"
    assert s.get("PARVIS_SENTIMENT_BACKEND") == "offline" and s.get_int("PARVIS_SYNC_INTERVAL_S", 1) == 60
    assert "xb" not in repr(s) and "fb-token" not in repr(s)


def test_environment_wins_and_db_path(tmp_path):
    (tmp_path / "parvis.toml").write_text('sync_interval_s = 60\n')
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text('PARVIS_SYNC_INTERVAL_S = "30"\n')
    s = Settings.load(env={"PARVIS_DATA_DIR": str(tmp_path / "d")}, cwd=tmp_path)
    assert s.get_int("PARVIS_SYNC_INTERVAL_S", 0) == 30 and s.db_path == tmp_path / "d" / "parvis.db"
    s2 = Settings.load(env={"PARVIS_SYNC_INTERVAL_S": "15", "PARVIS_DB": "/x/y.db"}, cwd=tmp_path)
    assert s2.get_int("PARVIS_SYNC_INTERVAL_S", 0) == 15 and str(s2.db_path) == "/x/y.db"


def test_missing_pointer_and_bad_values_are_named(tmp_path):
    (tmp_path / "parvis.toml").write_text('[x]\nbearer_token = { "$env" = "NOPE_NOT_SET" }\n')
    with pytest.raises(ConfigError, match="NOPE_NOT_SET"):
        Settings.load(env={}, cwd=tmp_path)
    (tmp_path / "parvis.toml").write_text("this is = = not toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Settings.load(env={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        Settings.load(env={"PARVIS_CONFIG": str(tmp_path / "absent.toml")}, cwd=tmp_path)
    s = Settings.load(env={"PARVIS_SYNC_INTERVAL_S": "soon"}, cwd=tmp_path / "empty")
    with pytest.raises(ConfigError, match="PARVIS_SYNC_INTERVAL_S"):
        s.get_int("PARVIS_SYNC_INTERVAL_S", 60)
    with pytest.raises(ConfigError, match="PARVIS_X_BEARER_TOKEN"):
        s.require("PARVIS_X_BEARER_TOKEN")
