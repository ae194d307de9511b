"""Which connectors exist, which are configured, and building the enabled ones from :class:`core.config.Settings`.

The demo connector is a normal entry, always enabled (set ``PARVIS_DEMO=0`` to leave it out, e.g. in production).
X is enabled by ``PARVIS_X_BEARER_TOKEN`` + ``PARVIS_X_USER_ID`` (the user id may also be read from the prefix of
``PARVIS_X_ACCESS_TOKEN``); Facebook by ``PARVIS_FB_PAGE_ID`` + ``PARVIS_FB_PAGE_TOKEN``; Mastodon by
``PARVIS_MASTODON_BASE_URL`` + ``PARVIS_MASTODON_ACCESS_TOKEN``; Bluesky by ``PARVIS_BLUESKY_HANDLE`` +
``PARVIS_BLUESKY_APP_PASSWORD`` (its session is kept under the data directory); Instagram by ``PARVIS_IG_USER_ID`` +
``PARVIS_IG_ACCESS_TOKEN`` (publishing to Instagram also needs ``PARVIS_MEDIA_BASE_URL``; ``PARVIS_IG_LOGIN`` picks
Facebook Login or Instagram Login, and an entry's ``unavailable`` lists what that path cannot read).
:func:`entries` feeds the "Connexions" page: names, settings keys and what is missing, never the secret values.
Platform SDKs are imported only when their connector is built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.base import Capability, Connector
from core.config import Settings
from core.errors import ConfigError
from core.files import private_dir
from core.models import Platform
from core.settings_fields import Area
from core.settings_schema import (
    BlueskySettings,
    FacebookSettings,
    InstagramSettings,
    MastodonSettings,
    MediaSettings,
    XSettings,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectorEntry:
    """One connector as the "Connexions" page shows it."""

    name: str
    platform: Platform
    label: str
    settings_keys: tuple[str, ...]  # every setting it reads (secrets included: names only)
    required: tuple[str, ...]  # what must be set for it to be enabled
    missing: tuple[str, ...]  # required settings not set
    optional_missing: tuple[str, ...] = ()  # e.g. X write keys: reading works without them
    capabilities: frozenset[Capability] = frozenset()
    enabled: bool = False
    unavailable: tuple[str, ...] = ()  # what the configured API path cannot read (keys; the page says why)

    @property
    def configured(self) -> bool:
        """All required settings are present."""
        return not self.missing


@dataclass(frozen=True, slots=True)
class _Spec:
    name: str
    platform: Platform
    area: type[Area] | None  # the settings area (core/settings_schema.py) that configures it
    required: tuple[str, ...]  # fields of ``area`` that must be set
    build: Callable[[Settings], Connector]
    info: Callable[[], Any]
    optional: tuple[str, ...] = ()  # fields of ``area`` (or of ``optional_area``) it works without
    optional_area: type[Area] | None = None
    unavailable: Callable[[Settings], tuple[str, ...]] | None = None  # e.g. Instagram Login: no photo tags


def _demo(settings: Settings) -> Connector:
    from connectors.demo.connector import DemoConnector

    private_dir(settings.data_dir)
    return DemoConnector(state_dir=settings.data_dir, private=True)


def _demo_info() -> Any:
    from connectors.demo.connector import DemoConnector

    return DemoConnector.info


def _x(settings: Settings) -> Connector:
    from connectors.x.connector import from_settings

    return from_settings(settings)


def _x_info() -> Any:
    from connectors.x.connector import XConnector

    return XConnector.info


def _facebook(settings: Settings) -> Connector:
    from connectors.facebook.connector import from_settings

    return from_settings(settings)


def _facebook_info() -> Any:
    from connectors.facebook.connector import FacebookConnector

    return FacebookConnector.info


def _mastodon(settings: Settings) -> Connector:
    from connectors.mastodon.connector import from_settings

    return from_settings(settings)


def _mastodon_info() -> Any:
    from connectors.mastodon.connector import MastodonConnector

    return MastodonConnector.info


def _bluesky(settings: Settings) -> Connector:
    from connectors.bluesky.connector import from_settings

    return from_settings(settings, data_dir=settings.data_dir)


def _bluesky_info() -> Any:
    from connectors.bluesky.connector import BlueskyConnector

    return BlueskyConnector.info


def _instagram(settings: Settings) -> Connector:
    from connectors.instagram.connector import from_settings

    return from_settings(settings)


def _instagram_info() -> Any:
    from connectors.instagram.connector import InstagramConnector

    return InstagramConnector.info


def _instagram_unavailable(settings: Settings) -> tuple[str, ...]:
    from connectors.instagram.connector import UNAVAILABLE

    try:
        return UNAVAILABLE[settings.ig.login]
    except ConfigError:  # a malformed value in the area: building the connector names it
        return ()


def _facebook_messages(settings: Settings) -> Connector:
    from connectors.facebook.conversations import from_settings

    return from_settings(settings, channel="messenger")


def _facebook_messages_info() -> Any:
    from connectors.facebook.conversations import ConversationsConnector

    return ConversationsConnector.info


def _instagram_direct(settings: Settings) -> Connector:
    from connectors.facebook.conversations import from_settings

    return from_settings(settings, channel="instagram")


def _instagram_direct_info() -> Any:
    from connectors.facebook.conversations import InstagramDirectConnector

    return InstagramDirectConnector.info


def _bluesky_chat(settings: Settings) -> Connector:
    from connectors.bluesky.chat import from_settings

    return from_settings(settings, data_dir=settings.data_dir)


def _bluesky_chat_info() -> Any:
    from connectors.bluesky.chat import BlueskyChatConnector

    return BlueskyChatConnector.info


# Private conversations (issue #20): on with the public connector of the same account; Instagram Direct goes
# through the Facebook Page linked to the Instagram account (its Page token), X direct messages are not offered.
PRIVATE_SPECS: tuple[_Spec, ...] = (
    _Spec("facebook_messages", Platform.FACEBOOK, FacebookSettings, ("page_id", "page_token", "messages"),
          _facebook_messages, _facebook_messages_info, optional=("human_agent",)),
    _Spec("instagram_direct", Platform.INSTAGRAM, FacebookSettings, ("page_id", "page_token", "instagram_direct"),
          _instagram_direct, _instagram_direct_info, optional=("human_agent",)),
    _Spec("bluesky_chat", Platform.BLUESKY, BlueskySettings, ("handle", "app_password", "chat"), _bluesky_chat,
          _bluesky_chat_info),
)
# The opt-in of each private channel (set, and true): a token without the messaging permissions would fail.
_OPT_IN = {"facebook_messages": lambda s: s.fb.messages, "instagram_direct": lambda s: s.fb.instagram_direct,
           "bluesky_chat": lambda s: s.bluesky.chat}

SPECS: tuple[_Spec, ...] = (
    _Spec("demo", Platform.DEMO, None, (), _demo, _demo_info),  # always on unless settings.demo.enabled is off
    _Spec("x", Platform.X, XSettings, ("bearer_token", "user_id"), _x, _x_info,
          optional=("consumer_key", "consumer_secret", "access_token", "access_token_secret")),
    _Spec("facebook", Platform.FACEBOOK, FacebookSettings, ("page_id", "page_token"), _facebook, _facebook_info),
    _Spec("mastodon", Platform.MASTODON, MastodonSettings, ("base_url", "access_token"), _mastodon,
          _mastodon_info),
    _Spec("bluesky", Platform.BLUESKY, BlueskySettings, ("handle", "app_password"), _bluesky, _bluesky_info),
    _Spec("instagram", Platform.INSTAGRAM, InstagramSettings, ("user_id", "access_token"), _instagram,
          _instagram_info, optional=("base_url",), optional_area=MediaSettings,  # publishing needs it
          unavailable=_instagram_unavailable),
)
# Every connector the settings may enable: the platforms' folders (SPECS), then the private channels, which live
# as extra modules of those folders (connectors/facebook/conversations.py, connectors/bluesky/chat.py).
ALL_SPECS: tuple[_Spec, ...] = (*SPECS, *PRIVATE_SPECS)


def _unset(settings: Settings, area: type[Area] | None, names: tuple[str, ...]) -> tuple[str, ...]:
    """The keys of ``names`` (fields of ``area``) that no source sets (nothing converted: the page still lists
    a connector whose values are malformed; building it raises the ConfigError)."""
    if area is None:
        return ()
    return tuple(key for key in area.keys(*names) if not settings.is_set(key))


def _missing(spec: _Spec, settings: Settings) -> tuple[str, ...]:
    missing = _unset(settings, spec.area, spec.required)
    if spec.name == "x" and missing == XSettings.keys("user_id") and settings.is_set(XSettings.key("access_token")):
        return ()  # the user id is the prefix of the user-context access token
    return missing


def _enabled(spec: _Spec, settings: Settings) -> bool:
    if spec.name == "demo" and not settings.demo.enabled:
        return False
    if _missing(spec, settings):
        return False
    if spec.name in _OPT_IN:
        try:
            return bool(_OPT_IN[spec.name](settings))
        except ConfigError:  # a malformed value elsewhere in the area: building it names the value
            return False
    return True


def entries(settings: Settings) -> list[ConnectorEntry]:
    """Every known connector, configured or not, for the "Connexions" page."""
    out = []
    for spec in ALL_SPECS:
        info = spec.info()
        out.append(ConnectorEntry(
            name=spec.name, platform=spec.platform, label=info.name,
            settings_keys=tuple(info.settings_keys), required=spec.area.keys(*spec.required) if spec.area else (),
            missing=_missing(spec, settings),
            optional_missing=_unset(settings, spec.optional_area or spec.area, spec.optional),
            capabilities=frozenset(info.capabilities), enabled=_enabled(spec, settings),
            unavailable=spec.unavailable(settings) if spec.unavailable else ()))
    return out


def build(settings: Settings, name: str) -> Connector:
    """Build connector ``name``; raises ConfigError naming the settings to set when it is not configured."""
    for spec in ALL_SPECS:
        if spec.name == name:
            missing = _missing(spec, settings)
            if missing:
                raise ConfigError(f"connector {name!r} is not configured: set {', '.join(missing)}")
            return spec.build(settings)
    raise ConfigError(f"unknown connector {name!r}; known: {', '.join(s.name for s in ALL_SPECS)}")


def build_enabled(settings: Settings) -> list[Connector]:
    """The connectors the settings enable, demo first."""
    return [spec.build(settings) for spec in ALL_SPECS if _enabled(spec, settings)]
