"""The moderation queue (read side): flagged items above a threshold, crisis status, time to action, services.

Writes (hide, spam, escalate, forward, dismiss...) are in services/moderation/actions.py. Settings:
``PARVIS_MODERATION_THRESHOLD`` (risk score from which a mention enters the queue, default 0.5),
``PARVIS_TIME_TO_ACTION_MIN`` (target from flag to decision on unlawful items, default 60),
``PARVIS_MUNICIPAL_SERVICES`` ("Voirie=voirie@ville.fr;Propreté=proprete@ville.fr"),
``PARVIS_CRISIS_MULTIPLE`` (default 3) and ``PARVIS_CRISIS_MIN_COUNT`` (default 5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from core import repo
from core.config import Settings
from core.errors import ConfigError, NotFoundError, ValidationError
from core.models import Agent, InboxItem
from core.repo import author_bans as author_bans_repo
from core.repo import author_marks as author_marks_repo
from core.repo import moderation as moderation_repo
from core.repo import moderation_actions as moderation_actions_repo
from core.repo import moderation_queue as queue_repo
from core.repo import outbox as acts_repo
from core.settings_schema import ModerationSettings
from moderation import crisis as crisis_mod
from moderation import legal
from services.accounts.permissions import Action, require

QUEUE_LIMIT = 200
SELF_HARM_HELP_FR = ("Orienter vers une aide (3114) : numéro national de prévention du suicide, 24 h/24, "
                     "gratuit. Ce n'est pas un cas de modération.")
FLAG_LABELS_FR = {"insult": "insulte", "threat": "menace", "hate": "haine", "harassment": "harcèlement",
                  "personal_data": "donnée personnelle", "urgent": "urgence", "spam": "spam",
                  "self_harm": "détresse"}
FINAL_ACTIONS = frozenset(queue_repo.FINAL_ACTIONS)
PAGE_SIZE = 25
RANKING_RULE_FR = ("Ordre de la file : d'abord les menaces, la détresse et les données personnelles exposées, "
                   "puis les autres messages par priorité. Une menace n'est jamais noyée sous des signalements "
                   "répétés d'un même incident.")
AGE_CHOICES_DAYS = (0, 1, 7, 30)  # 0: any age


@dataclass(frozen=True, slots=True, kw_only=True)
class FlaggedSpan:
    """A piece of the text that triggered a flag."""

    kind: str
    text: str
    start: int
    end: int

    def label_fr(self) -> str:
        """« … » (insulte)"""
        return f"« {self.text} » ({FLAG_LABELS_FR.get(self.kind, self.kind)})"


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueItem:
    """One item of the moderation queue."""

    item: InboxItem
    flags: tuple[dict[str, Any], ...]
    spans: tuple[FlaggedSpan, ...]
    grounds: tuple[legal.LegalGround, ...]
    unlawful: bool  # a suggested ground is unlawful content (time to action counts against the target)
    self_harm: bool
    author_mark: str | None
    waited: timedelta
    within_target: bool
    decisions: tuple[moderation_actions_repo.Decision, ...] = ()
    author_banned: bool = False  # already banned through Parvis (services/moderation/bans.py)

    @property
    def uid(self) -> str:
        """The mention's uid."""
        return self.item.uid


def threshold(settings: Settings) -> float:
    """``PARVIS_MODERATION_THRESHOLD`` (risk score in [0, 1], default 0.5)."""
    return settings.moderation.threshold


def action_target(settings: Settings) -> timedelta:
    """``PARVIS_TIME_TO_ACTION_MIN`` as a timedelta (default 60 minutes)."""
    return timedelta(minutes=settings.moderation.time_to_action_min)


def municipal_services(settings: Settings) -> dict[str, str]:
    """``PARVIS_MUNICIPAL_SERVICES`` parsed: ``{"Voirie": "voirie@ville.fr", ...}`` (ConfigError if malformed)."""
    raw = settings.moderation.municipal_services
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in raw.split(";"))):
        name, sep, email = part.partition("=")
        if not sep or not name.strip() or "@" not in email:
            raise ConfigError(f"{ModerationSettings.key('municipal_services')}: expected 'Nom=adresse@ville.fr' "
                              f"separated by ';', got {part!r}")
        out[name.strip()] = email.strip()
    return out


