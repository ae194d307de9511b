"""Shared fixtures: a migrated database, agents, a mention factory; offline model hub."""

from __future__ import annotations

import itertools
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from core import repo  # noqa: E402
from core.db import open_db  # noqa: E402
from core.models import Author, Mention, Platform, Role, SignatureStyle  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
_ids = itertools.count(1)


def load_json_fixture(name: str) -> dict:
    """Load a recorded platform payload, e.g. ``"x/mentions_page.json"``."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--e2e", action="store_true", default=False, help="run the browser end-to-end tests")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: browser end-to-end test (run with --e2e)")
    config.addinivalue_line("markers", "slow: slower test (model building, large data)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--e2e"):
        return
    skip = pytest.mark.skip(reason="browser test: run with --e2e")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def now() -> datetime:
    """A fixed 'now' for deterministic tests."""
    return NOW


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Path of a fresh on-disk database (WAL mode applies to files only)."""
    return tmp_path / "data" / "parvis.db"


@pytest.fixture
def db(db_path: Path):
    """A migrated on-disk database, closed after the test."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    database = open_db(db_path)
    yield database
    database.close()


@pytest.fixture
def agents(db, now):
    """A small team: two community managers, a director, a legal officer, an admin."""
    spec = [
        ("julie@valmont.fr", "Julie Martin", "JM", Role.COMMUNITY_MANAGER, SignatureStyle.FIRST_NAME),
        ("karim@valmont.fr", "Karim Benali", "KB", Role.COMMUNITY_MANAGER, SignatureStyle.INITIALS),
        ("sophie@valmont.fr", "Sophie Laurent", "SL", Role.DIRECTOR, SignatureStyle.FIRST_NAME),
        ("marc@valmont.fr", "Marc Petit", "MP", Role.LEGAL, SignatureStyle.FIRST_NAME),
        ("admin@valmont.fr", "Admin Parvis", "AP", Role.ADMIN, SignatureStyle.TEAM),
    ]
    out = {}
    for email, name, initials, role, style in spec:
        out[name.split()[0].lower()] = repo.create_agent(db, email=email, name=name, initials=initials, role=role,
                                                         signature_style=style, now=now)
    return out


def make_mention(text: str = "Bonjour la mairie", *, platform: Platform = Platform.X, pid: str | None = None,
                 author: str = "camille", created_at: datetime | None = None, conversation_id: str | None = None,
                 in_reply_to: str | None = None, followers: int | None = 10) -> Mention:
    """Build a Mention with sensible defaults."""
    pid = pid or f"t{next(_ids)}"
    return Mention(platform=platform, platform_id=pid, text=text,
                   author=Author(platform_id=f"u-{author}", handle=author, display_name=author.title(),
                                 followers=followers),
                   created_at=created_at or NOW - timedelta(minutes=5), conversation_id=conversation_id,
                   in_reply_to=in_reply_to, lang="fr", raw={"id": pid, "text": text})


@pytest.fixture
def mention_factory():
    """The :func:`make_mention` helper as a fixture."""
    return make_mention
