"""Image uploads for posts: only real images, stored once by content; the accounts a post can target."""

from __future__ import annotations

from core.config import Settings
from core.errors import ValidationError
from services.editorial import calendar_inputs
from tests.french import raises_fr

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def test_an_image_is_stored_once_under_its_content_hash(tmp_path):
    first = calendar_inputs.store_image(tmp_path, "../../benne.png", PNG)
    again = calendar_inputs.store_image(tmp_path, "copie.png", PNG)
    assert first["path"] == again["path"] and first["name"] == "benne.png"
    assert first["path"].startswith(str(tmp_path / "media")) and first["path"].endswith(".png")
    assert len(list((tmp_path / "media").iterdir())) == 1


def test_what_is_not_an_image_or_too_big_is_refused(tmp_path):
    with raises_fr(ValidationError, "n'est pas une image"):
        calendar_inputs.store_image(tmp_path, "photo.png", b"<svg onload=alert(1)>")
    with raises_fr(ValidationError, "5 Mo"):
        calendar_inputs.store_image(tmp_path, "grande.png", PNG + b"\x00" * calendar_inputs.MAX_IMAGE_BYTES)


def test_the_demo_account_can_publish_and_schedule_natively(tmp_path, monkeypatch):
    monkeypatch.setenv("PARVIS_DATA_DIR", str(tmp_path))
    accounts = {a.name: a for a in calendar_inputs.publish_accounts(Settings.load())}
    assert accounts["demo"].enabled and accounts["demo"].native
    assert not accounts["facebook"].enabled and accounts["facebook"].native and not accounts["x"].native
