"""Settings of the integrations with the city's other systems (issue #19, docs/integrations.md): outgoing e-mail
(SMTP), the notices sent by e-mail, the Open311 GeoReport v2 back office and outgoing webhooks. Part of the one
declaration, :mod:`core.settings_schema`, which lists every area; read with ``settings.area(SmtpSettings)``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.settings_fields import Area, setting


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class SmtpSettings(Area):
    """Outgoing e-mail (services/integrations/email.py)."""

    AREA: ClassVar[str] = "smtp"
    host: str = setting("PARVIS_SMTP_HOST", "str", "", "SMTP server (empty: no e-mail is sent)")
    port: int = setting("PARVIS_SMTP_PORT", "int", 587, "SMTP port (587 STARTTLS, 465 implicit TLS)")
    security: str = setting("PARVIS_SMTP_SECURITY", "str", "starttls", choices=("starttls", "tls", "none"),
                            description="`starttls`, `tls` (implicit, port 465) or `none` (loopback relay only)")
    user: str = setting("PARVIS_SMTP_USER", "str", "", "SMTP login (empty: no authentication)")
    password: str | None = setting("PARVIS_SMTP_PASSWORD", "secret", None, "SMTP password")
    sender: str = setting("PARVIS_SMTP_FROM", "str", "", "the `From` address, e.g. `Parvis <parvis@valmont.fr>`")
    ca_file: str = setting("PARVIS_SMTP_CA_FILE", "str", "",
                           "a CA bundle that signs the server's certificate (empty: the system's)")
    timeout_s: float = setting("PARVIS_SMTP_TIMEOUT_S", "float", 20.0, "timeout of one SMTP conversation")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class NoticeSettings(Area):
    """Who is told what by e-mail (services/integrations/notices.py)."""

    AREA: ClassVar[str] = "notices"
    oncall: str = setting("PARVIS_NOTIFY_ONCALL", "str", "",
                          "on-call addresses told when a crisis spike starts (comma-separated)")
    weekly_to: str = setting("PARVIS_WEEKLY_REPORT_TO", "str", "",
                             "addresses that receive the weekly report PDF (comma-separated; empty: none)")
    weekly_day: int = setting("PARVIS_WEEKLY_REPORT_DAY", "int", 0, "weekday of the weekly report (0 = Monday)")
    weekly_hour: int = setting("PARVIS_WEEKLY_REPORT_HOUR", "int", 8, "hour (Paris) of the weekly report")
    promise_warn_min: float = setting("PARVIS_PROMISE_WARN_MIN", "float", 60.0,
                                      "opening-hours minutes before the response target when the assignee and "
                                      "the directors are told")
    console_url: str = setting("PARVIS_CONSOLE_URL", "str", "",
                               "the console's public address, for links in e-mails (empty: no link)")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Open311Settings(Area):
    """The Open311 GeoReport v2 back office (services/integrations/open311.py)."""

    AREA: ClassVar[str] = "open311"
    endpoint: str = setting("PARVIS_OPEN311_ENDPOINT", "str", "",
                            "GeoReport v2 base address, e.g. `https://311.valmont.fr/open311/v2` (empty: off)")
    api_key: str | None = setting("PARVIS_OPEN311_API_KEY", "secret", None, "the back office's API key")
    jurisdiction_id: str = setting("PARVIS_OPEN311_JURISDICTION_ID", "str", "",
                                   "`jurisdiction_id` sent with every call (empty: not sent)")
    poll_s: int = setting("PARVIS_OPEN311_POLL_S", "int", 300, minimum=10,
                          description="seconds between two status polls of open service requests")
    services_ttl_h: float = setting("PARVIS_OPEN311_SERVICES_TTL_H", "float", 24.0,
                                    "hours the `services.json` list is kept before it is fetched again")
    timeout_s: float = setting("PARVIS_OPEN311_TIMEOUT_S", "float", 20.0, "timeout of one back-office call")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class WebhookOutSettings(Area):
    """Outgoing webhooks (services/integrations/hooks_out.py)."""

    AREA: ClassVar[str] = "webhooks_out"
    timeout_s: float = setting("PARVIS_WEBHOOK_TIMEOUT_S", "float", 10.0, "timeout of one webhook delivery")
    retry_hours: float = setting("PARVIS_WEBHOOK_RETRY_H", "float", 24.0,
                                 "hours a failing delivery is retried (with backoff) before it is failed")
