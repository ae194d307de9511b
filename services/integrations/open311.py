"""The city's back office through Open311 GeoReport v2 (the standard FixMyStreet and other street-report systems
speak), as the ``open311`` kind of the outbox (decision 0120; docs/integrations.md).

Settings (:class:`core.settings_integrations.Open311Settings`): ``PARVIS_OPEN311_ENDPOINT``, ``_API_KEY``
(secret), ``_JURISDICTION_ID``, ``_POLL_S``, ``_SERVICES_TTL_H``. An administrator maps Parvis tags to the back
office's service codes (``GET services.json``, cached). From an urgent report an agent creates a *service request*
(:func:`create_request`): ``POST requests.json`` with the service code, a description (the message's text, its
link and a reference), the location (``lat``/``long``) or an address, the first photo as ``media_url``, and no
contact of the resident unless the agent types one. It goes through the outbox (queued with its audit event, sent
at once and by the worker on failure, retried with backoff); an uncertain answer is looked up in the back office
(``GET requests.json`` for a request whose description carries the reference) before anything is sent again.

The back office answers a ``service_request_id``, or a ``token`` resolved later (``GET tokens/{token}.json``).
The worker polls open requests (``GET requests/{id}.json``, :func:`poll`) and the inbox item shows « transmis »,
« en cours » or « résolu », so the agent can tell the resident.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from sqlite_utils import Database

from core import audit, repo
from core.config import Settings
from core.db import write_transaction
from core.errors import AuthFailed, ConfigError, PermanentFailure, RateLimited, Unavailable, ValidationError
from core.models import Agent
from core.repo import integrations as integrations_repo
from core.repo.integrations import OutRow, ServiceRequest
from core.settings_integrations import Open311Settings
from services.accounts.permissions import Action, require
from services.integrations.kind import IntegrationKind, deliver_now, queue
from services.integrations.notices import location_of, reference

log = logging.getLogger("parvis.integrations.open311")
CHANNEL = "open311"
DEADLINE = timedelta(hours=24)
STATUSES = ("pending", "sent", "in_progress", "resolved", "failed")  # French: console/messages/labels.py
_IN_PROGRESS = {"in_progress", "in progress", "investigating", "action_scheduled", "action scheduled",
                "acknowledged"}


def configured(settings: Settings) -> bool:
    """Whether a back office is configured."""
    return bool(settings.area(Open311Settings).endpoint)


class Open311Client:
    """The GeoReport v2 calls Parvis makes."""

    def __init__(self, conf: Open311Settings, session: requests.Session | None = None) -> None:
        if not conf.endpoint:
            raise ConfigError(f"{Open311Settings.key('endpoint')} is not set", reason="open311_unset")
        self.conf = conf
        self.base = conf.endpoint.rstrip("/")
        self.session = session or requests.Session()

    def _params(self, **extra: Any) -> dict[str, Any]:
        params = {k: v for k, v in extra.items() if v not in (None, "")}
        if self.conf.jurisdiction_id:
            params["jurisdiction_id"] = self.conf.jurisdiction_id
        return params

    def _answer(self, resp: requests.Response) -> Any:
        if resp.status_code == 403 or resp.status_code == 401:
            raise AuthFailed(f"back office refused the API key ({resp.status_code}): {_errors(resp)}",
                             reason="open311_forbidden")
        if resp.status_code == 429:
            raise RateLimited("back office rate limit", reason="open311_rate_limited")
        if 400 <= resp.status_code < 500:
            raise PermanentFailure(f"back office refused the request ({resp.status_code}): {_errors(resp)}",
                                   reason="open311_refused")
        if resp.status_code >= 300:
            raise Unavailable(f"back office error {resp.status_code}", reason="open311_unavailable")
        try:
            return resp.json()
        except ValueError as err:
            raise Unavailable("back office answer is not JSON", reason="open311_unreadable") from err

    def _get(self, path: str, **params: Any) -> Any:
        try:
            resp = self.session.get(f"{self.base}/{path}", params=self._params(**params), timeout=self.conf.timeout_s)
        except requests.RequestException as err:
            raise Unavailable(f"back office unreachable: {type(err).__name__}", reason="open311_unavailable") \
                from err
        return self._answer(resp)

    def services(self) -> list[dict[str, Any]]:
        """``GET services.json``."""
        body = self._get("services.json")
        return [s for s in body if isinstance(s, dict)] if isinstance(body, list) else []

    def post_request(self, fields: dict[str, Any]) -> dict[str, Any]:
        """``POST requests.json``: ``{"service_request_id": ...}`` or ``{"token": ...}``."""
        data = self._params(api_key=self.conf.api_key, **fields)
        try:
            resp = self.session.post(f"{self.base}/requests.json", data=data, timeout=self.conf.timeout_s)
        except (requests.ConnectionError, requests.Timeout) as err:
            if isinstance(err, requests.ConnectTimeout) or (isinstance(err, requests.ConnectionError) and
                                                             not isinstance(err, requests.ReadTimeout)
                                                             and "Connection refused" in str(err)):
                raise RateLimited(f"back office unreachable: {type(err).__name__}",
                                  reason="open311_unreachable") from err  # nothing reached it: try again
            raise Unavailable(f"back office answer lost: {type(err).__name__}", reason="open311_unavailable") from err
        body = self._answer(resp)
        first = body[0] if isinstance(body, list) and body else body if isinstance(body, dict) else {}
        out = {k: str(first[k]) for k in ("service_request_id", "token", "service_notice") if first.get(k)}
        if not out.get("service_request_id") and not out.get("token"):
            raise Unavailable("back office answered without an id or a token", reason="open311_unreadable")
        return out

    def token(self, token: str) -> str:
        """``GET tokens/{token}.json``: the request's id once the back office assigned it ("" before)."""
        body = self._get(f"tokens/{token}.json")
        first = body[0] if isinstance(body, list) and body else {}
        return str(first.get("service_request_id") or "")

    def request(self, service_request_id: str) -> dict[str, Any]:
        """``GET requests/{id}.json``."""
        body = self._get(f"requests/{service_request_id}.json")
        return body[0] if isinstance(body, list) and body else {}

    def requests_since(self, service_code: str, since: datetime) -> list[dict[str, Any]]:
        """``GET requests.json`` of one service since a time (lookups)."""
        body = self._get("requests.json", service_code=service_code,
                         start_date=since.strftime("%Y-%m-%dT%H:%M:%SZ"))
        return [r for r in body if isinstance(r, dict)] if isinstance(body, list) else []


