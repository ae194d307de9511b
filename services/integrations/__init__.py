"""Integrations with the city's other systems (issue #19, decision 0120): e-mail out (``email``, notices in
``notices``), the Open311 GeoReport v2 back office (``open311``) and outgoing webhooks (``hooks_out``). Every
message they send is a row of the one outbox (``kind``: the three channels are :class:`OutboxKind` s of the
engine in services/outbox), registered with the other kinds in :func:`services.outbox.runner.kinds`."""

from __future__ import annotations

from core.config import Settings
from services.integrations.kind import IntegrationKind


def kinds(settings: Settings) -> list[IntegrationKind]:
    """The integrations' outbox kinds: e-mails, service requests, webhook deliveries."""
    from services.integrations.email import EmailKind
    from services.integrations.hooks_out import WebhookKind
    from services.integrations.open311 import Open311Kind

    return [EmailKind(settings), Open311Kind(settings), WebhookKind(settings)]
