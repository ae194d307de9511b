"""Assemble the runtime pieces from settings: the enabled connectors and the moderation scorer."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from sqlite_utils import Database

from connectors.base import Connector
from core import repo
from core.config import Settings
from core.errors import ConfigError
from core.models import Mention, Platform
from services.connections.ingest import ScoreFn

if TYPE_CHECKING:
    from moderation.scoring import Moderator

log = logging.getLogger(__name__)


def enabled_connectors(settings: Settings, *, only: Sequence[str] = ()) -> list[Connector]:
    """Connectors configured in ``settings`` (the demo one always); ``only`` filters by name."""
    from connectors import registry

    connectors = [_with_budget(c, settings) for c in registry.build_enabled(settings)]
    if only:
        names = {c.name for c in connectors}
        unknown = sorted(set(only) - names)
        if unknown:
            raise ConfigError(f"unknown or unconfigured connector(s): {', '.join(unknown)}; "
                              f"enabled: {', '.join(sorted(names))}")
        connectors = [c for c in connectors if c.name in only]
    return connectors


@cache
def _moderator(backend: str, model: str, target_h: float, protected: str) -> Moderator:
    from moderation.scoring import Moderator

    return Moderator.from_settings(backend=backend, model=model, response_target_h=target_h,
                                   protected_names=protected or None)


def moderator(settings: Settings) -> Moderator:
    """The moderation scorer configured by the settings (built once per process and configuration)."""
    return _moderator(settings.sentiment.backend, settings.sentiment.model, settings.inbox.response_target_h,
                      settings.moderation.protected_names)


@cache
def _rich_moderator(target_h: float, protected: str) -> Moderator | None:
    from moderation.rich import is_rich_version, rich_available
    from moderation.scoring import Moderator

    if not rich_available():
        log.warning("rich tier unavailable (heads file or encoder package missing): no re-scoring")
        return None
    built = Moderator.from_settings(tier="rich", response_target_h=target_h, protected_names=protected or None)
    return built if is_rich_version(built.model_version) else None


def rich_moderator(settings: Settings) -> Moderator | None:
    """The worker's re-scoring moderator (rich tier, decision 0012), built once; None when it is unavailable."""
    return _rich_moderator(settings.inbox.response_target_h, settings.moderation.protected_names)


def score_fn(settings: Settings) -> ScoreFn:
    """The scoring function ingest uses (offline model by default; transformers when configured)."""
    return moderator(settings).score


_connector_cache: dict[tuple[int, str], Connector] = {}


def connector_name_for(mention: Mention) -> str:
    """Which connector answers ``mention``: demo data (``account == "demo"``) goes to the sandbox, never a real API."""
    if mention.account == "demo" or mention.platform is Platform.DEMO:
        return "demo"
    if mention.private:  # private messages are answered through the private channel (issue #20)
        return _PRIVATE_CONNECTORS.get(mention.platform, str(mention.platform))
    return str(mention.platform)


# The connector that answers a private message, per platform (Mastodon's direct statuses: the Mastodon connector).
_PRIVATE_CONNECTORS = {Platform.FACEBOOK: "facebook_messages", Platform.INSTAGRAM: "instagram_direct",
                       Platform.BLUESKY: "bluesky_chat"}


def connector_for(settings: Settings, mention: Mention) -> Connector:
    """The connector that replies to / moderates ``mention`` (built once per process and settings)."""
    from connectors import registry

    name = connector_name_for(mention)
    key = (id(settings), name)
    if key not in _connector_cache:
        _connector_cache[key] = _with_budget(registry.build(settings, name), settings)
    return _connector_cache[key]


def connector_for_mention_uid(settings: Settings, db: Database, mention_uid: str | None) -> Connector:
    """The connector that answers the stored mention ``mention_uid`` (NotFoundError when there is none)."""
    return connector_for(settings, repo.get_item(db, mention_uid or "").mention)


def _with_budget(connector: Connector, settings: Settings) -> Connector:
    """Give the X connector its usage counter and monthly budget gate (X is billed per call)."""
    if hasattr(connector, "usage_hook") and hasattr(connector, "budget_gate"):
        from core.db import open_db
        from services.connections import x_budget

        x_budget.wire(connector, open_db(settings.db_path), settings)
    return connector
