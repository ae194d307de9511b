"""E-mail notices (decision 0120; docs/integrations.md): the report forwarded to a municipal service, and what the
team is told: a director, that something awaits their approval; the on-call list, that a crisis spike started;
the assignee and the directors, that an answer promise (the response target in opening hours) is about to be
broken; a list, the weekly report PDF.

Each person chooses which notices they get (:func:`set_preference`, the console's « Mes notifications »); the
defaults are in :data:`NOTICES`. Notices are found by a scan of the database that the worker runs every minute
(:func:`scan`): each is queued once (its outbox key names what it is about: ``approval:post:12:3``,
``crisis:<hour>``, ``promise:<uid>``, ``weekly:<week>``), so running the scan again, or two workers, sends nothing
twice. The forward e-mail is queued by « Transmettre au service » itself (services/moderation/actions.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from core import audit, repo
from core.clock import PARIS, from_iso
from core.config import Settings
from core.db import write_transaction
from core.errors import NotFoundError, ValidationError
from core.models import Agent, InboxItem
from core.repo import integrations as integrations_repo
from core.repo.integrations import OutRow
from core.settings_integrations import NoticeSettings
from services.accounts.permissions import Action, can
from services.integrations.email import Attachment, configured, queue_email

# notice -> who gets it unless they chose otherwise: those the role matrix allows this action (the leads approve
# replies; everyone triages). French labels: console/messages/labels.py.
NOTICES: dict[str, Action] = {
    "approval": Action.REPLY_APPROVE,
    "crisis": Action.MODERATE_CONFIRM,
    "promise": Action.INBOX_TRIAGE,
    "weekly": Action.REPLY_APPROVE,
}
LEADS = Action.REPLY_APPROVE  # "the assignee's lead": whoever approves the team's replies (the directors)
PROMISE_LOOKBACK = timedelta(days=14)


def wants(db: Database, agent: Agent, notice: str) -> bool:
    """Whether ``agent`` gets ``notice`` (their choice, else the default of their role's rights)."""
    choice = integrations_repo.notice_preferences(db, agent.id).get(notice)
    return choice if choice is not None else can(agent, NOTICES[notice])


def preferences(db: Database, agent: Agent) -> dict[str, bool]:
    """Every notice and whether ``agent`` gets it."""
    return {notice: wants(db, agent, notice) for notice in NOTICES}


def set_preference(db: Database, agent: Agent, which: str, enabled: bool, *, now: datetime) -> dict[str, bool]:
    """``agent`` chooses whether to get the notice ``which`` (one's own choice: no other right needed); audited."""
    notice = which
    if notice not in NOTICES:
        raise ValidationError(f"unknown notice {notice!r}", reason="notice_unknown", given=notice)
    with write_transaction(db):
        integrations_repo.set_notice_preference(db, agent.id, notice, enabled, now=now)
        audit.record(db, audit.NoticePreferenceChanged(actor=agent.email, role=str(agent.role),
                                                       subject=f"agent:{agent.id}", notice_kind=notice,
                                                       enabled=enabled), at=now)
    return preferences(db, agent)


def _addresses(value: str) -> list[str]:
    return [a.strip() for a in value.replace(";", ",").split(",") if a.strip()]


def _link(settings: Settings, uid: str) -> str:
    base = settings.area(NoticeSettings).console_url.rstrip("/")
    return f"{base}/inbox?item={uid}" if base else ""


# ---- the forward to a municipal service -------------------------------------------------------------------------

def location_of(item: InboxItem) -> str:
    """Where the report is, if the platform said (the message's own coordinates or place in its payload, never the
    author's profile location); "" otherwise."""
    raw: dict[str, Any] = item.mention.raw or {}
    for key in ("coordinates", "geo", "location", "place"):
        value = raw.get(key)
        if isinstance(value, dict):
            lat = value.get("lat") or value.get("latitude")
            lon = value.get("long") or value.get("lon") or value.get("longitude")
            if lat is not None and lon is not None:
                return f"{lat}, {lon}"
            name = value.get("full_name") or value.get("name")
            if name:
                return str(name)
        elif key == "place" and isinstance(value, str) and value.strip():  # a post's place, never a profile's
            return value.strip()[:200]
    return ""


def reference(uid: str, row_hint: str = "") -> str:
    """The reference a service quotes back (``PARVIS-<platform>-<id>``)."""
    return "PARVIS-" + uid.replace(":", "-") + (f"-{row_hint}" if row_hint else "")


def forward_body(settings: Settings, item: InboxItem, service: str, agent: Agent, note: str) -> tuple[str, str]:
    """Subject and text of the e-mail to a service: the message, its link, photos as links, the location if known,
    the forwarding agent and a reference. Not the author's handle, name or profile (the service acts on the
    place, not the person; the link leads to the public message for whoever needs more)."""
    m = item.mention
    ref = reference(item.uid)
    lines = [f"Bonjour {service},", "",
             f"{agent.name} ({agent.email}) vous transmet un signalement reçu par la ville sur {m.platform}.", "",
             "Message :", m.text, ""]
    if m.permalink:
        lines.append(f"Lien : {m.permalink}")
    if m.media:
        lines.append("Photos :")
        lines += [f"- {url}" for url in m.media]
    where = location_of(item)
    if where:
        lines.append(f"Localisation : {where}")
    lines.append(f"Reçu le : {m.created_at.astimezone(PARIS):%d/%m/%Y à %H:%M}")
    if note:
        lines += ["", f"Note de l'agent : {note}"]
    console = _link(settings, item.uid)
    if console:
        lines.append(f"Dans Parvis : {console}")
    lines += ["", f"Référence : {ref} (à rappeler dans votre réponse).", "",
              "Ce message a été envoyé par Parvis ; répondez à l'agent indiqué ci-dessus."]
    return f"[Parvis] Signalement transmis — {ref}", "\n".join(lines)


def queue_forward(db: Database, settings: Settings, uid: str, service: str, address: str, *, agent: Agent,
                  note: str, now: datetime, decision_id: int) -> int | None:
    """Queue the forward e-mail (in the caller's transaction); None when e-mail is not configured."""
    if not configured(settings):
        return None
    item = repo.get_item(db, uid)
    title, body = forward_body(settings, item, service, agent, note)
    return queue_email(db, settings, dedupe=f"forward:{uid}:{decision_id}", topic="forward", subject_uid=uid,
                       to=[address], title=title, body=body, now=now, actor=agent.email, role=str(agent.role),
                       agent_id=agent.id, quotes=uid)


# ---- notices found by the scan ------------------------------------------------------------------------------------

@dataclass(slots=True)
class ScanReport:
    """How many notices one scan queued."""

    approval: int = 0
    crisis: int = 0
    promise: int = 0
    weekly: int = 0

    @property
    def total(self) -> int:
        """All of them."""
        return self.approval + self.crisis + self.promise + self.weekly


def _people(db: Database, notice: str, audience: Action) -> list[Agent]:
    return [a for a in repo.list_agents(db) if can(a, audience) and wants(db, a, notice)]


def scan(db: Database, settings: Settings, *, now: datetime) -> ScanReport:
    """Queue every notice due now (each once); nothing when e-mail is not configured."""
    report = ScanReport()
    if not configured(settings):
        return report
    with write_transaction(db):
        report.approval = _approvals(db, settings, now)
        report.crisis = _crisis(db, settings, now)
        report.promise = _promises(db, settings, now)
        report.weekly = _weekly(db, settings, now)
    return report


_APPROVAL_WHAT = {"reply": "une réponse", "post": "une publication", "moderation": "une action de modération"}


def _approvals(db: Database, settings: Settings, now: datetime) -> int:
    queued = 0
    directors = _people(db, "approval", Action.REPLY_APPROVE)
    for what, key, label in integrations_repo.awaiting_approval(db):
        for person in directors:
            title = f"[Parvis] À approuver : {_APPROVAL_WHAT[what]}"
            body = (f"Bonjour {person.first_name},\n\n{_APPROVAL_WHAT[what].capitalize()} attend votre approbation "
                    f"dans Parvis (page Approbations{', ' + label if what == 'moderation' else ''}).\n")
            link = settings.area(NoticeSettings).console_url.rstrip("/")
            if link:
                body += f"\n{link}/approvals\n"
            queued += queue_email(db, settings, dedupe=f"approval:{what}:{key}:{person.id}", topic="approval",
                                  subject_uid=f"{what}:{key}", to=[person.email], title=title, body=body,
                                  now=now) is not None
    return queued


def _crisis(db: Database, settings: Settings, now: datetime) -> int:
    from services.moderation.queue import crisis  # the one crisis rule (moderation/crisis.py)

    status = crisis(db, now, settings)
    if not status.active:
        return 0
    # one notice per spike: a spike that lasts keeps its first hour's key for 6 hours
    for hours_ago in range(1, 7):
        earlier = (now - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H")
        if integrations_repo.by_dedupe(db, f"email:crisis:{earlier}") is not None:
            return 0
    oncall = _addresses(settings.area(NoticeSettings).oncall)
    known = {a.email.lower(): a for a in repo.list_agents(db)}
    to = [addr for addr in oncall if addr.lower() not in known or wants(db, known[addr.lower()], "crisis")]
    to += [a.email for a in _people(db, "crisis", Action.MODERATE_CONFIRM) if a.email.lower() not in
           {x.lower() for x in to} and a.email.lower() not in {x.lower() for x in oncall}]
    body = (f"{status.message_fr()}\n\nOuvrez la page Modération de Parvis pour suivre la situation.\n")
    return int(queue_email(db, settings, dedupe=f"crisis:{now.strftime('%Y-%m-%dT%H')}", topic="crisis",
                           subject_uid="crisis", to=to, title="[Parvis] Alerte : pic de messages négatifs",
                           body=body, now=now) is not None)


def _promises(db: Database, settings: Settings, now: datetime) -> int:
    from services.inbox.opening_hours import OpeningHours

    hours = OpeningHours.from_settings(settings)
    target = settings.inbox.response_target_h * 3600
    warn = settings.area(NoticeSettings).promise_warn_min * 60
    directors = _people(db, "promise", LEADS)
    queued = 0
    # business time never runs faster than wall-clock time: only messages older than (target - warning) qualify
    until = now - timedelta(seconds=max(0.0, target - warn))
    for uid, created, assigned in integrations_repo.unanswered_open(db, now - PROMISE_LOOKBACK, until):
        left = target - hours.business_seconds(created, now)
        if not 0 < left <= warn:
            continue
        people = list(directors)
        if assigned is not None:
            try:
                assignee = repo.get_agent(db, assigned)
            except NotFoundError:
                assignee = None
            if assignee is not None and assignee.active and wants(db, assignee, "promise") and \
                    assignee.id not in {p.id for p in people}:
                people.insert(0, assignee)
        if not people:
            continue
        minutes = max(1, round(left / 60))
        body = (f"Un message reçu le {created.astimezone(PARIS):%d/%m/%Y à %H:%M} n'a pas encore de réponse : "
                f"l'objectif de réponse ({settings.inbox.response_target_h:g} h ouvrées) sera dépassé dans "
                f"{minutes} min ouvrées.\n")
        link = _link(settings, uid)
        if link:
            body += f"\n{link}\n"
        queued += queue_email(db, settings, dedupe=f"promise:{uid}", topic="promise", subject_uid=uid,
                              to=[p.email for p in people], title="[Parvis] Réponse attendue bientôt en retard",
                              body=body, now=now) is not None
    return queued


def week_of(now: datetime) -> tuple[datetime, datetime, str]:
    """The last full Paris week (Monday to Sunday) before ``now``: since, until, its ISO name."""
    from services.reports.dashboard import period

    local = now.astimezone(PARIS).date()
    monday = local - timedelta(days=local.weekday() + 7)
    since, until = period(monday, monday + timedelta(days=6))
    year, week, _ = monday.isocalendar()
    return since, until, f"{year}-W{week:02d}"


def _weekly(db: Database, settings: Settings, now: datetime) -> int:
    conf = settings.area(NoticeSettings)
    local = now.astimezone(PARIS)
    if local.weekday() != conf.weekly_day or local.hour < conf.weekly_hour:
        return 0
    known = {a.email.lower(): a for a in repo.list_agents(db)}
    to = [a for a in _addresses(conf.weekly_to) if a.lower() not in known or wants(db, known[a.lower()], "weekly")]
    since, until, name = week_of(now)
    body = (f"Bonjour,\n\nVoici le rapport hebdomadaire des réseaux sociaux de la ville ({name}), en pièce jointe.\n"
            "Il cite des messages publics de résidents : ne le diffusez pas au-delà des destinataires prévus.\n")
    return int(queue_email(db, settings, dedupe=f"weekly:{name}", topic="weekly", subject_uid=f"report:{name}",
                           to=to, title=f"[Parvis] Rapport hebdomadaire {name}", body=body, now=now,
                           extra={"report_since": since.isoformat(), "report_until": until.isoformat(),
                                  "report_name": name}) is not None)


def attachments_for(db: Database, settings: Settings, row: OutRow, *, now: datetime) -> tuple[Attachment, ...]:
    """The files of an e-mail, built at send time: the weekly report's PDF."""
    if row.topic != "weekly":
        return ()
    from services.reports import dashboard
    from services.reports.weekly import build_report, render

    since, until = from_iso(row.payload["report_since"]), from_iso(row.payload["report_until"])
    assert since is not None and until is not None
    built = build_report(db, since=since, until=until, config=dashboard.DashboardConfig.from_settings(settings),
                         now=now)
    return (Attachment(filename=f"rapport-{row.payload['report_name']}.pdf", content=render(built, "pdf")),)