def spans_of(item: InboxItem) -> tuple[FlaggedSpan, ...]:
    """The flagged pieces of text, in reading order (spans outside the text are skipped)."""
    text = item.mention.text
    out = []
    for flag in item.risk_flags:
        for span in flag.get("spans", ()) or ():
            start, end = int(span[0]), int(span[1])
            if 0 <= start < end <= len(text):
                out.append(FlaggedSpan(kind=str(flag.get("kind", "")), text=text[start:end], start=start, end=end))
    return tuple(sorted(out, key=lambda s: (s.start, s.end)))


def is_unlawful(flags: tuple[dict[str, Any], ...]) -> bool:
    """Whether the flags suggest an unlawful ground (insult, hate, threat): time to action then counts."""
    return any(g.unlawful for g in legal.suggested_grounds(flags))


def build_item(db: Database, item: InboxItem, now: datetime, target: timedelta) -> QueueItem:
    """A queue item for ``item``, with spans, grounds, author mark and ban, and time to action."""
    flags = tuple(item.risk_flags)
    author = (str(item.mention.platform), item.mention.author.platform_id)
    decisions = tuple(moderation_actions_repo.decisions_for(db, item.uid))
    final = next((d for d in decisions if d.action in FINAL_ACTIONS), None)
    decided_at = final.decided_at if final else None
    return QueueItem(
        item=item, flags=flags, spans=spans_of(item), grounds=tuple(legal.suggested_grounds(flags)),
        unlawful=is_unlawful(flags), self_harm=any(f.get("kind") == "self_harm" for f in flags),
        author_mark=author_marks_repo.mark_of(db, *author),
        author_banned=author_bans_repo.ban_of(db, *author) is not None,
        waited=legal.time_to_action(item.ingested_at, decided_at or now),
        within_target=legal.within_target(item.ingested_at, decided_at, now, target=target), decisions=decisions)


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueFilter:
    """What the team narrows the queue to: risk kinds, platforms, age (days, 0 = any), author marks
    (core/repo/moderation_queue.MARK_FILTERS) and words of the text."""

    kinds: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    max_age_days: int = 0
    mark: str = "any"
    search: str = ""

    def query(self, threshold: float, now: datetime, *, limit: int = PAGE_SIZE,
              offset: int = 0) -> queue_repo.QueueQuery:
        """The repository query for this filter."""
        unknown = [k for k in self.kinds if k not in FLAG_LABELS_FR]
        if unknown:
            raise ValidationError(f"unknown risk kind(s) {unknown}", reason="risk_kind_unknown", kinds=unknown)
        if self.mark not in queue_repo.MARK_FILTERS:
            raise ValidationError(f"unknown author mark filter {self.mark!r}", reason="mark_filter_unknown",
                                  mark=self.mark)
        if self.max_age_days < 0:
            raise ValidationError("age must be >= 0", reason="age_negative")
        since = now - timedelta(days=self.max_age_days) if self.max_age_days else None
        return queue_repo.QueueQuery(min_risk=threshold, kinds=self.kinds, platforms=self.platforms, since=since,
                                     mark=self.mark, search=self.search.strip()[:200], limit=limit, offset=offset)