def _errors(resp: requests.Response) -> str:
    """The GeoReport error array's descriptions (``[{"code": 400, "description": "..."}]``)."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200]
    if isinstance(body, list):
        return "; ".join(str(e.get("description", "")) for e in body if isinstance(e, dict))[:500]
    return str(body)[:200]


def status_of(answer: dict[str, Any]) -> str:
    """Parvis's status for a GeoReport request: ``resolved`` (closed), ``in_progress`` or ``sent``."""
    status = str(answer.get("status", "")).strip().lower()
    if status == "closed":
        return "resolved"
    if status in _IN_PROGRESS:
        return "in_progress"
    requested, updated = answer.get("requested_datetime"), answer.get("updated_datetime")
    if answer.get("status_notes") or (requested and updated and requested != updated):
        return "in_progress"
    return "sent"


# ---- service codes and the mapping ---------------------------------------------------------------------------------

def services(db: Database, settings: Settings, *, now: datetime, refresh: bool = False,
             client: Open311Client | None = None) -> list[dict[str, Any]]:
    """The back office's services (``service_code``, ``service_name``...), cached ``PARVIS_OPEN311_SERVICES_TTL_H``."""
    conf = settings.area(Open311Settings)
    cached = integrations_repo.cached_services(db)
    if cached is not None and not refresh and now - cached[1] < timedelta(hours=conf.services_ttl_h):
        return list(json.loads(cached[0]))
    found = (client or Open311Client(conf)).services()
    with write_transaction(db):
        integrations_repo.cache_services(db, json.dumps(found, ensure_ascii=False), now=now)
    return found


def mapping(db: Database) -> dict[str, str]:
    """Parvis tag -> service code."""
    return integrations_repo.service_map(db)


