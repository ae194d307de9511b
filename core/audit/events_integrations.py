"""Audit events of the integrations (issue #19, decision 0120): e-mails, Open311 service requests and outgoing
webhooks sent through the outbox, and their configuration (notice preferences, endpoints, service mapping)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from core.audit.base import AuditEvent


@dataclass(frozen=True, kw_only=True)
class IntegrationQueued(AuditEvent):
    """A message to the outside (e-mail, service request, webhook event) was written to the outbox."""

    name: ClassVar[str] = "integration-queued"
    message: int
    channel: str
    topic: str
    message_id: str
    recipient: str


@dataclass(frozen=True, kw_only=True)
class IntegrationSending(AuditEvent):
    """The intent: the message is claimed and about to be sent (committed before the call)."""

    name: ClassVar[str] = "integration-sending"
    message: int
    channel: str
    attempt: int


@dataclass(frozen=True, kw_only=True)
class IntegrationSent(AuditEvent):
    """The receiver accepted the message (``via``: api, lookup, person, api-after-takeover)."""

    name: ClassVar[str] = "integration-sent"
    message: int
    channel: str
    via: str
    result: str = ""


@dataclass(frozen=True, kw_only=True)
class IntegrationRetry(AuditEvent):
    """Not sent (or uncertain, ``check``): tried again at ``next_at``."""

    name: ClassVar[str] = "integration-retry"
    message: int
    channel: str
    error_code: str
    error: str
    next_at: datetime
    check: bool = False


@dataclass(frozen=True, kw_only=True)
class IntegrationFailed(AuditEvent):
    """Certainly not sent, and not tried again (refused, or past its deadline)."""

    name: ClassVar[str] = "integration-failed"
    message: int
    channel: str
    error_code: str
    error: str


@dataclass(frozen=True, kw_only=True)
class IntegrationToVerify(AuditEvent):
    """Nobody can tell whether the message left: a person checks (« à vérifier »); never resent by itself."""

    name: ClassVar[str] = "integration-to-verify"
    message: int
    channel: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class IntegrationTextsErased(AuditEvent):
    """Residents' words were erased from integration messages (e-mails, service requests, webhook events): an RGPD
    erasure of their author (``why`` rgpd; messages not sent yet are ``cancelled``) or the retention of finished
    messages (``why`` retention, ``cutoff``). The rows and their metadata stay."""

    name: ClassVar[str] = "integration-texts-erased"
    messages: int
    cancelled: int = 0
    cutoff: str = ""
    why: str = "retention"  # retention | rgpd


@dataclass(frozen=True, kw_only=True)
class IntegrationVerified(AuditEvent):
    """A person settled a message left « à vérifier » (``sent``: it did arrive)."""

    name: ClassVar[str] = "integration-verified"
    message: int
    channel: str
    sent: bool


@dataclass(frozen=True, kw_only=True)
class NoticePreferenceChanged(AuditEvent):
    """A person chose whether to receive one kind of e-mail notice."""

    name: ClassVar[str] = "notice-preference-changed"
    notice_kind: str
    enabled: bool


@dataclass(frozen=True, kw_only=True)
class WebhookEndpointChanged(AuditEvent):
    """An outgoing webhook endpoint was added, switched on or off (the secret is never recorded)."""

    name: ClassVar[str] = "webhook-endpoint-changed"
    endpoint: int
    change: str
    url: str
    events: str = ""


@dataclass(frozen=True, kw_only=True)
class ServiceMappingChanged(AuditEvent):
    """A Parvis tag was mapped to a back-office service code (empty: unmapped)."""

    name: ClassVar[str] = "service-mapping-changed"
    tag: str
    service_code: str


@dataclass(frozen=True, kw_only=True)
class ServiceRequestStatusChanged(AuditEvent):
    """The back office's status of a service request changed (« transmis », « en cours », « résolu »)."""

    name: ClassVar[str] = "service-request-status-changed"
    request: int
    service_request_id: str
    before: str
    after: str
    remote_status: str = ""
