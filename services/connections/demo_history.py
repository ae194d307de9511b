"""The demo city's past weeks of work (issue #17 point 12): a team that has been answering, so that every page
shows what it is for.

Everything goes through the real services with the time of the act as ``now`` (drafts, sends through the demo
connector's outbox, approvals, status changes, saved replies, the charter, posts and their publication), so the
audit trail, the dashboard's roll-ups and the archive hold what a real team would have left:

* a charter adopted by the director four weeks ago, and saved replies whose variables (``{prenom}``,
  ``{service}``, ``{lien}``) the composer asks for;
* older messages answered by the community managers with realistic response times (from minutes to a day and a
  half, longer at night and at weekends), the replies of the one who needs approval approved by the director;
  messages that needed no answer closed; the last day and a half left open, as a team's backlog is;
* three replies « à vérifier » (the platform did not say whether they went out);
* posts published over the past weeks, posts scheduled for the coming days (a Saturday market included), one
  waiting for the director's approval.

Randomness is seeded: the same demo every time. Each part is its own function, for other seeds to join.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from core.errors import ConnectorError, ParvisError, Unavailable
from core.models import Agent, InboxItem, Mention, Published, Status
from core.repo.inbox import InboxQuery
from services.accounts import users
from services.accounts.permissions import Action, can
from services.editorial import calendar, charter, post_review
from services.inbox import replies, saved_replies, triage

log = logging.getLogger("parvis.demo")
ANSWER_SHARE = 0.55  # of the messages older than the backlog window: answered; a quarter more closed
CLOSE_SHARE = 0.25
BACKLOG = timedelta(hours=36)
DEMO_ACCOUNT = "demo"

SAVED_REPLIES = (
    ("Signalement transmis",
     "Bonjour {prenom}, merci pour votre signalement. Nous l'avons transmis au service {service}, qui intervient "
     "dans les meilleurs délais."),
    ("Plus d'informations en ligne", "Bonjour {prenom}, vous trouverez toutes les informations ici : {lien}"),
    ("Horaires de la mairie",
     "Bonjour {prenom}, la mairie vous accueille du lundi au vendredi de 8 h 30 à 17 h 30 et le samedi de 9 h à "
     "12 h."),
    ("Précisions en message privé",
     "Bonjour {prenom}, pour traiter votre demande, écrivez-nous en message privé avec l'adresse exacte. Merci !"),
    ("Remerciement", "Merci {prenom} pour votre message, nous transmettons à l'équipe {service} !"),
)
SERVICES = ("Propreté", "Voirie", "Espaces verts", "Éclairage public", "Stationnement", "Culture")
LINKS = ("https://www.valmont.example/demarches", "https://www.valmont.example/agenda",
         "https://www.valmont.example/travaux")
POSTS_PUBLISHED = (
    (-20, 18, "Le marché de Noël ouvre ses portes place de la Mairie : rendez-vous dès vendredi 17 h !"),
    (-13, 11, "Collecte des encombrants : les inscriptions sont ouvertes jusqu'au 20 sur valmont.example."),
    (-6, 9, "Travaux rue des Tilleuls : circulation alternée toute la semaine, merci de votre patience."),
)
POSTS_SCHEDULED = (
    (1, 10, "Conseil municipal jeudi à 19 h, en direct sur la chaîne de la Ville."),
    (3, 9, "Ce samedi, marché des producteurs place du Général-de-Gaulle, de 8 h à 13 h."),
    (4, 11, "Dimanche : course solidaire au parc des Berges, départ 10 h. Venez encourager les coureurs !"),
)
POST_WAITING = (6, 9, "Nouvelle piste cyclable avenue Jean-Jaurès : ouverture lundi prochain.")


@dataclass(slots=True)
class HistoryReport:
    """What :func:`seed_history` did."""

    answered: int = 0
    closed: int = 0
    to_verify: int = 0
    saved_replies: int = 0
    posts: int = 0
    skipped: list[str] = field(default_factory=list)


class _Uncertain:
    """The demo connector, except that the platform never answers (a time-out): the reply is « à vérifier »."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        if name == "find_reply":  # no lookup possible: a person must check
            raise AttributeError(name)
        return getattr(self._inner, name)

    def reply(self, mention: Mention, text: str) -> Published:
        raise Unavailable("the demo platform did not answer in time (time-out)", reason="platform_no_answer")


def seed_history(db: Database, connector: Any, *, now: datetime, seed: int = 17) -> HistoryReport:
    """Give the demo team its past weeks (once: nothing happens if saved replies already exist)."""
    report = HistoryReport()
    team = users.list_agents(db)
    director = next((a for a in team if can(a, Action.SAVED_REPLY_EDIT)), None)
    managers = [a for a in team if can(a, Action.REPLY_COMPOSE) and not can(a, Action.REPLY_APPROVE)]
    if director is None or not managers:
        report.skipped.append("no director or community manager")
        return report
    if saved_replies.list_saved(db, director):
        report.skipped.append("history already there")
        return report
    rng = random.Random(seed)
    seed_charter(db, director, now=now)
    report.saved_replies = seed_saved_replies(db, director, now=now)
    seed_replies(db, connector, director, managers, now=now, rng=rng, report=report)
    report.posts = seed_posts(db, connector, director, managers[0], now=now)
    return report


