"""The "Connexions" page's use cases: each connector's state, the worker's heartbeat, "sync now"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from connectors import registry
from core import audit, repo
from core.config import Settings
from core.db import write_transaction
from core.errors import NotFoundError
from core.models import Agent, ConnectorHealth
from core.repo import tokens as tokens_repo
from services.accounts.permissions import Action, require

WORKER_STALE_S = 30
EXPIRY_WARNING_DAYS = 7  # the page (and an e-mail to the admins) warns this long before a token expires


@dataclass(frozen=True, slots=True)
class ConnectorStatus:
    """A connector as the page shows it: configuration, health and last counts."""

    entry: registry.ConnectorEntry
    health: ConnectorHealth
    counts: dict[str, int]
    last_sync_age_s: float | None
    rejected: tuple[repo.RejectedItem, ...] = ()  # items that failed validation, the most recent first
    rejected_total: int = 0
    token: tokens_repo.TokenState | None = None  # expiry as the platform told it, the reconnect block

    @property
    def reconnect_needed(self) -> bool:
        """The platform refused the credentials: the worker stops calling until new ones or « Réessayer »."""
        return self.health.status == "reconnect_needed"

    def expires_in_days(self, now: datetime) -> int | None:
        """Whole days until the token expires (0: today or past), None when it never expires or is unknown."""
        if self.token is None or self.token.expires_at is None:
            return None
        return max(0, int((self.token.expires_at - now).total_seconds() // 86400))

    def expiry_warning(self, now: datetime) -> int | None:
        """Days left when the token expires within :data:`EXPIRY_WARNING_DAYS`, else None."""
        days = self.expires_in_days(now)
        return days if days is not None and days <= EXPIRY_WARNING_DAYS else None

    @property
    def reading(self) -> dict[str, int]:
        """The last sync told apart: ``read`` (mentions taken), ``malformed`` (skipped: failed validation) and
        ``nothing`` (nothing to read: notifications without a post, retweets…); "the API said no" is the
        health's status and last error."""
        return {"read": self.counts.get("fetched", 0), "malformed": self.counts.get("skipped", 0),
                "nothing": self.counts.get("ignored", 0)}


@dataclass(frozen=True, slots=True)
class Overview:
    """All connectors plus the worker's liveness."""

    connectors: list[ConnectorStatus]
    worker_beat_age_s: float | None

    @property
    def worker_alive(self) -> bool:
        """The worker wrote a heartbeat recently."""
        return self.worker_beat_age_s is not None and self.worker_beat_age_s <= WORKER_STALE_S


def overview(db: Database, settings: Settings, *, now: datetime) -> Overview:
    """State of every known connector (configured or not) and of the worker."""
    out = []
    for entry in registry.entries(settings):
        health = repo.connector_health(db, entry.name)
        age = (now - health.last_sync_at).total_seconds() if health.last_sync_at else None
        out.append(ConnectorStatus(entry=entry, health=health, counts=repo.connector_counts(db, entry.name),
                                   last_sync_age_s=age, rejected=tuple(repo.rejected_items(db, entry.name)),
                                   rejected_total=repo.rejected_count(db, entry.name),
                                   token=tokens_repo.token_state(db, entry.name)))
    beat = repo.last_beat(db)
    return Overview(connectors=out, worker_beat_age_s=(now - beat).total_seconds() if beat else None)


def request_sync(db: Database, settings: Settings, name: str, *, actor: Agent, now: datetime) -> None:
    """Ask the worker to sync ``name`` at its next tick (``connectors.sync``: legal staff are read-only)."""
    require(actor, Action.SYNC_REQUEST)
    entry = next((e for e in registry.entries(settings) if e.name == name), None)
    if entry is None or not entry.enabled:
        raise NotFoundError(f"connector {name} is not enabled", reason="connector_not_enabled", connector=name)
    with write_transaction(db):
        repo.request_sync(db, name, str(entry.platform), now=now)
        audit.record(db, audit.SyncRequested(actor=actor.email, role=actor.role, subject=f"connector:{name}",
                                             connector=name), at=now)


def retry_connector(db: Database, settings: Settings, name: str, *, actor: Agent, now: datetime) -> None:
    """« Réessayer »: lift the « reconnexion nécessaire » block and ask the worker to sync ``name`` now
    (``connectors.manage``: admins, who can fix the credentials); audited."""
    require(actor, Action.CONNECTORS_MANAGE)
    entry = next((e for e in registry.entries(settings) if e.name == name), None)
    if entry is None or not entry.enabled:
        raise NotFoundError(f"connector {name} is not enabled", reason="connector_not_enabled", connector=name)
    with write_transaction(db):
        tokens_repo.unblock_connector(db, name)
        repo.request_sync(db, name, str(entry.platform), now=now)
        audit.record(db, audit.ConnectorRetried(actor=actor.email, role=actor.role, subject=f"connector:{name}",
                                                connector=name), at=now)


def format_age(seconds: float | None) -> str:
    """French "il y a 12 s / 3 min / 2 h" text, or "jamais"."""
    if seconds is None:
        return "jamais"
    if seconds < 90:
        return f"il y a {max(0, int(seconds))} s"
    if seconds < 5400:
        return f"il y a {int(seconds // 60)} min"
    if seconds < 2 * 86400:
        return f"il y a {int(seconds // 3600)} h"
    return f"il y a {int(seconds // 86400)} j"
