"""The worker's token job (services/connections/tokens.py): hourly, it checks each Meta token at most once a day
(``debug_token``), refreshes Instagram's long-lived token before it lapses and e-mails the admins 7 days before an
expiry. Scheduled only when a connector has a token to check (Facebook, Instagram)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from connectors.base import Connector
from console.jobs.base import guarded
from core.clock import Clock, utcnow
from core.config import Settings
from core.db import open_db
from services.connections import tokens

JOB_NAME = "tokens"
EVERY_S = 3600


def wanted(connectors: Sequence[Connector]) -> list[Connector]:
    """The connectors whose token the job looks after."""
    return [c for c in connectors if getattr(c, "token_info", None) is not None]


def tokens_job(settings: Settings, connectors: Sequence[Connector], *, clock: Clock = utcnow) -> Callable[[], None]:
    """A job that runs one token pass on a fresh connection."""
    def run() -> None:
        db = open_db(settings.db_path)
        try:
            tokens.check_tokens(db, settings, connectors, now=clock())
        finally:
            db.close()
    return guarded(JOB_NAME, run)