def set_mapping(db: Database, agent: Agent, tag: str, service_code: str, *, now: datetime) -> dict[str, str]:
    """Map a tag to a service code (empty: unmap); administrators."""
    require(agent, Action.CONNECTORS_MANAGE)
    tag = tag.strip().lower()
    if not tag:
        raise ValidationError("a tag is needed", reason="open311_tag_empty")
    with write_transaction(db):
        integrations_repo.set_service_map(db, tag, service_code.strip() or None, agent_id=agent.id, now=now)
        audit.record(db, audit.ServiceMappingChanged(actor=agent.email, role=str(agent.role), subject=f"tag:{tag}",
                                                     tag=tag, service_code=service_code.strip()), at=now)
    return mapping(db)


def service_code_for(db: Database, tags: tuple[str, ...]) -> str:
    """The service code of the first mapped tag ("" when none is)."""
    table = mapping(db)
    return next((table[t.lower()] for t in tags if t.lower() in table), "")


# ---- creating a request ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class Contact:
    """A resident's contact, only when the agent adds it (the resident agreed)."""

    email: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""


def request_fields(db: Database, uid: str, service_code: str, *, address: str = "",
                   contact: Contact | None = None, ref: str) -> dict[str, Any]:
    """What ``POST requests.json`` carries for mention ``uid``."""
    item = repo.get_item(db, uid)
    m = item.mention
    parts = [m.text.strip()]
    if m.permalink:
        parts.append(f"Lien : {m.permalink}")
    parts.append(f"Réf. {ref}")
    fields: dict[str, Any] = {"service_code": service_code, "description": "\n".join(parts)[:4000]}
    where = location_of(item)
    lat_long = [p.strip() for p in where.split(",")] if where.count(",") == 1 else []
    try:
        lat, lon = (float(lat_long[0]), float(lat_long[1])) if lat_long else (None, None)
    except ValueError:
        lat, lon = None, None
    if lat is not None and lon is not None:
        fields["lat"], fields["long"] = lat, lon
    elif address.strip() or where:
        fields["address_string"] = (address.strip() or where)[:500]
    else:
        raise ValidationError("a location or an address is needed", reason="open311_location_needed")
    if m.media:
        fields["media_url"] = m.media[0]
    if contact is not None:
        fields.update({k: v for k, v in (("email", contact.email), ("first_name", contact.first_name),
                                         ("last_name", contact.last_name), ("phone", contact.phone)) if v.strip()})
    return fields


def create_request(db: Database, settings: Settings, agent: Agent, uid: str, *, now: datetime,
                   service_code: str = "", address: str = "", contact: Contact | None = None,
                   kind: Open311Kind | None = None) -> ServiceRequest:
    """An agent sends an urgent report to the back office: queued with its audit event, then sent at once (the
    worker retries it when it cannot go now). Returns the request (its status says where it stands)."""
    require(agent, Action.MODERATE)
    if not configured(settings):
        raise ConfigError(f"no back office configured ({Open311Settings.key('endpoint')})", reason="open311_unset")
    item = repo.get_item(db, uid)
    code = service_code.strip() or service_code_for(db, item.tags)
    if not code:
        raise ValidationError("no service code for this message's tags", reason="open311_service_unknown")
    with write_transaction(db):
        n = len(integrations_repo.service_requests_for(db, uid)) + 1
        ref = reference(uid, str(n))
        fields = request_fields(db, uid, code, address=address, contact=contact, ref=ref)
        row_id = queue(db, channel=CHANNEL, dedupe=f"open311:{uid}:{n}", topic="service_request", subject=uid,
                       recipient=code, payload={"fields": fields, "reference": ref}, now=now, deadline=DEADLINE,
                       actor=agent.email, role=str(agent.role), agent_id=agent.id, mention_uid=uid)
        if row_id is None:
            raise ValidationError("this request was already queued", reason="open311_duplicate")
        integrations_repo.add_service_request(db, uid, row_id, code, agent_id=agent.id, now=now)
    the_kind = kind or Open311Kind(settings)
    try:
        deliver_now(db, the_kind, row_id, clock=lambda: now, agent=agent)
    except Exception:  # noqa: BLE001 - the request is queued: the worker sends it (a failure is recorded there)
        log.exception("service request %s could not be sent at once; the worker will", row_id)
    return integrations_repo.service_request_by_outbox(db, row_id)