@dataclass(frozen=True, slots=True, kw_only=True)
class QueuePage:
    """One page of the queue with the true count of matching items and the count per risk kind."""

    items: list[QueueItem]
    total: int
    page: int
    page_size: int
    by_kind: dict[str, int]

    @property
    def pages(self) -> int:
        """How many pages the matching items fill (at least 1)."""
        return max(1, -(-self.total // self.page_size))


def queue_page(db: Database, threshold: float, now: datetime, filt: QueueFilter | None = None, *, page: int = 0,
               page_size: int = PAGE_SIZE, target: timedelta = timedelta(minutes=60)) -> QueuePage:
    """Page ``page`` (from 0) of the items matching ``filt``: severe first, then by priority; exact counts."""
    filt = filt or QueueFilter()
    size = max(1, min(page_size, 200))
    base = filt.query(threshold, now, limit=size, offset=max(0, page) * size)
    total = queue_repo.count_queue(db, base)
    items = [build_item(db, item, now, target) for item in queue_repo.list_queue(db, base)]
    return QueuePage(items=items, total=total, page=max(0, page), page_size=size,
                     by_kind=queue_repo.count_by_kind(db, base))


def queue_count(db: Database, threshold: float, now: datetime, filt: QueueFilter | None = None) -> int:
    """How many items match ``filt`` (exact, no cap)."""
    return queue_repo.count_queue(db, (filt or QueueFilter()).query(threshold, now))


def matching_uids(db: Database, threshold: float, now: datetime, filt: QueueFilter) -> list[str]:
    """Every uid the filter matches, in queue order (what « tout sélectionner » selects)."""
    return queue_repo.queue_uids(db, filt.query(threshold, now))


def queue(db: Database, threshold: float, now: datetime, *, target: timedelta = timedelta(minutes=60),
          limit: int = QUEUE_LIMIT) -> list[QueueItem]:
    """Items with a risk score >= ``threshold`` and no final decision yet, severe first then by priority."""
    rows = queue_repo.list_queue(db, queue_repo.QueueQuery(min_risk=threshold, limit=limit))
    return [build_item(db, item, now, target) for item in rows]


def hidden_items(db: Database, now: datetime, *, target: timedelta = timedelta(minutes=60)) -> list[QueueItem]:
    """Mentions currently hidden (so that they can be made visible again)."""
    return [build_item(db, repo.get_item(db, uid), now, target) for uid in moderation_actions_repo.hidden_uids(db)]


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingConfirmation:
    """A request waiting for the director, with the message it is about."""

    request: moderation_actions_repo.ConfirmationRequest
    item: InboxItem


def pending_confirmations(db: Database, *, viewer: Agent) -> list[PendingConfirmation]:
    """Hide/delete/ban requests on elected officials' messages waiting for the director, oldest first."""
    require(viewer, Action.INBOX_READ)
    return [PendingConfirmation(request=r, item=repo.get_item(db, r.mention_uid))
            for r in moderation_actions_repo.pending_requests(db)]


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenAct:
    """A moderation act sent to the platform whose outcome is not settled: being sent or checked (``sending``),
    or « à vérifier » for a person (decision 0051)."""

    act: acts_repo.Act
    item: InboxItem | None


def open_acts(db: Database, *, viewer: Agent) -> list[OpenAct]:
    """Moderation acts being sent, being checked on the platform, or left « à vérifier », oldest first."""
    require(viewer, Action.INBOX_READ)
    out = []
    for act in acts_repo.acts_in_state(db, ["sending", "to_verify"]):
        try:
            item: InboxItem | None = repo.get_item(db, act.mention_uid)
        except NotFoundError:
            item = None
        out.append(OpenAct(act=act, item=item))
    return out


def crisis(db: Database, now: datetime, settings: Settings | None = None) -> crisis_mod.CrisisStatus:
    """Whether negative or risky mentions in the last hour exceed the usual rate (moderation/crisis.py)."""
    multiple = settings.crisis.multiple if settings else crisis_mod.DEFAULT_MULTIPLE
    min_count = settings.crisis.min_count if settings else crisis_mod.DEFAULT_MIN_COUNT
    since = now - timedelta(hours=1 + crisis_mod.DEFAULT_BASELINE_H)
    times = moderation_repo.negative_or_risky_times(db, since, risk_min=crisis_mod.NEGATIVE_RISK_MIN)
    return crisis_mod.detect_crisis(times, now, multiple=multiple, min_count=min_count)


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeToActionReport:
    """Decisions on unlawful items since a date, against the target."""

    decided: int
    within_target: int
    median_minutes: float | None
    target_minutes: float


def time_to_action_report(db: Database, since: datetime, *, target: timedelta) -> TimeToActionReport:
    """First final decision per unlawful item since ``since``: how many met the target, the median delay."""
    first: dict[str, int] = {}
    for d in moderation_actions_repo.decisions_since(db, since):
        if d.unlawful and d.action in FINAL_ACTIONS and d.mention_uid not in first:
            first[d.mention_uid] = d.seconds_to_action
    delays = sorted(first.values())
    median = None
    if delays:
        mid = len(delays) // 2
        median = (delays[mid] if len(delays) % 2 else (delays[mid - 1] + delays[mid]) / 2) / 60
    ok = sum(1 for s in delays if s <= target.total_seconds())
    return TimeToActionReport(decided=len(delays), within_target=ok, median_minutes=median,
                              target_minutes=target.total_seconds() / 60)
