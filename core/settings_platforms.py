"""Settings of the platform connectors (X and its budget, Facebook, the Graph API, Mastodon, Bluesky, Instagram,
public media address, the demo city): part of the one declaration, :mod:`core.settings_schema`, which lists
every area."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from core.errors import ConfigError
from core.settings_fields import Area, Dynamic, setting


def _http_address(key: str, value: Any) -> str:
    url = str(value).strip().rstrip("/")
    if not url.startswith(("https://", "http://")) or "?" in url or "#" in url:
        raise ConfigError(f"setting {key} must be an http(s) address without query, got {url!r}")
    return url


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class XSettings(Area):
    """The X connector."""

    AREA: ClassVar[str] = "x"
    bearer_token: str | None = setting("PARVIS_X_BEARER_TOKEN", "secret", None,
                                       "X API v2 app bearer token (reading)")
    user_id: str | None = setting("PARVIS_X_USER_ID", "str", None,
                                  "the city's X account id (unset: the prefix of `PARVIS_X_ACCESS_TOKEN`)")
    search_query: str = setting("PARVIS_X_SEARCH_QUERY", "str", "",
                                "recent-search query for mentions without @, e.g. `Valmont OR #Valmont -is:retweet`")
    consumer_key: str | None = setting("PARVIS_X_CONSUMER_KEY", "secret", None,
                                       "OAuth 1.0a API key (writing: reply, post, hide, delete)")
    consumer_secret: str | None = setting("PARVIS_X_CONSUMER_SECRET", "secret", None, "OAuth 1.0a API key secret")
    access_token: str | None = setting("PARVIS_X_ACCESS_TOKEN", "secret", None,
                                       "OAuth 1.0a access token of the city's account")
    access_token_secret: str | None = setting("PARVIS_X_ACCESS_TOKEN_SECRET", "secret", None,
                                              "OAuth 1.0a access token secret")
    api_base: str = setting("PARVIS_X_API_BASE", "str", "https://api.x.com",
                            "API host (a fake server in tests, a proxy in staging)")


X_PRICE = Dynamic(key="PARVIS_X_PRICE_<KIND>", kind="float", area="x_budget", minimum=0,
                  description="price override in USD per call of KIND (`post_read`, `user_read`, `create`, "
                              "`create_url`, `delete`, `manage`): check X's current prices",
                  shown_default="docs/connectors.md, \"Usage budget\"")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class XBudgetSettings(Area):
    """The X usage budget (services/connections/x_budget.py)."""

    AREA: ClassVar[str] = "x_budget"
    monthly_cap_usd: float | None = setting("PARVIS_X_MONTHLY_CAP_USD", "float", None, minimum=0,
                                            description="estimated monthly X spend (USD) that stops what the "
                                                        "policy says (unset or 0: no cap)")
    cap_policy: str = setting("PARVIS_X_CAP_POLICY", "str", "stop_polling", choices=("stop_polling", "stop_writes"),
                              description="at the cap: `stop_polling` (replies still go out) or `stop_writes`")

    def price_usd(self, kind: str) -> float | None:
        """``PARVIS_X_PRICE_<KIND>``: the price override for ``kind`` (None: use the documented table)."""
        value: float | None = X_PRICE.read(self.source, kind, None)
        return value


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class FacebookSettings(Area):
    """The Facebook Page connector."""

    AREA: ClassVar[str] = "fb"
    page_id: str | None = setting("PARVIS_FB_PAGE_ID", "str", None, "the Facebook Page's numeric id")
    page_token: str | None = setting("PARVIS_FB_PAGE_TOKEN", "secret", None, "a Page access token")
    lookback_days: float = setting("PARVIS_FB_LOOKBACK_DAYS", "float", 7.0,
                                   "how far back comments on recent posts are re-read")
    messages: bool = setting("PARVIS_FB_MESSAGES", "bool", False,
                             "read and answer the Page's Messenger conversations (needs `pages_messaging`)")
    instagram_direct: bool = setting("PARVIS_FB_INSTAGRAM_DIRECT", "bool", False,
                                     "read and answer Instagram Direct through the Page linked to the Instagram "
                                     "account (needs `instagram_manage_messages`)")
    human_agent: bool = setting("PARVIS_FB_HUMAN_AGENT", "bool", False,
                                "the Page has Meta's Human Agent permission: private answers (Messenger, Instagram "
                                "Direct) 24 h to 7 days after the resident's last message, tagged `HUMAN_AGENT`")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class GraphSettings(Area):
    """Meta's Graph API, shared by Facebook and Instagram."""

    AREA: ClassVar[str] = "graph"
    api_base: str = setting("PARVIS_GRAPH_API_BASE", "str", "https://graph.facebook.com",
                            "Graph API host (a fake server in tests, a proxy in staging)")
    api_version: str = setting("PARVIS_GRAPH_API_VERSION", "str", "v24.0",
                               "Graph API version: move it forward when Meta announces the end of the one in use")
    app_secret: str | None = setting("PARVIS_META_APP_SECRET", "secret", None,
                                     "the Meta app's secret: `/webhooks/meta` accepts only bodies signed with it "
                                     "(unset: every webhook is refused)")
    verify_token: str | None = setting("PARVIS_META_VERIFY_TOKEN", "secret", None,
                                       "the verify token typed in the Meta app's webhook settings (handshake)")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class MastodonSettings(Area):
    """The Mastodon connector."""

    AREA: ClassVar[str] = "mastodon"
    base_url: str | None = setting("PARVIS_MASTODON_BASE_URL", "str", None,
                                   "the instance, e.g. `https://social.valmont.fr` (also the API base)")
    access_token: str | None = setting("PARVIS_MASTODON_ACCESS_TOKEN", "secret", None,
                                       "the application's access token for the city's account")
    recheck_days: float = setting("PARVIS_MASTODON_RECHECK_DAYS", "float", 7.0,
                                  "how long taken statuses, and the city posts they answer (after their last reply), "
                                  "are watched for later edits and deletions (0: never)")
    recheck_per_pass: int = setting("PARVIS_MASTODON_RECHECK_PER_PASS", "int", 40,
                                    "how many watched statuses one pass re-reads at most (0 also stops "
                                    "the city posts' re-check)")
    streaming: bool = setting("PARVIS_MASTODON_STREAMING", "bool", True,
                              "hold the user notification stream (mentions in seconds); polling stays the safety net")
    streaming_url: str | None = setting("PARVIS_MASTODON_STREAMING_URL", "str", None,
                                        "streaming API host when not the instance's (`urls.streaming` of "
                                        "`/api/v2/instance`)")
    stream_poll_s: int = setting("PARVIS_MASTODON_STREAM_POLL_S", "int", 300, minimum=1,
                                 description="polling interval while the stream is connected (the safety net)")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class BlueskySettings(Area):
    """The Bluesky connector."""

    AREA: ClassVar[str] = "bluesky"
    handle: str | None = setting("PARVIS_BLUESKY_HANDLE", "str", None, "the account's handle, e.g. `valmont.fr`")
    app_password: str | None = setting("PARVIS_BLUESKY_APP_PASSWORD", "secret", None, "an app password")
    base_url: str = setting("PARVIS_BLUESKY_BASE_URL", "str", "https://bsky.social",
                            "the PDS entry point (a self-hosted PDS, or a fake server in tests)")
    chat: bool = setting("PARVIS_BLUESKY_CHAT", "bool", False,
                         "read and answer Bluesky chat (the app password must allow direct messages)")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class InstagramSettings(Area):
    """The Instagram connector."""

    AREA: ClassVar[str] = "ig"
    login: str = setting("PARVIS_IG_LOGIN", "str", "facebook", choices=("facebook", "instagram"),
                         description="`facebook`: Instagram API with Facebook Login (account linked to a Page, "
                                     "`graph.facebook.com`); `instagram`: Instagram API with Instagram Login (no "
                                     "Page, `graph.instagram.com`, no photo tags); docs/connectors.md")
    user_id: str | None = setting("PARVIS_IG_USER_ID", "str", None,
                                  "the Instagram professional account id (Instagram Login: `user_id` of `GET /me`)")
    access_token: str | None = setting("PARVIS_IG_ACCESS_TOKEN", "secret", None,
                                       "Facebook Login: a token with `instagram_manage_comments` (and "
                                       "`instagram_content_publish`); Instagram Login: the Instagram User access "
                                       "token (`instagram_business_*`)")
    api_base: str = setting("PARVIS_IG_API_BASE", "str", "https://graph.instagram.com", check=_http_address,
                            description="API host with Instagram Login (a fake server in tests); Facebook Login "
                                        "uses `PARVIS_GRAPH_API_BASE`")
    lookback_days: float = setting("PARVIS_IG_LOOKBACK_DAYS", "float", 7.0,
                                   "the window for comments and photo tags")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class MediaSettings(Area):
    """Where the calendar's images are served."""

    AREA: ClassVar[str] = "media"
    base_url: str | None = setting("PARVIS_MEDIA_BASE_URL", "str", None, check=_http_address,
                                   description="public HTTPS address where `<data dir>/media/` is served: "
                                               "Instagram fetches a post's images there (publishing only)")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class DemoSettings(Area):
    """The built-in demo connector."""

    AREA: ClassVar[str] = "demo"
    enabled: bool = setting("PARVIS_DEMO", "bool", True, "the demo connector (`0` in production)")
