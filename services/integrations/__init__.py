"""Integrations with the city's other systems (issue #19, decision 0120): e-mail out (``email``, notices in
``notices``), the Open311 GeoReport v2 back office (``open311``) and outgoing webhooks (``hooks_out``). Every
message they send is a row of the one outbox (``kind``: the three channels are :class:`OutboxKind` s of the
engine in services/outbox), registered with the other kinds in :func:`services.outbox.runner.kinds`."""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from core.config import Settings
from core.models import Agent
from core.repo import integrations as integrations_repo
from core.repo.integrations import OutRow
from services.accounts.permissions import Action, can, require
from services.integrations.kind import IntegrationKind, verify


def kinds(settings: Settings) -> list[IntegrationKind]:
    """The integrations' outbox kinds: e-mails, service requests, webhook deliveries."""
    from services.integrations.email import EmailKind
    from services.integrations.hooks_out import WebhookKind
    from services.integrations.open311 import Open311Kind

    return [EmailKind(settings), Open311Kind(settings), WebhookKind(settings)]


def _may_settle(agent: Agent) -> None:
    if not (can(agent, Action.MODERATE) or can(agent, Action.CONNECTORS_MANAGE)):
        require(agent, Action.CONNECTORS_MANAGE)


def to_verify(db: Database, viewer: Agent) -> list[OutRow]:
    """Messages nobody can tell whether they left (« à vérifier »), oldest first."""
    _may_settle(viewer)
    return [row for channel in ("email", "open311", "webhook")
            for row in integrations_repo.in_state(db, channel, ["to_verify"])]


def settle(db: Database, settings: Settings, agent: Agent, key: int, *, sent: bool, now: datetime) -> OutRow:
    """A person says whether a message left « à vérifier » did arrive (it is never sent again by itself)."""
    _may_settle(agent)
    row = integrations_repo.get(db, key)
    kind = next(k for k in kinds(settings) if k.channel == row.channel)
    return verify(db, kind, key, sent=sent, agent=agent, now=now)
