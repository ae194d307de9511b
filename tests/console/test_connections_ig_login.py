"""Connexions says what the configured Instagram path cannot read (Instagram Login: no photo tags), so that an
empty list is never taken for "nothing to read" (docs/decisions/0190)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGE = "console/ui/pages/connections.py"


@pytest.mark.parametrize(("login", "shown"), [("instagram", True), ("facebook", False)])
def test_instagram_login_shows_photo_tags_as_unavailable(db, db_path, monkeypatch, login, shown):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    monkeypatch.setenv("PARVIS_IG_USER_ID", "17841400000000001")
    monkeypatch.setenv("PARVIS_IG_ACCESS_TOKEN", "IGAA-USER-TOKEN")
    monkeypatch.setenv("PARVIS_IG_LOGIN", login)
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=30).run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    captions = " ".join(c.value for c in app.caption)
    said = ("Non disponible : Identifications sur les photos d'autres comptes : indisponibles avec la connexion "
            "Instagram")
    assert (said in captions) is shown