def seed_charter(db: Database, director: Agent, *, now: datetime) -> None:
    """The charter adopted by the director four weeks ago (the built-in one, named for the city)."""
    from dataclasses import replace

    base = charter.current(db).charter
    charter.save(db, director, replace(base, name="Charte éditoriale de la Ville de Valmont"),
                 now=now - timedelta(days=28), comment="Adoption par la direction de la communication")


def seed_saved_replies(db: Database, director: Agent, *, now: datetime) -> int:
    """The team's saved replies, written by the director."""
    for i, (title, body) in enumerate(SAVED_REPLIES):
        saved_replies.create(db, director, title=title, body=body, now=now - timedelta(days=27, hours=-i))
    return len(SAVED_REPLIES)


def _response_delay(rng: random.Random, created: datetime) -> timedelta:
    """How long the team took: mostly within hours on a working day, longer at night and at weekends."""
    minutes = rng.lognormvariate(4.6, 0.9)  # median ~100 min
    local_hour = (created.hour + 1) % 24  # roughly Paris time
    if local_hour >= 19 or local_hour < 8:
        minutes += rng.uniform(6, 12) * 60  # answered next morning
    if created.weekday() >= 5:
        minutes += rng.uniform(12, 30) * 60
    return timedelta(minutes=min(minutes, 36 * 60))


def _body(db: Database, agent: Agent, item: InboxItem, templates: list[Any], rng: random.Random) -> str:
    saved = rng.choice(templates)
    return saved_replies.fill(db, agent, saved.id, item=item, service=rng.choice(SERVICES), lien=rng.choice(LINKS))


def _candidates(db: Database, *, until: datetime) -> list[InboxItem]:
    items: list[InboxItem] = []
    offset = 0
    while True:
        page = triage.list_items(db, InboxQuery(open_only=True, until=until, order="oldest", limit=500,
                                                offset=offset))
        items.extend(page.items)
        if len(page.items) < 500:
            return items
        offset += 500


def seed_replies(db: Database, connector: Any, director: Agent, managers: list[Agent], *, now: datetime,
                 rng: random.Random, report: HistoryReport) -> None:
    """Answer or close most messages older than the backlog window; three replies end « à vérifier »."""
    templates = saved_replies.list_saved(db, director)
    uncertain = _Uncertain(connector)
    for item in _candidates(db, until=now - BACKLOG):
        if item.risk_flags:  # the risky ones stay for the moderation queue
            continue
        draw = rng.random()
        created = item.mention.created_at
        at = min(created + _response_delay(rng, created), now - timedelta(hours=2))
        agent = rng.choice(managers)
        try:
            if draw < CLOSE_SHARE:
                triage.change_status(db, item.uid, Status.CLOSED, actor=agent, now=at)
                report.closed += 1
                continue
            if draw > CLOSE_SHARE + ANSWER_SHARE or replies.reply_impossible(item.mention):
                continue
            body = _body(db, agent, item, templates, rng)
            draft = replies.create_draft(db, agent, mention_uid=item.uid, body=body, now=at)
            sender = agent
            if agent.needs_approval:
                replies.submit(db, agent, draft.id, now=at)
                at += timedelta(minutes=rng.randint(5, 40))
                replies.approve(db, director, draft.id, now=at)
                sender = director
            if report.to_verify < 3 and draw > 0.78:
                try:
                    replies.send(db, sender, draft.id, uncertain, now=at)  # type: ignore[arg-type]
                except ConnectorError:
                    report.to_verify += 1
                continue
            replies.send(db, sender, draft.id, connector, now=at)
            report.answered += 1
        except ParvisError as err:  # a charter block, a refused transition: that message stays as it is
            log.debug("demo history: %s left as is (%s)", item.uid, err)


def _fixed(at: datetime) -> Callable[[], datetime]:
    return lambda: at


def seed_posts(db: Database, connector: Any, director: Agent, author: Agent, *, now: datetime) -> int:
    """Posts published over the past weeks, scheduled for the coming days, one waiting for approval."""
    from services.publishing.posts import Publisher

    count = 0
    day0 = now.replace(minute=0, second=0, microsecond=0)
    for days, hour, text in POSTS_PUBLISHED:
        written = day0 + timedelta(days=days - 2)
        local = (day0 + timedelta(days=days)).replace(hour=hour, tzinfo=None)
        post = calendar.create_post(db, author, text=text, accounts=[DEMO_ACCOUNT], at=local, now=written)
        post_review.submit_post(db, author, post.id, now=written + timedelta(minutes=5))
        post_review.approve_post(db, director, post.id, now=written + timedelta(hours=3))
        due: datetime = post.scheduled_at + timedelta(seconds=30)
        Publisher(db, {DEMO_ACCOUNT: connector}, clock=_fixed(due), worker_id="demo-history").tick()
        count += 1
    for days, hour, text in (*POSTS_SCHEDULED, POST_WAITING):
        local = (day0 + timedelta(days=days)).replace(hour=hour, tzinfo=None)
        post = calendar.create_post(db, author, text=text, accounts=[DEMO_ACCOUNT], at=local,
                                    now=now - timedelta(hours=20))
        post_review.submit_post(db, author, post.id, now=now - timedelta(hours=19))
        if text != POST_WAITING[2]:
            post_review.approve_post(db, director, post.id, now=now - timedelta(hours=2))
        count += 1
    return count
