"""Fixtures for connector tests: recorded payloads and the fake X / Graph servers on pytest-httpserver."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.facebook.connector import FacebookConnector
from connectors.x.connector import XConnector
from services.editorial.calendar_inputs import store_image
from tests.fakes import FakeGraphApi, FakeXApi

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
X_KEYS = {"consumer_key": "ck-test", "consumer_secret": "cs-secret-value", "access_token": "1000-at-test",
          "access_token_secret": "ats-secret-value"}


def load_fixture(name: str) -> Any:
    """A recorded platform payload, e.g. ``"x/mentions_page.json"``."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def fake_x(httpserver) -> FakeXApi:
    """A fake X API with the city's account (id 1000, @VilleDeTest)."""
    fake = FakeXApi()
    fake.base_url = fake.install(httpserver)  # type: ignore[attr-defined]
    return fake


@pytest.fixture
def x_connector(fake_x) -> XConnector:
    """An X connector with read and write credentials, pointed at ``fake_x``, retrying with no delay."""
    return XConnector(bearer_token=fake_x.bearer, user_id=fake_x.user_id, base_url=fake_x.base_url,
                      backoff=0, page_size=5, **X_KEYS)


@pytest.fixture
def fake_graph(httpserver) -> FakeGraphApi:
    """A fake Graph API for the Page 5550001, its clock two hours in the past."""
    fake = FakeGraphApi(start=datetime.now(UTC) - timedelta(hours=2))
    fake.base_url = fake.install(httpserver)  # type: ignore[attr-defined]
    return fake


@pytest.fixture
def fb_connector(fake_graph) -> FacebookConnector:
    """A Facebook connector pointed at ``fake_graph``, retrying with no delay."""
    return FacebookConnector(page_id=fake_graph.page_id, page_token=fake_graph.token, base_url=fake_graph.base_url,
                             version=fake_graph.version, backoff=0)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4


@pytest.fixture
def image(tmp_path):
    """Store an image as the calendar form does; returns its ``Post.media`` entry (with ``alt``)."""

    def make(name: str = "affiche.png", alt: str = "Affiche de la fête de la musique, place de la mairie",
             data: bytes | None = None, size: int | None = None) -> dict[str, str]:
        body = data if data is not None else (JPEG if name.endswith((".jpg", ".jpeg")) else PNG)
        if size is not None:
            body = (body * (size // len(body) + 1))[:size]
        entry = store_image(tmp_path, name, body) if len(body) <= 5 * 1024 * 1024 else _raw(tmp_path, name, body)
        return {**entry, "alt": alt}

    return make


def _raw(folder: Path, name: str, data: bytes) -> dict[str, str]:
    path = folder / "media" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"kind": "image", "name": name, "path": str(path)}