def requests_for(db: Database, viewer: Agent, uid: str) -> list[ServiceRequest]:
    """The back-office requests made for ``uid`` (shown on the inbox item)."""
    require(viewer, Action.INBOX_READ)
    return integrations_repo.service_requests_for(db, uid)


class Open311Kind(IntegrationKind):
    """Service requests as outbox rows; looked up by their reference when the answer was lost."""

    name = "open311"
    channel = CHANNEL
    what = "la demande au service"

    def __init__(self, settings: Settings, *, client: Open311Client | None = None) -> None:
        self.settings = settings
        self._client = client

    @property
    def client(self) -> Open311Client:
        """The GeoReport client (built on first use)."""
        if self._client is None:
            self._client = Open311Client(self.settings.area(Open311Settings))
        return self._client

    def send(self, row: OutRow) -> Any:
        return self.client.post_request(dict(row.payload["fields"]))

    def can_look_up(self, connector: Any) -> bool:
        return connector is not None

    def find(self, connector: Any, item: Any) -> Any:
        row: OutRow = item.row
        ref = str(row.payload.get("reference", ""))
        since = item.since or row.created_at
        for found in self.client.requests_since(str(row.payload["fields"]["service_code"]), since):
            if ref and ref in str(found.get("description", "")):
                return {"service_request_id": str(found.get("service_request_id", ""))}
        return None

    def after_done(self, row: OutRow, result: Any, now: datetime) -> None:
        sr = integrations_repo.service_request_by_outbox(self.db, row.id)
        answer = result if isinstance(result, dict) else {}
        integrations_repo.update_service_request(self.db, sr.id, now=now, status="sent",
                                                 service_request_id=str(answer.get("service_request_id", "")),
                                                 token=str(answer.get("token", "")))
        audit.record(self.db, audit.ServiceRequestStatusChanged(
            actor=audit.SYSTEM_WORKER, subject=sr.mention_uid, request=sr.id,
            service_request_id=str(answer.get("service_request_id", "")), before=sr.status, after="sent"), at=now)

    def after_failed(self, row: OutRow, now: datetime) -> None:
        sr = integrations_repo.service_request_by_outbox(self.db, row.id)
        integrations_repo.update_service_request(self.db, sr.id, now=now, status="failed")
        audit.record(self.db, audit.ServiceRequestStatusChanged(
            actor=audit.SYSTEM_WORKER, subject=sr.mention_uid, request=sr.id,
            service_request_id=sr.service_request_id, before=sr.status, after="failed"), at=now)


# ---- polling --------------------------------------------------------------------------------------------------------

def poll(db: Database, settings: Settings, *, now: datetime, client: Open311Client | None = None,
         force: bool = False) -> int:
    """Ask the back office where open requests stand (each at most every ``PARVIS_OPEN311_POLL_S``); how many
    changed. A token is resolved first; an unreachable back office is asked again at the next poll."""
    if not configured(settings):
        return 0
    conf = settings.area(Open311Settings)
    client = client or Open311Client(conf)
    changed = 0
    for sr in integrations_repo.open_service_requests(db):
        if not force and sr.polled_at is not None and now - sr.polled_at < timedelta(seconds=conf.poll_s):
            continue
        try:
            sr_id = sr.service_request_id or client.token(sr.token)
            answer = client.request(sr_id) if sr_id else {}
        except (Unavailable, RateLimited, AuthFailed, PermanentFailure) as err:
            log.warning("service request %s: status unknown (%s)", sr.id, err)
            with write_transaction(db):
                integrations_repo.update_service_request(db, sr.id, now=now, polled_at=now)
            continue
        status = status_of(answer) if answer else sr.status
        with write_transaction(db):
            integrations_repo.update_service_request(db, sr.id, now=now, polled_at=now, service_request_id=sr_id,
                                                     status=status, remote_status=str(answer.get("status", "")),
                                                     status_notes=str(answer.get("status_notes") or "")[:1000])
            if status != sr.status:
                audit.record(db, audit.ServiceRequestStatusChanged(
                    actor=audit.SYSTEM_WORKER, subject=sr.mention_uid, request=sr.id, service_request_id=sr_id,
                    before=sr.status, after=status, remote_status=str(answer.get("status", ""))), at=now)
                changed += 1
    return changed
