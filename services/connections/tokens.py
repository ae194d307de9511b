"""Token lifecycle (docs/connectors.md, « Tokens »; decisions 0185, 0186): the worker's daily look at each Meta
token, Instagram's refresh before the 60 days lapse, and the e-mail to the admins 7 days before an expiry.

A connector takes part by what it offers: ``token_info()`` (Meta's ``debug_token``: Facebook, Instagram) and
``refresh_token()`` (Instagram's long-lived tokens). Each is asked at most once a day (``checked_at``; a failed
check counts, so a broken token is not asked every minute); a connector in « reconnexion nécessaire » is not
asked at all (services/connections/ingest.py keeps it quiet until the credentials change or « Réessayer »).

Refresh: when the token expires within :data:`REFRESH_WITHIN` (10 days) and was not refreshed in the last 24
hours (Instagram refuses a token younger than that; a 60-day token that expires within 10 days is 50 days old),
audited (``token-refreshed``, the new expiry, never the token). Notice: once per expiry (the outbox key
``token-expiry:<connector>:<date>``), to every agent allowed to manage the connections, when e-mail is configured.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlite_utils import Database

from connectors.base import Connector
from connectors.graph.tokens import RefreshedToken, TokenInfo
from core import audit, repo
from core.clock import PARIS
from core.config import Settings
from core.db import write_transaction
from core.errors import ConnectorError
from core.repo import tokens as tokens_repo
from core.settings_integrations import NoticeSettings
from services.accounts.permissions import Action, can
from services.connections.status import EXPIRY_WARNING_DAYS
from services.integrations.email import configured, queue_email

log = logging.getLogger(__name__)
CHECK_EVERY = timedelta(days=1)
REFRESH_WITHIN = timedelta(days=10)
REFRESH_MIN_AGE = timedelta(hours=24)


@dataclass
class TokenReport:
    """What one pass did, by connector name."""

    checked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)
    notified: list[str] = field(default_factory=list)


def check_tokens(db: Database, settings: Settings, connectors: Sequence[Connector], *, now: datetime) -> TokenReport:
    """Check, refresh and warn about each connector's token as due (see the module docstring); never raises a
    connector's error (it is recorded as ``check_error``)."""
    report = TokenReport()
    for connector in connectors:
        token_info = getattr(connector, "token_info", None)
        if token_info is None:
            continue
        name, platform = connector.name, str(connector.info.platform)
        state = tokens_repo.token_state(db, name)
        if state.blocked:
            continue
        if state.checked_at is None or now - state.checked_at >= CHECK_EVERY:
            try:
                info: TokenInfo = token_info()
            except ConnectorError as err:
                with write_transaction(db):
                    tokens_repo.save_token_check_failed(db, name, platform, now=now, error=f"{err.code}: {err}")
                log.warning("token check %s failed: %s", name, err.code)
                report.failed.append(name)
                continue
            with write_transaction(db):
                tokens_repo.save_token_check(db, name, platform, now=now, expires_at=info.expires_at,
                                             data_access_expires_at=info.data_access_expires_at,
                                             is_valid=info.is_valid, scopes=list(info.scopes))
            report.checked.append(name)
            state = tokens_repo.token_state(db, name)
        if _refresh_due(connector, state, now) and _refresh(db, connector, now=now):
            report.refreshed.append(name)
            state = tokens_repo.token_state(db, name)
        if _notify(db, settings, connector, state, now=now):
            report.notified.append(name)
    return report


def _refresh_due(connector: Connector, state: tokens_repo.TokenState, now: datetime) -> bool:
    if getattr(connector, "refresh_token", None) is None or state.expires_at is None or state.is_valid is False:
        return False
    if state.refreshed_at is not None and now - state.refreshed_at < REFRESH_MIN_AGE:
        return False
    return state.expires_at - now <= REFRESH_WITHIN


def _refresh(db: Database, connector: Connector, *, now: datetime) -> bool:
    name, platform = connector.name, str(connector.info.platform)
    try:
        refreshed: RefreshedToken = connector.refresh_token(now=now)  # type: ignore[attr-defined]
    except ConnectorError as err:
        with write_transaction(db):
            tokens_repo.save_token_check_failed(db, name, platform, now=now, error=f"refresh: {err.code}: {err}")
        log.warning("token refresh %s failed: %s", name, err.code)
        return False
    with write_transaction(db):
        tokens_repo.save_token_refreshed(db, name, platform, now=now, expires_at=refreshed.expires_at)
        audit.record(db, audit.TokenRefreshed(actor=audit.SYSTEM_WORKER, subject=f"connector:{name}", connector=name,
                                              expires_at=refreshed.expires_at.isoformat()), at=now)
    log.info("token %s refreshed: expires %s", name, refreshed.expires_at.isoformat())
    return True


def _notify(db: Database, settings: Settings, connector: Connector, state: tokens_repo.TokenState, *,
            now: datetime) -> bool:
    """E-mail the admins once when the token expires within :data:`EXPIRY_WARNING_DAYS`."""
    expires = state.expires_at
    if expires is None or expires - now > timedelta(days=EXPIRY_WARNING_DAYS) or not configured(settings):
        return False
    key = f"token-expiry:{connector.name}:{expires.astimezone(PARIS).date().isoformat()}"
    if state.notified_expiry == key:
        return False
    days = max(0, int((expires - now).total_seconds() // 86400))
    admins = [a.email for a in repo.list_agents(db) if can(a, Action.CONNECTORS_MANAGE)]
    title = f"[Parvis] Le jeton de la connexion « {connector.name} » expire dans {days} jour{'s' if days > 1 else ''}"
    body = (f"Bonjour,\n\nLe jeton d'accès de la connexion « {connector.name} » expire le "
            f"{expires.astimezone(PARIS).strftime('%d/%m/%Y à %H:%M')}. Passé cette date, Parvis ne pourra plus "
            "lire ni publier sur cette plateforme.\n\nRenouvelez le jeton et mettez à jour la configuration "
            "(voir la page Connexions).\n")
    link = settings.area(NoticeSettings).console_url.rstrip("/")
    if link:
        body += f"\n{link}/connections\n"
    with write_transaction(db):
        queued = queue_email(db, settings, dedupe=key, topic="token-expiry", subject_uid=f"connector:{connector.name}",
                             to=admins, title=title, body=body, now=now)
        tokens_repo.mark_expiry_notified(db, connector.name, key)
    return queued is not None
